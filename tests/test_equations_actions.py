"""The actions (run in-process here; the pool path is in test_equations_hostile/api).

Every expected value is built by hand in the test: sympy objects written out, or numbers from
math/numpy/scipy — never the code's own earlier output.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from scipy.integrate import quad

from analysis.equations import actions
from errors import BadInput, Unprocessable

x, y, z = sympy.symbols("x y z")
R6 = sympy.sqrt(6)


def texts(solution: dict) -> dict:
    return {name: value["text"] for name, value in solution.items()}


def assert_value(value: dict, expected: sympy.Expr) -> None:
    """text and LaTeX exactly sympy's forms of the hand-built value; numeric from math."""
    assert value["text"] == sympy.sstr(expected)
    assert value["latex"] == sympy.latex(expected)
    approx = complex(expected.evalf(30)) if expected.is_number else None
    if approx is None or approx.imag:
        assert value["numeric"] is None
    else:
        assert value["numeric"] == pytest.approx(approx.real, rel=1e-15, abs=1e-300)


# -- the book's systems -----------------------------------------------------------------------
def test_the_books_linear_system_exactly():
    # 5x - 3y = 9, 15x + 3y = -12: adding gives 20x = -3; then y = (5x - 9)/3
    x_hand = sympy.Rational(-3, 20)
    y_hand = (5 * x_hand - 9) / 3
    assert y_hand == sympy.Rational(-13, 4)
    result = actions.solve(["5*x-3*y-9", "15*x+3*y+12"])
    (solution,) = result["solutions"]
    assert texts(solution) == {"x": "-3/20", "y": "-13/4"}
    assert_value(solution["x"], x_hand)
    assert_value(solution["y"], y_hand)
    assert solution["x"]["numeric"] == -0.15 and solution["y"]["numeric"] == -3.25
    assert result["variables"] == ["x", "y"] and result["method"] == "exact"


def test_the_books_nonlinear_system_exactly():
    # y = (3 - 10x)/5 into x^2 - 10y + 10 = 0: x^2 + 20x - 4 = 0, x = -10 ± sqrt(104) = -10 ± 4√6
    result = actions.solve(["x**2-10*y+10", "10*x+5*y-3"])
    low, high = result["solutions"]  # sorted by x
    assert texts(low) == {"x": "-10 - 4*sqrt(6)", "y": "8*sqrt(6) + 103/5"}
    assert texts(high) == {"x": "-10 + 4*sqrt(6)", "y": "103/5 - 8*sqrt(6)"}
    for solution, sign in ((low, -1), (high, 1)):
        x_hand = -10 + sign * 4 * R6
        y_hand = (3 - 10 * x_hand) / 5
        assert sympy.expand(y_hand - (sympy.Rational(103, 5) - sign * 8 * R6)) == 0
        assert_value(solution["x"], x_hand)
        assert solution["y"]["numeric"] == pytest.approx(103 / 5 - sign * 8 * math.sqrt(6))
        assert solution["x"]["numeric"] == pytest.approx(-10 + sign * 4 * math.sqrt(6))


def test_the_same_systems_typed_as_people_type_them():
    linear = actions.solve(["5x - 3y = 9", "15x + 3y = -12"])
    assert texts(linear["solutions"][0]) == {"x": "-3/20", "y": "-13/4"}
    nonlinear = actions.solve(["x^2 - 10y + 10 = 0", "10x + 5y = 3"])
    assert [texts(s)["x"] for s in nonlinear["solutions"]] == ["-10 - 4*sqrt(6)", "-10 + 4*sqrt(6)"]


# -- one equation: =, ^, ln, e, i, pi, implicit multiplication --------------------------------
@pytest.mark.parametrize(
    ("equation", "expected"),
    [
        ("2x + 1 = 5", [sympy.Integer(2)]),
        ("x^2 = 9", [sympy.Integer(-3), sympy.Integer(3)]),
        ("(x+1)(x-2)", [sympy.Integer(-1), sympy.Integer(2)]),
        ("ln(x) = 2", [sympy.exp(2)]),
        ("e^x = 1", [sympy.Integer(0)]),
        ("pi x = 1", [1 / sympy.pi]),
        ("abs(x) = 2", [sympy.Integer(-2), sympy.Integer(2)]),
        ("x^3 - 6x^2 + 11x - 6", [sympy.Integer(1), sympy.Integer(2), sympy.Integer(3)]),
        ("sqrt(x) = 3", [sympy.Integer(9)]),
    ],
)
def test_one_equation(equation, expected):
    result = actions.solve([equation])
    assert [s["x"]["text"] for s in result["solutions"]] == [sympy.sstr(e) for e in expected]


