"""Safe equation solving, the server's side: check the text here, compute in a limited worker pool.

The web layer calls only these (service.py); each validates in the server and runs the work in
`service.POOL`, whose workers run `worker.run` (compute from analysis/equations, drawing from
rendition/). See analysis/equations/parser.py for what is accepted and refused.
"""

from solver.service import (
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
