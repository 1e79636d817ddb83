"""From a parsed formula and a sheet to numbers: y, X and the names of X's columns.

Evaluation has two steps. Row-wise expressions (arithmetic, log/exp/sqrt) and shifts (lag, diff,
pct) are computed on the whole sheet, in its order, so a lag reaches back to rows that the model
itself drops; on a sheet with a period index a lag looks up the period k steps before (a gap
gives a missing value). Rows with any used value missing are then dropped, and the *stateful*
transforms — center, scale and poly — are computed on the rows used, their state (mean, standard
deviation, the polynomial recurrence) kept so predictions use the same basis.

A value outside a function's domain (log of 0, square root of a negative, division by zero, an
overflow) is a 422 naming the expression, never a silent NaN.

Categorical coding follows patsy's rule of thumb: treatment coding with the first sorted level as
reference ("C(FurnishingStatus)[T.semi-furnished]"), except that a factor whose lower-order
margin is not yet in the model (the first C() in a model without intercept, or `x:C(g)` without
`x`) is coded with one column per level ("C(g)[a]").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.formula import Factor, Formula
from analysis.results import (
    available,
    check_magnitudes,
    holds_whole_numbers,
    is_numeric,
    label,
)
from errors import BadInput, Unprocessable

MAX_LEVELS = 200
DOMAIN = {"log": "values ≤ 0 (the logarithm is undefined there)",
          "sqrt": "negative values (the square root is undefined there)",
          "exp": "values so large that exp() overflows",
          "pct": "a zero value in the period it compares with",
          "/": "a division by zero", "^": "a power that is undefined or overflows",
          "*": "a product that overflows", "+": "a sum that overflows",
          "-": "a difference that overflows"}


@dataclass(frozen=True)
class Design:
    """The numeric model: y, X, a name per column of X and the term each column came from."""

    y: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    term_names: tuple[str, ...]
    levels: dict = field(default_factory=dict)
    codings: tuple = ()
    n_dropped: int = 0
    keep: np.ndarray | None = None
    states: dict = field(default_factory=dict)


class _Context:
    """Column arrays (float, NaN = missing) and the row labels, for evaluating expressions."""

    def __init__(self, columns: dict[str, np.ndarray], index: pd.Index | None, sheet: str):
        self.columns, self.index, self.sheet = columns, index, sheet
        self.n = len(next(iter(columns.values()))) if columns else 0

    def shift(self, values: np.ndarray, k: int, what: str) -> np.ndarray:
        if self.index is None:
            raise BadInput(f"{what} needs the sheet's earlier rows; predictions are not "
                           "available for formulas with lag, diff or pct.")
        if k >= self.n:
            raise Unprocessable(f"{what} reaches {k} periods back, beyond the data: sheet "
                                f"'{self.sheet}' has {self.n} rows.")
        out = np.full(self.n, np.nan)
        index = self.index
        if isinstance(index, pd.PeriodIndex) and index.is_unique:
            pos = index.get_indexer(index - k)  # the period k steps before, or -1 (a gap)
            found = pos >= 0
            out[found] = values[pos[found]]
        elif k:
            out[k:] = values[:-k]
        else:
            out[:] = values
        return out


def evaluate(node: tuple, ctx: _Context) -> tuple[np.ndarray, np.ndarray, str]:
    """Values, a mask of domain errors, and the operation that caused the first of them."""
    kind = node[0]
    if kind == "col":
        values = ctx.columns[node[1]]
        return values, np.zeros(len(values), dtype=bool), ""
    if kind == "num":
        return np.full(ctx.n, node[1]), np.zeros(ctx.n, dtype=bool), ""
    if kind == "neg":
        values, bad, why = evaluate(node[1], ctx)
        return -values, bad, why
    if kind == "fn":
        _, name, arg, k = node
        x, bad, why = evaluate(arg, ctx)
        with np.errstate(all="ignore"):
            if name == "log":
                out, wrong = np.log(x), x <= 0
            elif name == "sqrt":
                out, wrong = np.sqrt(x), x < 0
            elif name == "exp":
                out = np.exp(x)
                wrong = np.isinf(out) & np.isfinite(x)
            else:
                before = ctx.shift(x, k, f"{name}({k})")
                out = {"lag": before, "diff": x - before,
                       "pct": 100.0 * (x / before - 1.0)}[name]
                wrong = (before == 0) & (name == "pct")
        first = wrong & ~bad
        return out, bad | wrong, why or ("" if not first.any() else name)
    _, op, a, b = node
    x, bad_a, why_a = evaluate(a, ctx)
    y, bad_b, why_b = evaluate(b, ctx)
    with np.errstate(all="ignore"):
        out = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
               "^": np.power}[op](x, y)
    wrong = ~np.isfinite(out) & np.isfinite(x) & np.isfinite(y)
    return out, bad_a | bad_b | wrong, why_a or why_b or (op if wrong.any() else "")


def _sorted_levels(series: pd.Series, numeric: bool) -> list[str]:
    values = series.unique().tolist()
    if numeric:
        return [str(v) for v in sorted(values, key=float)]
    return sorted(str(v) for v in values)


def category_strings(series: pd.Series, sheet: str) -> pd.Series:
    """A column's values as category labels: whole numbers print as "3", not "3.0"."""
    if pd.api.types.is_float_dtype(series.dtype):
        check_magnitudes(series.to_numpy(dtype="float64", na_value=np.nan), series.index,
                         sheet, series.name)
        if not holds_whole_numbers(series):
            raise BadInput(f"Column '{series.name}' in sheet '{sheet}' holds continuous numbers "
                           "and cannot be used in C(...).")
        series = series.astype("Int64")
    return series.astype("string")