def test_real_and_complex_domains():
    real = actions.solve(["x^2 + 1 = 0"], domain="real")
    assert real["solutions"] == []
    assert "No real solution" in real["note"] and "complex domain" in real["note"]
    roots = actions.solve(["x^2 + 1 = 0"], domain="complex")["solutions"]
    assert [s["x"]["text"] for s in roots] == [sympy.sstr(-sympy.I), sympy.sstr(sympy.I)]
    assert [s["x"]["numeric"] for s in roots] == [None, None]
    assert [s["x"]["numeric_imag"] for s in roots] == [-1.0, 1.0]
    assert [s["x"]["numeric_real"] for s in roots] == [0.0, 0.0]
    assert actions.solve(["x^2 = -4"], domain="complex")["solutions"][1]["x"]["text"] == "2*I"
    assert actions.solve(["exp(x) = -1"], domain="complex")["solutions"][0]["x"]["text"] == "I*pi"


def test_real_roots_written_with_complex_radicals_are_kept():
    # x^3 - 3x + 1 has three real roots (casus irreducibilis): sympy writes them with I
    result = actions.solve(["x^3 - 3x + 1"], domain="real")
    got = [s["x"]["numeric"] for s in result["solutions"]]
    assert got == pytest.approx(sorted(np.roots([1, 0, -3, 1]).real), abs=1e-12)


def test_periodic_equations_say_so():
    result = actions.solve(["sin(x) = 0"])
    assert [s["x"]["text"] for s in result["solutions"]] == ["0", "pi"]
    assert "one period" in result["note"]


def test_solutions_are_sorted_deterministically():
    equations = ["x^2 + y^2 = 25", "y = x - 1"]  # (-3, -4) and (4, 3)
    first = actions.solve(equations)
    assert [texts(s) for s in first["solutions"]] == [{"x": "-3", "y": "-4"}, {"x": "4", "y": "3"}]
    assert actions.solve(list(reversed(equations))) == {
        **first,
        "input_latex": list(reversed(first["input_latex"])),
        "input_mathml": list(reversed(first["input_mathml"])),
    }


# -- more unknowns than equations, and no closed form -----------------------------------------
def test_more_unknowns_than_equations_gives_the_parametric_solution():
    result = actions.solve(["x + y + z = 1"])
    assert result["free"] == ["y", "z"]
    assert result["solutions"][0]["x"]["text"] == sympy.sstr(1 - y - z)
    assert "more unknowns than independent equations" in result["note"]
    chosen = actions.solve(["x + y = 1"], ["y"])
    assert texts(chosen["solutions"][0]) == {"y": sympy.sstr(1 - x)}
    assert "free" not in chosen


def test_inconsistent_system():
    result = actions.solve(["x + y = 1", "x + y = 2"], domain="complex")
    assert result["solutions"] == [] and "inconsistent" in result["note"]


