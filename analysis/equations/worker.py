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
    }


def warm() -> None:
    """Solve, print and plot something small, so a fresh worker's first answer is fast."""
    from analysis.equations import actions
    from rendition.equation_plot import plot_equations

    actions.solve(["x^2 - 10y + 10", "10x + 5y - 3"])
    actions.transform("integrate", "x sin(x)")
    plot_equations(["x^2", "2x + 1 = y"], (-3.0, 3.0), 200, 150)
    plot_equations(["x^3 + y^3 = 3x y"], (-3.0, 3.0), format="lines")
