"""Plots of typed equations: the numbers drawn, the crossings marked, and the PNG itself."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from matplotlib.image import imread

from analysis.equations.plotting import plot_data
from errors import BadInput, Unprocessable
from rendition.equation_plot import plot_equations_png
from solver import service
from tests.equations_fixtures import solver_pool

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pool():
    yield from solver_pool()


def newton(f, df, start: float) -> float:
    value = start
    for _ in range(100):
        value -= f(value) / df(value)
    return value


def test_the_books_system_crossings_are_marked():
    data = plot_data(["x^2-10*y+10", "10*x+5*y-3"], (-25.0, 5.0))
    assert [c.label for c in data.curves] == ["x^2-10*y+10", "10*x+5*y-3"]
    got = [value for p in data.points for value in (p.x, p.y)]
    r6 = math.sqrt(6)
    expected = [-10 - 4 * r6, 103 / 5 + 8 * r6, -10 + 4 * r6, 103 / 5 - 8 * r6]
    assert got == pytest.approx(expected, rel=1e-12)
    assert data.points[0].label == f"({-10 - 4 * r6:.4g}, {103 / 5 + 8 * r6:.4g})"
    # the parabola y = (x^2 + 10)/10 is sampled exactly
    parabola = data.curves[0]
    assert parabola.y == pytest.approx((parabola.x**2 + 10) / 10, rel=1e-12)
    low, high = data.y_range
    assert low < min(p.y for p in data.points) and high > max(p.y for p in data.points)


def test_crossings_without_closed_form_are_found_numerically():
    data = plot_data(["sin(x)", "y = x/2"], (-4.0, 4.0))
    root = newton(lambda t: math.sin(t) - t / 2, lambda t: math.cos(t) - 0.5, 2.0)
    got = sorted(p.x for p in data.points)
    assert got == pytest.approx([-root, 0.0, root], abs=1e-9)


def test_poles_are_not_crossings_and_are_not_joined():
    data = plot_data(["tan(x)", "1/x"], (-5.0, 5.0))
    # x tan(x) = 1: roots near ±0.86 and ±3.43, none at the poles ±pi/2 or at 0
    roots = [
        newton(lambda t: t * math.tan(t) - 1, lambda t: math.tan(t) + t / math.cos(t) ** 2, s)
        for s in (0.9, 3.4)
    ]
    got = sorted(p.x for p in data.points)
    assert got == pytest.approx(sorted([-roots[1], -roots[0], roots[0], roots[1]]), abs=1e-9)
    tangent = data.curves[0]
    near_pole = np.abs(tangent.x - math.pi / 2) < 0.01
    assert np.isnan(tangent.y[near_pole]).any()
    low, high = data.y_range
    assert -100 < low < 0 < high < 100  # clipped to the bulk, not to the poles


def test_an_equation_solvable_for_y_gives_its_branches():
    data = plot_data(["x^2 + y^2 = 4"], (-3.0, 3.0))
    assert len(data.curves) == 2 and not data.implicit
    upper = max(data.curves, key=lambda c: np.nanmax(c.y))
    inside = np.abs(upper.x) < 2
    assert upper.y[inside] == pytest.approx(np.sqrt(4 - upper.x[inside] ** 2), rel=1e-9)
    assert np.isnan(upper.y[np.abs(upper.x) > 2]).all()


@pytest.mark.parametrize(("equation", "x_range", "ends"), [
    ("x^2 + y^2 = 2", (-3.0, 3.0), [(-math.sqrt(2), 0.0), (math.sqrt(2), 0.0)]),
    ("x^2/9 + (y-1)^2/4 = 1", (-5.0, 5.0), [(-3.0, 1.0), (3.0, 1.0)]),
    ("y^2 = x", (-1.0, 4.0), [(0.0, 0.0)]),
])
def test_the_branches_of_a_closed_curve_meet_without_a_gap(equation, x_range, ends):
    """Regression: evenly spaced samples stopped short of where the branches meet (a vertical
    tangent), so a circle was drawn with gaps at its sides."""
    data = plot_data([equation], x_range)
    assert len(data.curves) == 2
    for curve in data.curves:
        drawn = np.isfinite(curve.y)
        x, y = curve.x[drawn], curve.y[drawn]
        for x0, y0 in ends:
            at = np.flatnonzero(np.isclose(x, x0, rtol=0, atol=1e-12))
            assert at.size == 1 and y[at[0]] == pytest.approx(y0, abs=1e-12)
        step = (x_range[1] - x_range[0]) / 800
        # the drawn line has no segment much longer than the sampling step along a steep side
        assert np.max(np.hypot(np.diff(x), np.diff(y))) < 12 * step


def test_other_curves_are_drawn_implicitly():
    data = plot_data(["x^3 + y^3 = 3x y"], (-3.0, 3.0))
    assert not data.curves and len(data.implicit) == 1
    grid = data.implicit[0]
    assert grid.z == pytest.approx(grid.x**3 + grid.y**3 - 3 * grid.x * grid.y, rel=1e-9)


def test_plots_use_x_and_y_only():
    with pytest.raises(BadInput, match="also has t"):
        plot_data(["t^2"], (0.0, 1.0))


def test_png_is_valid_and_of_the_asked_size(tmp_path):
    png = plot_equations_png(["x^2-10*y+10", "10*x+5*y-3"], (-25.0, 5.0), 640, 400)
    assert png.startswith(PNG_SIGNATURE)
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (400, 640)
    assert image[..., :3].std() > 0.05  # something was drawn
    (tmp_path / "book.png").write_bytes(png)


def test_functions_numpy_lacks_are_still_drawn():
    data = plot_data(["factorial(x)", "floor(x)", "abs(x) - 1", "max(x, 1)"], (0.0, 4.0))
    factorial = data.curves[0]
    assert factorial.y[-1] == pytest.approx(math.gamma(5.0))  # 4! at x = 4
    assert data.curves[1].y == pytest.approx(np.floor(data.curves[1].x))


def test_plot_through_the_pool(pool):
    png = service.plot_equations(["sin(x)", "x/2"], [-4, 4], 300, 200, pool=pool)
    assert imread(io.BytesIO(png), format="png").shape[:2] == (200, 300)


def test_a_curve_that_cannot_be_sampled_is_a_clear_422(monkeypatch):
    from analysis.equations import plotting

    # what numpy's own factorial did before: math.factorial of an array is a TypeError
    monkeypatch.setitem(plotting._NUMPY_EXTRA, "factorial", math.factorial)
    with pytest.raises(Unprocessable, match="'factorial\\(x\\)' cannot be drawn"):
        plot_data(["factorial(x)"], (0.0, 1.0))
