"""The NIST StRD nonlinear regression problems in tests/data/nist_nls/ (see SOURCES.md).

`read_problem` parses a .dat file as published: the start vectors, the certified estimates and
standard deviations, and the data. The models are the files' own, written in our syntax.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).parent / "data" / "nist_nls"
GAUSS = "y = b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)"
MODELS = {  # lower to higher difficulty, as NIST classes them
    "Misra1a": "y = b1*(1-exp(-b2*x))",
    "Chwirut2": "y = exp(-b1*x)/(b2+b3*x)",
    "DanWood": "y = b1*x^b2",
    "Misra1b": "y = b1*(1-(1+b2*x/2)^(-2))",
    "Gauss1": GAUSS,
    "Gauss2": GAUSS,
    "Kirby2": "y = (b1 + b2*x + b3*x^2)/(1 + b4*x + b5*x^2)",
    "Rat43": "y = b1/((1+exp(b2-b3*x))^(1/b4))",
    "Eckerle4": "y = (b1/b2)*exp(-0.5*((x-b3)/b2)^2)",
    "Thurber": "y = (b1 + b2*x + b3*x^2 + b4*x^3)/(1 + b5*x + b6*x^2 + b7*x^3)",
}
_PARAMETER = re.compile(r"^\s*(b\d+)\s*=\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")


@dataclass(frozen=True)
class Problem:
    name: str
    model: str
    names: tuple[str, ...]
    starts: tuple[tuple[float, ...], tuple[float, ...]]
    certified: tuple[float, ...]
    certified_se: tuple[float, ...]
    x: np.ndarray
    y: np.ndarray


def read_problem(name: str) -> Problem:
    lines = (FOLDER / f"{name}.dat").read_text().splitlines()
    rows = [m.groups() for m in map(_PARAMETER.match, lines) if m]
    data_at = max(i for i, line in enumerate(lines) if line.startswith("Data:"))
    table = np.array([[float(v) for v in line.split()] for line in lines[data_at + 1:]
                      if line.strip()])
    return Problem(
        name=name, model=MODELS[name], names=tuple(r[0] for r in rows),
        starts=(tuple(float(r[1]) for r in rows), tuple(float(r[2]) for r in rows)),
        certified=tuple(float(r[3]) for r in rows),
        certified_se=tuple(float(r[4]) for r in rows),
        y=table[:, 0], x=table[:, 1],
    )


def lre(estimate: float, certified: float) -> float:
    """Log relative error: the number of correct significant digits (at most 11, NIST's)."""
    if estimate == certified:
        return 11.0
    return min(11.0, -math.log10(abs(estimate - certified) / abs(certified)))
