"""The parser: what people type becomes the right sympy object; nothing else gets through."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy

from analysis.equations.build import parse
from analysis.equations.parser import check
from errors import BadInput, QuartileError, Unprocessable

x, y, r = sympy.symbols("x y r")
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2", x**2),
        ("x**2", x**2),
        ("x^-2", 1 / x**2),
        ("2x", 2 * x),
        ("2 x", 2 * x),
        ("2(x+1)", 2 * (x + 1)),
        ("(x+1)(x-1)", (x + 1) * (x - 1)),
        ("x(x+1)", x * (x + 1)),
        ("2 sin(x)", 2 * sympy.sin(x)),
        ("2sin (x)", 2 * sympy.sin(x)),
        ("3x y", 3 * x * y),
        ("3xy", 3 * sympy.Symbol("xy")),
        ("x2", sympy.Symbol("x2")),
        ("2pi r", 2 * sympy.pi * r),
        ("2πr", 2 * sympy.pi * r),
        ("x² + 2x³", x**2 + 2 * x**3),
        ("3 − 2×x ÷ 4", 3 - 2 * x / 4),
        ("ln(e)", sympy.Integer(1)),
        ("log(8, 2)", sympy.Integer(3)),
        ("e^(i pi)", sympy.Integer(-1)),
        ("I^2", sympy.Integer(-1)),
        ("E", sympy.E),
        ("-oo", -sympy.oo),
        ("sqrt(8)", 2 * sympy.sqrt(2)),
        ("abs(-3)", sympy.Integer(3)),
        ("floor(7/2) + ceiling(7/2)", sympy.Integer(7)),
        ("factorial(5)", sympy.Integer(120)),
        ("min(3, 1, 2) + max(x, x)", 1 + x),
        ("asinh(0) + acosh(1) + atanh(0) + asin(0) + acos(1) + atan(0)", sympy.Integer(0)),
        ("sinh(0) + cosh(0) + tanh(0) + tan(0) + exp(0)", sympy.Integer(2)),
        (
            "a - b + c - d",
            sympy.Symbol("a") - sympy.Symbol("b") + sympy.Symbol("c") - sympy.Symbol("d"),
        ),
        ("x/2/2", x / 4),
        ("2^3^2", sympy.Integer(512)),  # right-associative, as in Python and in maths
        ("007x", 7 * x),
    ],
)
def test_what_people_type(text, expected):
    built = parse(text).as_sympy()
    assert built == expected or sympy.simplify(built - expected) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1", sympy.Rational(1, 10)),
        ("0.1 + 0.2", sympy.Rational(3, 10)),  # exact decimals, not binary floats
        ("2.5e3", sympy.Integer(2500)),
        ("1.5e-30", sympy.Rational(15, 10**31)),
        (".5x", x / 2),
    ],
)
def test_decimals_are_exact(text, expected):
    assert parse(text).as_sympy() == expected


def test_an_equation_has_two_sides():
    parsed = parse("x^2 + 2x = 3")
    assert parsed.is_equation
    assert parsed.lhs == x**2 + 2 * x and parsed.rhs == 3
    assert sympy.expand(parsed.as_expression() - (x**2 + 2 * x - 3)) == 0
    assert parsed.names == {"x"}


def test_names_are_the_variables_only():
    assert check("sin(x) + pi*e + y^2 = log(z, 2)").names == {"x", "y", "z"}


def test_values_are_put_in_exactly():
    assert parse("x^2 + 3x y", values={"x": 2, "y": 0.5}).as_sympy() == 7
    assert parse("x + 0.1", values={"x": 0.2}).as_sympy() == sympy.Rational(3, 10)


def test_long_sums_are_one_level_not_deep():
    text = "+".join(f"{n}x" for n in range(1, 300))  # 299 terms, ~1,500 characters
    assert parse(text).as_sympy() == sum(range(1, 300)) * x


def test_exact_checks_allow_large_but_reasonable_numbers():
    assert parse("(10^999)^2").as_sympy() == sympy.Integer(10) ** 1998
    assert parse("factorial(1000)/factorial(999)").as_sympy() == 1000
    assert parse("2^(10^400/10^399)").as_sympy() == 1024


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("(x+1", "syntax_error", "the '(' at column 1 is never closed"),
        ("2*(x+1", "syntax_error", "the '(' at column 3 is never closed"),
        ("x+1)", "syntax_error", "Unexpected ')' at column 4"),
        ("()", "syntax_error", "Empty parentheses at column 1"),
        ("x, y", "syntax_error", "',' at column 2 is only allowed between a function's"),
        ("x +", "syntax_error", "something is missing after '+' at column 3"),
        ("x ^", "syntax_error", "something is missing after '^' at column 3"),
        ("2^^3", "syntax_error", "not well formed at column 3"),
        ("12 34", "syntax_error", "Two numbers in a row at column 4"),
        ("x == 1", "syntax_error", "Use a single '='"),
        ("x = y = 1", "syntax_error", "another at column 7"),
        ("x =", "syntax_error", "needs something on both sides"),
        ("sin(x = 1)", "syntax_error", "inside parentheses"),
        ("foo(x)", "unknown_function", "Unknown function 'foo' at column 1. Allowed: abs,"),
        ("xy(2)", "unknown_function", "To multiply, write xy*(...)"),
        ("sin x", "reserved_name", "'sin' (column 1) is a function"),
        ("min(x)", "wrong_arguments", "min() at column 1 takes 2 to 6 arguments, not 1"),
        ("x//2", "not_allowed", "'//' at column 2"),
        ("x % 2", "not_allowed", "'%' at column 3"),
        ("x.y", "not_allowed", "Attribute access ('.' at column 2)"),
        ("x_1", "not_allowed", "'_' at column 2 is not allowed in names"),
        ("_x", "not_allowed", "Names may not start with '_' (column 1)"),
        ("x＿1", "not_allowed", "FULLWIDTH LOW LINE) at column 2 looks like '_'"),
        ("ｘ", "not_allowed", "looks like 'x' but is a different character"),
        ("𝑥 + 1", "not_allowed", "looks like 'x'"),  # mathematical italic x
        ("х", "not_allowed", "CYRILLIC SMALL LETTER HA"),
        ("x\u200b", "not_allowed", "ZERO WIDTH SPACE"),
        ("‘a’", "not_allowed", "Strings are not allowed"),
        ("True", "not_allowed", "Python keyword"),
        ("x" * 31, "not_allowed", "longer than 30 characters"),
        ("", "empty", "The expression is empty"),
        (" \n\t", "empty", "The expression is empty"),
    ],
)
def test_errors_say_what_and_where(text, code, message):
    with pytest.raises(BadInput) as caught:
        check(text)
    assert caught.value.code == code
    assert message in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("x+" * 1500 + "x", "too_long", "3,001 characters long; the limit is 2,000"),
        ("(" * 51 + "x" + ")" * 51, "too_deep", "nested more than 50 parentheses deep"),
        ("-" * 60 + "x", "too_deep", "nested more than 50 levels deep"),
        ("x^" * 60 + "x", "too_deep", "nested more than 50 levels deep"),
        ("x" + " x" * 999, "too_large", "more than 1500 parts"),
        ("9**9**9**9", "too_large", "the one at column 7 is about 3.87e+08"),
        ("x^(10^6)", "too_large", "Exponents are limited to ±1000"),
        ("(2^1000)^1000", "too_large", "about 301,030 digits"),
        ("factorial(1001)", "too_large", "factorial() is limited to arguments up to 1000"),
        ("1" * 31, "too_large", "at most 30 digits"),
        ("1e301", "too_large", "up to ±300"),
    ],
)
def test_caps_apply_before_any_work(text, code, message):
    started = time.perf_counter()
    with pytest.raises(Unprocessable) as caught:
        check(text)
    assert time.perf_counter() - started < 0.05
    assert caught.value.code == code
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("x/0", None, "Division by zero"),
        ("0^-1", None, "is undefined"),
        ("*".join(["10^999"] * 12), None, "more than 10,000 digits"),
        ("2^oo", None, "the one at column 3 is not finite"),
        ("2^(10^400/10^396)", None, "the one at column 4 is about 1e+04"),  # float overflows
        ("factorial(n)", {"n": 1001}, "factorial() is limited"),
        ("x^y", {"x": 2, "y": 1001}, "Exponents are limited"),
        ("x^1000", {"x": 1e300}, "about 300,000 digits"),
    ],
)
def test_exact_checks_in_the_worker(text, values, message):
    check(text)  # passes the structural checks...
    with pytest.raises(Unprocessable) as caught:
        parse(text, values=values)  # ...and is refused, exactly, before sympy computes it
    assert message in caught.value.message


def test_an_overflowing_estimate_is_not_a_refusal():
    assert parse("2^(10^400/10^397)").as_sympy() == sympy.Integer(2) ** 1000


def test_not_text_is_refused():
    with pytest.raises(BadInput, match="must be text, not int"):
        check(12)


FORBIDDEN = {"sympify", "parse_expr", "eval", "exec", "compile", "S", "__import__", "getattr"}


def package_sources() -> list[Path]:
    return sorted((ROOT / "analysis" / "equations").glob("*.py")) + [
        ROOT / "rendition" / "equation_plot.py"
    ]


def forbidden_names(path: Path) -> list[str]:
    """Every use of a forbidden name: called, referenced, imported or aliased."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            if owner == "re" and node.attr == "compile":  # our own tokenizer's pattern
                continue
            name = node.attr
        elif isinstance(node, ast.alias):
            name = node.name.split(".")[-1]
        else:
            continue
        if name in FORBIDDEN:
            found.append(f"{path.name}:{getattr(node, 'lineno', '?')} {name}")
    return found


def test_the_package_never_evaluates_user_text():
    assert len(package_sources()) >= 9
    offenders = [hit for path in package_sources() for hit in forbidden_names(path)]
    assert offenders == []


def test_the_scan_would_catch_an_eval(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import sympy\nfrom sympy import sympify as s\nf = sympy.parse_expr\neval('1')\n"
    )
    assert [hit.split()[-1] for hit in forbidden_names(module)] == [
        "sympify",
        "parse_expr",
        "eval",
    ]


def test_hostile_rejection_takes_microseconds():
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(QuartileError):
            check("__import__('os').system('id')")
    assert (time.perf_counter() - started) / 100 < 0.005


def test_the_server_side_never_imports_sympy():
    """The web server only checks text; sympy objects are built in the solver's workers."""
    code = (
        "import sys, solver\n"
        "from solver import service\n"
        "service.check('x^2 + 2x = sin(y)')\n"
        "assert not {'sympy', 'numpy', 'matplotlib'} & set(sys.modules), sys.modules.keys()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
