"""Safe equation solving: our own parser (parser.py), actions run in a limited worker pool."""

from analysis.equations.service import (
    evaluate_expression,
    numeric_solve,
    plot_equations,
    solve_equations,
    transform_expression,
)

__all__ = [
    "evaluate_expression",
    "numeric_solve",
    "plot_equations",
    "solve_equations",
    "transform_expression",
]