def _codings(formula: Formula) -> tuple[tuple[bool, ...], ...]:
    """For each term, which of its categorical factors get one column per level (patsy's rule)."""
    spanned: set[frozenset] = {frozenset()} if formula.intercept else set()
    out = []
    for term in formula.terms:
        full = []
        done = False
        for f in term:
            margin = frozenset(term) - {f}
            is_full = f.kind == "cat" and not done and margin not in spanned
            full.append(is_full)
            if is_full:
                done = True
                spanned.add(margin)
        spanned.add(frozenset(term))
        out.append(tuple(full))
    return tuple(out)


def poly_state(x: np.ndarray, degree: int) -> tuple[float, ...] | tuple:
    """R's poly(): the three-term recurrence (alpha, norm2) of orthonormal polynomials on x."""
    if len(np.unique(x)) <= degree:
        raise Unprocessable(f"poly(x, {degree}) needs at least {degree + 1} distinct values of x "
                            f"in the rows used; there are {len(np.unique(x))}.")
    alpha, norm2 = [], [1.0, float(len(x))]
    prev, cur = np.zeros_like(x), np.ones_like(x)
    for i in range(degree):
        a = float(np.sum(x * cur * cur) / norm2[i + 1])
        nxt = (x - a) * cur - (norm2[i + 1] / norm2[i]) * prev
        alpha.append(a)
        norm2.append(float(np.sum(nxt * nxt)))
        prev, cur = cur, nxt
    return tuple(alpha), tuple(norm2)


def poly_basis(x: np.ndarray, degree: int, state: tuple) -> np.ndarray:
    """The orthonormal columns (as R's poly and predict.poly) from a stored recurrence."""
    alpha, norm2 = state
    cols = []
    prev, cur = np.zeros_like(x), np.ones_like(x)
    for i in range(degree):
        prev, cur = cur, (x - alpha[i]) * cur - (norm2[i + 1] / norm2[i]) * prev
        cols.append(cur / np.sqrt(norm2[i + 2]))
    return np.column_stack(cols)


def outer_values(f: Factor, x: np.ndarray, states: dict, fit: bool) -> np.ndarray:
    """Apply center/scale/poly with the state from the fit (computed now when `fit`)."""
    if f.kind == "poly":
        if f.raw:
            return np.column_stack([x**p for p in range(1, f.degree + 1)])
        if fit:
            states[f] = poly_state(x, f.degree)
        return poly_basis(x, f.degree, states[f])
    if f.outer in ("center", "scale"):
        if fit:
            sd = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
            if f.outer == "scale" and not sd > 0:
                raise Unprocessable(f"{f.label}: the values are constant in the rows used; they "
                                    "cannot be scaled.")
            states[f] = (float(np.mean(x)), sd)
        mean, sd = states[f]
        return (x - mean) / sd if f.outer == "scale" else x - mean
    return x


def _factor_block(f: Factor, values: np.ndarray, levels: dict, full: bool
                  ) -> tuple[np.ndarray, list[str]]:
    if f.kind == "num":
        return values[:, None], [f.label]
    if f.kind == "poly":
        return values, [f"{f.label}{j}" for j in range(1, f.degree + 1)]
    use = levels[f.column] if full else levels[f.column][1:]
    block = (values[:, None] == np.asarray(use, dtype=object)[None, :]).astype("float64")
    names = [f"{f.label}[{lv}]" if full else f"{f.label}[T.{lv}]" for lv in use]
    return block, names