def exact_gauss(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gauss-Jordan elimination in fractions, by hand (the test's own exact answer)."""
    n = len(rows)
    a = [list(row) + [b] for row, b in zip(rows, rhs, strict=True)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                factor = a[r][col] / a[col][col]
                a[r] = [v - factor * p for v, p in zip(a[r], a[col], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_linear_systems_with_rational_coefficients_exactly(size):
    rng = np.random.default_rng(size)
    names = ["x", "y", "z", "w"][:size]
    while True:
        rows = [[Fraction(int(c), int(d)) for c, d in zip(rng.integers(-9, 10, size),
                                                           rng.integers(1, 5, size), strict=True)]
                for _ in range(size)]
        if sympy.Matrix(rows).det() != 0:
            break
    rhs = [Fraction(int(v), 3) for v in rng.integers(-50, 50, size)]
    equations = [" + ".join(f"({c})*{n}" for c, n in zip(row, names, strict=True)) + f" = {b}"
                 for row, b in zip(rows, rhs, strict=True)]
    expected = exact_gauss(rows, rhs)
    (solution,) = actions.solve(equations)["solutions"]
    for name, value in zip(names, expected, strict=True):
        assert_value(solution[name], sympy.Rational(value.numerator, value.denominator))


@pytest.mark.parametrize("equations", [
    ["0.5*x + 0.25*y = 1", "x - y = 0.5"],  # floats: sympy.solve's own rounding
    ["sqrt(2)*x + y = 1", "x - y = 0"],  # an irrational answer
    ["x**2 = 4", "x + y = 1"],  # nonlinear
    ["x + y = 1", "2*x + 2*y = 2"],  # infinitely many
    ["a*x + y = 1", "x - y = 0"],  # a symbolic coefficient (solved for x and y)
])
def test_other_systems_are_answered_by_sympy_solve_as_before(equations):
    unknowns = [x, y]
    parsed = [sympy.sympify(e.replace("=", "-(") + ")") for e in equations]
    by_sympy = sympy.solve(parsed, unknowns, dict=True)
    assert actions.solve_exact(parsed, unknowns) == by_sympy


def fixed_point_of_cos() -> float:
    value = 1.0
    for _ in range(200):  # Newton on cos(v) - v, by hand
        value -= (math.cos(value) - value) / (-math.sin(value) - 1)
    return value


def test_numeric_solve_of_cos_x_equals_x():
    expected = fixed_point_of_cos()
    assert expected == pytest.approx(0.7390851332151607, abs=1e-15)
    result = actions.numeric_solve(["cos(x) = x"], None, {"x": 1})
    value = result["solutions"][0]["x"]
    assert value["numeric"] == pytest.approx(expected, abs=1e-15)
    assert value["text"] == "0.739085133215161"
    assert result["method"] == "nsolve" and result["start"] == {"x": 1}


def test_solve_without_closed_form_asks_for_a_start_or_uses_it():
    with pytest.raises(Unprocessable) as caught:
        actions.solve(["cos(x) = x"])
    assert caught.value.code == "no_closed_form"
    assert "Give a starting point for a numeric solve" in caught.value.message
    result = actions.solve(["cos(x) = x"], start={"x": 0.5})
    assert result["method"] == "nsolve"
    assert result["solutions"][0]["x"]["numeric"] == pytest.approx(fixed_point_of_cos())
    assert "numeric solution" in result["note"]


def test_numeric_solve_of_a_system():
    # x^2 + y^2 = 4, y = exp(x) - 1: check the root found satisfies both, to 1e-12
    result = actions.numeric_solve(["x^2 + y^2 = 4", "y = exp(x) - 1"], None, {"x": 1, "y": 1})
    found = result["solutions"][0]
    xv, yv = found["x"]["numeric"], found["y"]["numeric"]
    assert xv**2 + yv**2 == pytest.approx(4, abs=1e-12)
    assert yv == pytest.approx(math.exp(xv) - 1, abs=1e-12)


def test_numeric_solve_needs_a_square_system_and_says_when_it_fails():
    with pytest.raises(BadInput, match="as many equations as unknowns"):
        actions.numeric_solve(["x + y = 1"], None, {})
    with pytest.raises(Unprocessable, match="did not converge"):
        actions.numeric_solve(["x^2 + 1 = 0"], None, {"x": 1})


# -- evaluate -------------------------------------------------------------------------------
def test_evaluate_at_values_exactly():
    result = actions.evaluate("x^2 + 3x y", {"x": 2, "y": 0.5})
    assert_value(result["value"], sympy.Integer(2) ** 2 + 3 * 2 * sympy.Rational(1, 2))
    assert result["input_latex"] == sympy.latex(x**2 + 3 * x * y)
    assert_value(actions.evaluate("sqrt(x)", {"x": 2})["value"], sympy.sqrt(2))
    assert_value(actions.evaluate("x + 0.1", {"x": 0.2})["value"], sympy.Rational(3, 10))
    assert_value(actions.evaluate("x + y", {"x": 3})["value"], y + 3)


def test_evaluate_an_equation_gives_lhs_minus_rhs():
    result = actions.evaluate("x^2 + y^2 = 25", {"x": 3, "y": 4})
    assert result["value"]["text"] == "0" and "equation holds" in result["note"]


# -- calculus and algebra -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "expression", "extra", "expected"),
    [
        ("differentiate", "x^3 sin(x)", {}, 3 * x**2 * sympy.sin(x) + x**3 * sympy.cos(x)),
        ("differentiate", "x^4", {"order": 2}, 12 * x**2),
        ("differentiate", "x^2 y", {"variable": "y"}, x**2),
        ("differentiate", "ln(x)", {}, 1 / x),
        ("integrate", "2x", {}, x**2),
        ("integrate", "x sin(x)", {}, sympy.sin(x) - x * sympy.cos(x)),
        ("integrate", "x^2", {"lower": "0", "upper": "3"}, sympy.Integer(9)),
        ("integrate", "exp(-x^2)", {"lower": "-oo", "upper": "oo"}, sympy.sqrt(sympy.pi)),
        ("factor", "x^2 - 1", {}, (x - 1) * (x + 1)),
        ("expand", "(x+1)^2", {}, x**2 + 2 * x + 1),
        ("simplify", "sin(x)^2 + cos(x)^2", {}, sympy.Integer(1)),
    ],
)
def test_calculus_and_algebra(action, expression, extra, expected):
    result = actions.transform(action, expression, **extra)
    assert result["value"]["text"] == sympy.sstr(expected)


def test_definite_integral_without_closed_form_is_numeric():
    result = actions.transform("integrate", "sin(sin(x))", lower="0", upper="1")
    expected, _ = quad(lambda t: math.sin(math.sin(t)), 0, 1)
    assert result["value"]["numeric"] == pytest.approx(expected, rel=1e-12)
    assert "numeric approximation" in result["note"]


def test_gaussian_integral_numeric_is_root_pi():
    result = actions.transform("integrate", "exp(-x^2)", lower="-oo", upper="oo")
    assert result["value"]["numeric"] == pytest.approx(math.sqrt(math.pi), rel=1e-15)


def test_transform_needs_a_clear_variable():
    with pytest.raises(BadInput, match=r"Name the variable to differentiate .*\(x2, y\)"):
        actions.transform("differentiate", "x2 y")
    with pytest.raises(BadInput, match="Give both limits"):
        actions.transform("integrate", "x", lower="0")


# -- the values are JSON-safe ---------------------------------------------------------------
def test_results_are_json_safe():
    results = [
        actions.solve(["x^2 + 1 = 0"], domain="complex"),
        actions.evaluate("1/x", {"x": 1e-300}),
        actions.evaluate("factorial(-1)", {}),  # zoo: no numeric value
        actions.transform("integrate", "exp(x)", lower="0", upper="oo"),  # oo
        actions.evaluate("factorial(1000)", {}),  # finite but beyond a float
    ]
    for result in results:
        json.dumps(result, allow_nan=False)
    assert results[2]["value"]["numeric"] is None
    assert results[3]["value"]["text"] == "oo" and results[3]["value"]["numeric"] is None
    assert results[4]["value"]["numeric"] is None
    assert results[4]["value"]["text"] == str(math.factorial(1000))


def test_a_result_too_long_to_show_is_refused():
    with pytest.raises(Unprocessable, match="characters long"):
        actions.transform("expand", "(x + 1)^700")


def test_mathml_minus_is_a_true_minus_sign_and_keeps_exponents_whole():
    """Regression: sympy's hyphen-minus drew short, unspaced minus signs in the page."""
    from xml.etree import ElementTree

    from analysis.equations.values import mathml

    markup = mathml(-10 - 4 * R6)
    assert "-" not in markup and markup.count("\u2212") == 2
    small = ElementTree.fromstring(mathml(sympy.Float("-1.5e-7")).replace("&#xB7;", "·"))
    exponent = small.find(".//msup")
    assert len(exponent) == 2  # base and exponent: the negative exponent is still one child
    assert "".join(exponent[1].itertext()) == "\u22127"
