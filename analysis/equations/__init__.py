"""Safe equation solving: our own parser, actions run in a limited worker pool.

The web layer calls only these (service.py); each validates in the server and runs the work in
`service.POOL`. See parser.py for what is accepted and refused.
"""

from analysis.equations.service import (
    POOL,
    evaluate_expression,
    numeric_solve,
    plot_equations,
    plot_equations_png,
    solve_equations,
    transform,
    transform_expression,
)

__all__ = [
    "POOL",
    "evaluate_expression",
    "numeric_solve",
    "plot_equations",
    "plot_equations_png",
    "solve_equations",
    "transform",
    "transform_expression",
]