def encode(formula: Formula, values: dict[Factor, np.ndarray], n: int, levels: dict,
           codings: tuple) -> tuple[np.ndarray, list[str], list[str]]:
    """The X matrix from each factor's final values (numbers, poly columns or level labels)."""
    blocks, names, term_names = [], [], []
    if formula.intercept:
        blocks.append(np.ones((n, 1)))
        names.append("Intercept")
        term_names.append("Intercept")
    for term, full in zip(formula.terms, codings, strict=True):
        matrix, cols = np.ones((n, 1)), [""]
        for f, is_full in zip(term, full, strict=True):
            block, bnames = _factor_block(f, values[f], levels, is_full)
            matrix = (matrix[:, :, None] * block[:, None, :]).reshape(n, -1)
            cols = [f"{a}:{b}" if a else b for a in cols for b in bnames]
        blocks.append(matrix)
        names += cols
        term_names += [":".join(f.label for f in term)] * len(cols)
    X = np.hstack(blocks) if blocks else np.empty((n, 0))
    return X, names, term_names


def _column_arrays(formula: Formula, frame: pd.DataFrame, sheet: str
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Numeric columns as float arrays and categorical columns as labels, full length."""
    cats = {f.column for f in formula.factors if f.kind == "cat"}
    numbers, labels = {}, {}
    for col in formula.columns:
        series = frame[col]
        if col in cats:
            labels[col] = category_strings(series, sheet).to_numpy(dtype=object, na_value=None)
            present = np.array([v is not None for v in labels[col]], dtype=bool)
        if col not in cats or any(col in f.columns for f in formula.factors if f.kind != "cat"):
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            present = ~np.isnan(values)
            if present.any():
                check_magnitudes(values, frame.index, sheet, col)
            numbers[col] = values
        if not present.any():
            raise Unprocessable(f"Column '{col}' in sheet '{sheet}' has no values (all "
                                "missing); it cannot be used in a regression.")
    return numbers, labels


def build_design(formula: Formula, frame: pd.DataFrame, sheet: str,
                 extra: np.ndarray | None = None) -> Design:
    """Rows with any used value missing (or `extra` False) are dropped; categories' levels and
    the stateful transforms come from the rows kept."""
    numbers, labels = _column_arrays(formula, frame, sheet)
    ctx = _Context(numbers, frame.index, sheet)
    keep = np.ones(len(frame), dtype=bool) if extra is None else extra.copy()
    inner: dict[Factor, tuple] = {}
    for f in formula.factors:
        if f.kind == "cat":
            keep &= np.array([v is not None for v in labels[f.column]], dtype=bool)
        else:
            inner[f] = evaluate(f.expr, ctx)
            keep &= ~(np.isnan(inner[f][0]) & ~inner[f][1])
    for f, (_, bad, why) in inner.items():
        hit = bad & keep
        if hit.any():
            raise Unprocessable(f"{f.label}: {DOMAIN.get(why, 'values out of range')} at row "
                                f"{label(frame.index[int(np.argmax(hit))])} of sheet '{sheet}' "
                                "(among the rows used).")
    if not keep.any():
        raise Unprocessable(f"No row of sheet '{sheet}' has values in all of "
                            f"{available(formula.columns)}.")
    levels = {}
    for f in formula.factors:
        if f.kind == "cat" and f.column not in levels:
            numeric = is_numeric(frame[f.column])
            levels[f.column] = _sorted_levels(pd.Series(labels[f.column][keep]), numeric)
            if len(levels[f.column]) > MAX_LEVELS:
                raise BadInput(f"C({f.column}) has more than {MAX_LEVELS} levels.")
            if len(levels[f.column]) < 2:
                raise Unprocessable(f"C({f.column}) has only one level "
                                    f"('{levels[f.column][0]}') in the rows used; a categorical "
                                    "term needs at least two.")
    states: dict = {}
    values = {f: labels[f.column][keep] if f.kind == "cat"
              else outer_values(f, inner[f][0][keep], states, fit=True)
              for f in formula.factors}
    codings = _codings(formula)
    n = int(keep.sum())
    X, names, term_names = encode(formula, values, n, levels, codings)
    return Design(y=values[formula.response], X=X, names=tuple(names),
                  term_names=tuple(term_names), levels=levels, codings=codings,
                  n_dropped=int((~keep).sum()), keep=keep, states=states)


def prediction_values(formula: Formula, design: Design, columns: dict[str, np.ndarray]
                      ) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """X for new rows given as column arrays, and (row, message) for values out of domain."""
    n = len(next(iter(columns.values()))) if columns else 1
    numbers = {c: v for c, v in columns.items() if c not in design.levels}
    ctx = _Context(numbers, None, "")
    values, problems = {}, []
    for term in formula.terms:
        for f in term:
            if f in values:
                continue
            if f.kind == "cat":
                values[f] = columns[f.column]
                continue
            x, bad, why = evaluate(f.expr, ctx)
            reason = DOMAIN.get(why, "a value out of range")
            problems += [(int(i), f"{f.label} has {reason}") for i in np.flatnonzero(bad)]
            values[f] = outer_values(f, x, design.states, fit=False)
    X, _, _ = encode(formula, values, n, design.levels, design.codings)
    return X, problems
