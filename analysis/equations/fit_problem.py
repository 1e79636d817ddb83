"""What the server sends a solver worker for a fit: checked text, plain numbers, no pandas.

The server (fit_input.py) reads the sheet, checks every name and turns periods into numbers;
the worker (fitting.py) builds sympy objects from the checked text and fits. This module is
the only thing both sides import, so it imports neither pandas nor sympy: unpickling a
FitProblem in a worker (memory-limited) must not load pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PLOT_TASKS = ("png", "svg", "lines")


@dataclass(frozen=True)
class FitProblem:
    """A model `lhs = rhs` over data columns, with everything the worker needs to fit it.

    `model` and `solve` are the texts as checked by parser.check, with odd column names
    already replaced by stand-in identifiers; `names` maps every data symbol to how it is shown
    (the column's own name). `data` holds one float64 array per data symbol (rows with a
    missing value in any of them already dropped); `labels` names those rows.
    """

    model: str
    parameters: tuple[str, ...]
    data: dict[str, np.ndarray]
    labels: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict)
    response: str | None = None  # the symbol of the left side when it is one column
    x: str | None = None  # the data symbol a plot, solve or growth rate runs along
    x_offset: float = 0.0  # added to x on a plot's axis (t = years since the origin → years)
    weights: np.ndarray | None = None
    start: dict[str, float] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    solve: str | None = None
    solve_points: dict[str, float] = field(default_factory=dict)  # stand-in → x where fitted
    solve_for: str | None = None
    value: float | None = None
    derived: tuple[str, ...] = ()
    at: tuple[float, ...] = ()
    at_labels: tuple[str, ...] = ()
    plot: str | None = None  # "png" | "svg" | "lines"
    width: int = 800
    height: int = 500
    x_label: str = "x"
    periods: tuple[str, int] | None = None  # ("Q" | "M" | "Y" | "D", origin): t is periodic

    def label(self, x: float) -> str:
        """How a value of x is shown: the period containing it when x is t, else a number."""
        if self.periods is None or self.x != "t" or not np.isfinite(x):
            return f"{x:.6g}"
        return period_label(self.periods, x)


PER_YEAR = {"Q": 4, "M": 12, "Y": 1}
DAYS_PER_YEAR = 365.25


def period_label(periods: tuple[str, int], years: float) -> str:
    """The period `years` after the origin: 2031Q3, 2031-07, 2031 or a date (pandas' labels).

    `origin` is the pandas ordinal of the first period (periods since 1970) or, for dates,
    days since 1970-01-01; a time inside a period is labelled with that period.
    """
    freq, origin = periods
    if freq == "D":
        day = np.datetime64(origin + int(np.floor(years * DAYS_PER_YEAR + 1e-6)), "D")
        return str(day)
    per_year = PER_YEAR[freq]
    ordinal = origin + int(np.floor(years * per_year + 1e-9))
    year, within = 1970 + ordinal // per_year, ordinal % per_year
    if freq == "Q":
        return f"{year}Q{within + 1}"
    if freq == "M":
        return f"{year}-{within + 1:02d}"
    return str(year)
