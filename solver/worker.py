"""The one function the solver's workers run: `run(task, *args)`, dispatched by name.

The server pickles a reference to `run` (never the heavy modules), so importing
`analysis.equations` in the web server does not import sympy or matplotlib; the workers import
them once, when they start (see service.PRELOAD), and `warm()` pays sympy's first-call costs
there too.
"""

from __future__ import annotations

from typing import Any


def run(task: str, *args: Any, **kwargs: Any) -> Any:
    """Run one named task in this (worker) process and return its plain result."""
    return _tasks()[task](*args, **kwargs)


def _tasks() -> dict:
    from analysis.equations import actions
    from rendition.equation_plot import plot_equations

    return {
        "evaluate": actions.evaluate,
        "transform": actions.transform,
        "solve": actions.solve,
        "nsolve": actions.numeric_solve,
        "plot": plot_equations,  # format "png" | "svg" (bytes) or "lines" (plain dict)
        "fit": fit_and_draw,
    }


def fit_and_draw(problem) -> dict:
    """{"result": the fit's dict, "plot": PNG/SVG bytes, the plot's plain dict, or None}."""
    from analysis.equations.fitting import fit
    from rendition.fit_plot import render_fit_image

    answer = fit(problem)
    if problem.plot in ("png", "svg"):
        answer["plot"] = render_fit_image(answer["plot"], problem.width, problem.height,
                                          problem.plot)
    return answer


def warm() -> None:
    """Solve, print and plot something small, so a fresh worker's first answer is fast."""
    from analysis.equations import actions
    from rendition.equation_plot import plot_equations

    actions.solve(["x^2 - 10y + 10", "10x + 5y - 3"])
    actions.transform("integrate", "x sin(x)")
    plot_equations(["x^2", "2x + 1 = y"], (-3.0, 3.0), 200, 150)
    plot_equations(["x^3 + y^3 = 3x y"], (-3.0, 3.0), format="lines")
    _warm_fit()


def _warm_fit() -> None:
    import numpy as np

    from analysis.equations.fit_problem import FitProblem

    t = np.arange(8) / 4
    problem = FitProblem(model="y = a*exp(b*t)", parameters=("a", "b"),
                         data={"t": t, "y": 2 * np.exp(0.3 * t) + 0.01 * np.cos(7 * t)},
                         labels=tuple(map(str, range(8))), response="y", x="t",
                         solve="y = 3", derived=("log(2)/b",), at=(1.0,), at_labels=("1",),
                         plot="png", width=200, height=150)
    fit_and_draw(problem)
