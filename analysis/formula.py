"""A small Wilkinson-formula parser and design-matrix builder of our own.

The formula text never reaches `eval`, patsy or formulaic: it is tokenised here, checked against
the sheet's column names, and turned into numpy arrays. Supported (everything else is a BadInput
that says what is supported):

    Price ~ Area + Bedrooms + C(FurnishingStatus)      terms joined with +
    y ~ x - 1      y ~ 0 + x      y ~ x + 0            no intercept
    `OECD-19` ~ Q("Aggregate - Dynamic Weights")       odd names: backquotes or Q("...")
    Price ~ Area + C(FurnishingStatus) + Area:C(FurnishingStatus)   interactions with ':'
    log(Price) ~ log(Area)                              natural log (values must be > 0)

Categorical coding follows patsy's rule of thumb: treatment coding with the first sorted level as
reference ("C(FurnishingStatus)[T.semi-furnished]"), except that a factor whose lower-order
margin is not yet in the model (the first C() in a model without intercept, or `x:C(g)` without
`x`) is coded with one column per level ("C(g)[a]").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.results import available, check_magnitudes, holds_whole_numbers, is_numeric
from errors import BadInput, Unprocessable

MAX_FORMULA = 2000
MAX_LEVELS = 200
SUPPORTED = ("Supported: y ~ a + b, C(col), log(col), a:b, `odd name` or Q(\"odd name\"), "
             "and '- 1' or '+ 0' for no intercept.")
TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<name>[^\W\d][\w.]*)
  | (?P<back>`[^`]*`)
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<number>\d+(?:\.\d*)?)
  | (?P<op>[~+\-:(),])
""", re.VERBOSE)


@dataclass(frozen=True)
class Factor:
    """One variable of a term: a numeric column, its log, or a categorical column."""

    kind: str  # "num" | "log" | "cat"
    column: str

    @property
    def name(self) -> str:
        return {"num": self.column, "log": f"log({self.column})", "cat": f"C({self.column})"}[
            self.kind]


@dataclass(frozen=True)
class Formula:
    text: str
    response: Factor
    terms: tuple[tuple[Factor, ...], ...]
    intercept: bool

    @property
    def columns(self) -> list[str]:
        """Every sheet column the formula uses, response first, without repeats."""
        out = [self.response.column]
        for term in self.terms:
            out += [f.column for f in term if f.column not in out]
        return out

    @property
    def regressor_columns(self) -> list[str]:
        out: list[str] = []
        for term in self.terms:
            out += [f.column for f in term if f.column not in out]
        return out


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


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None:
            raise BadInput(f"Formula has an unexpected character {text[pos]!r} at position "
                           f"{pos + 1}. Names with spaces or symbols go in backquotes: "
                           f"`OECD-19`. {SUPPORTED}")
        kind = match.lastgroup
        if kind != "space":
            out.append((kind, match.group(), pos))
        pos = match.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        kind, text, pos = self.take()
        if text != value or kind == "end":
            found = "the end" if kind == "end" else repr(text)
            raise BadInput(f"Formula expected '{value}' at position {pos + 1} but found {found}.")

    def formula(self) -> tuple[Factor, list[tuple[Factor, ...]], bool]:
        response = self.factor()
        if response.kind == "cat":
            raise BadInput("The response (left of '~') must be numeric, not C(...).")
        self.expect("~")
        terms: list[tuple[Factor, ...]] = []
        intercept = True
        sign = "+"
        if self.peek()[1] in "+-" and self.peek()[0] == "op":
            sign = self.take()[1]
        while True:
            kind, text, pos = self.peek()
            if kind == "number":
                self.take()
                if text not in ("0", "1"):
                    raise BadInput(f"Formula has the number {text} at position {pos + 1}; only "
                                   "0 or 1 (the intercept) may appear. Names with symbols go in "
                                   f"backquotes: `OECD-19`. {SUPPORTED}")
                intercept = (text == "1") == (sign == "+")
            elif sign == "-":
                raise BadInput("Removing terms with '-' is supported only for the intercept "
                               "('- 1').")
            else:
                term = self.term()
                if term not in terms:
                    terms.append(term)
            kind, text, pos = self.peek()
            if kind == "end":
                return response, terms, intercept
            if text not in ("+", "-"):
                raise BadInput(f"Formula has unexpected {text!r} at position {pos + 1}; join "
                               f"terms with '+'. {SUPPORTED}")
            sign = self.take()[1]

    def term(self) -> tuple[Factor, ...]:
        factors = [self.factor()]
        while self.peek()[1] == ":" and self.peek()[0] == "op":
            self.take()
            factors.append(self.factor())
        if len({f.column for f in factors}) != len(factors):
            raise BadInput("An interaction a:b must join different columns.")
        return tuple(factors)

    def name_argument(self) -> str:
        kind, text, pos = self.take()
        if kind in ("back", "string"):
            return text[1:-1]
        if kind == "name" and text == "Q" and self.peek()[1] == "(":
            self.take()
            inner = self.name_argument()
            self.expect(")")
            return inner
        if kind == "name":
            return text
        found = "the end" if kind == "end" else repr(text)
        raise BadInput(f"Formula expected a column name at position {pos + 1} but found "
                       f"{found}.")

    def factor(self) -> Factor:
        kind, text, pos = self.peek()
        if kind == "name" and self.tokens[self.i + 1][1] == "(":
            if text not in ("C", "log", "Q"):
                raise BadInput(f"Formula function '{text}' is not supported. {SUPPORTED}")
            if text == "Q":
                return Factor("num", self.name_argument())
            self.take()
            self.take()
            column = self.name_argument()
            self.expect(")")
            return Factor("cat" if text == "C" else "log", column)
        if kind in ("name", "back", "string"):
            return Factor("num", self.name_argument())
        found = "the end" if kind == "end" else repr(text)
        raise BadInput(f"Formula expected a column name at position {pos + 1} but found {found}. "
                       f"{SUPPORTED}")


def parse_formula(text: str, frame: pd.DataFrame, sheet: str) -> Formula:
    """Parse `text` and check every name against the sheet's columns and their types."""
    if not isinstance(text, str) or "~" not in text:
        raise BadInput("A formula needs a response and terms, like 'Price ~ Area + Bedrooms'.")
    if len(text) > MAX_FORMULA:
        raise BadInput(f"The formula is longer than {MAX_FORMULA} characters.")
    response, terms, intercept = _Parser(text).formula()
    if not terms and not intercept:
        raise BadInput("The formula has no terms and no intercept; nothing to estimate.")
    formula = Formula(text=text.strip(), response=response, terms=tuple(terms),
                      intercept=intercept)
    for f in [response, *(f for t in terms for f in t)]:
        if f.column not in frame.columns:
            raise BadInput(f"The formula names column '{f.column}', which sheet '{sheet}' does "
                           f"not have. Columns: {available(frame.columns)}. Names with spaces or "
                           "symbols go in backquotes: `OECD-19`.")
        if f.kind in ("num", "log") and not is_numeric(frame[f.column]):
            hint = f" Use C({f.column}) for categories." if f is not response else ""
            raise BadInput(f"Column '{f.column}' in sheet '{sheet}' is not numeric "
                           f"({frame[f.column].dtype}) and cannot be used as a number.{hint}")
    if response.column in formula.regressor_columns:
        raise BadInput(f"Column '{response.column}' is the response and cannot also appear on "
                       "the right of '~'.")
    return formula


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


def _factor_block(f: Factor, raw: np.ndarray, levels: dict, full: bool
                  ) -> tuple[np.ndarray, list[str]]:
    if f.kind == "num":
        return raw.astype("float64")[:, None], [f.column]
    if f.kind == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(raw.astype("float64"))[:, None], [f.name]
    use = levels[f.column] if full else levels[f.column][1:]
    block = (raw[:, None] == np.asarray(use, dtype=object)[None, :]).astype("float64")
    names = [f"{f.name}[{lv}]" if full else f"{f.name}[T.{lv}]" for lv in use]
    return block, names


def encode(formula: Formula, raw: dict[str, np.ndarray], levels: dict,
           codings: tuple) -> tuple[np.ndarray, list[str], list[str]]:
    """The X matrix for rows given as column arrays (numbers as float, categories as str)."""
    n = len(next(iter(raw.values()))) if raw else 0
    blocks, names, term_names = [], [], []
    if formula.intercept:
        blocks.append(np.ones((n, 1)))
        names.append("Intercept")
        term_names.append("Intercept")
    for term, full in zip(formula.terms, codings, strict=True):
        matrix, cols = np.ones((n, 1)), [""]
        for f, is_full in zip(term, full, strict=True):
            block, bnames = _factor_block(f, raw[f.column], levels, is_full)
            matrix = (matrix[:, :, None] * block[:, None, :]).reshape(n, -1)
            cols = [f"{a}:{b}" if a else b for a in cols for b in bnames]
        blocks.append(matrix)
        names += cols
        term_names += [":".join(f.name for f in term)] * len(cols)
    X = np.hstack(blocks) if blocks else np.empty((n, 0))
    return X, names, term_names


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


def build_design(formula: Formula, frame: pd.DataFrame, sheet: str) -> Design:
    """Rows with any used value missing are dropped; categories' levels come from kept rows."""
    cats = {f.column for t in formula.terms for f in t if f.kind == "cat"}
    raw: dict[str, np.ndarray] = {}
    keep = np.ones(len(frame), dtype=bool)
    for col in formula.columns:
        series = frame[col]
        if col in cats:
            labels = category_strings(series, sheet)
            present = labels.notna().to_numpy()
            raw[col] = labels.to_numpy(dtype=object, na_value=None)
        else:
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            present = ~np.isnan(values)
            if present.any():
                check_magnitudes(values, frame.index, sheet, col)
            raw[col] = values
        if not present.any():
            raise Unprocessable(f"Column '{col}' in sheet '{sheet}' has no values (all "
                                "missing); it cannot be used in a regression.")
        keep &= present
    if not keep.any():
        raise Unprocessable(f"No row of sheet '{sheet}' has values in all of "
                            f"{available(formula.columns)}.")
    raw = {c: v[keep] for c, v in raw.items()}
    levels = {}
    for col in cats:
        levels[col] = _sorted_levels(pd.Series(raw[col]), is_numeric(frame[col]))
        if len(levels[col]) > MAX_LEVELS:
            raise BadInput(f"C({col}) has more than {MAX_LEVELS} levels.")
        if len(levels[col]) < 2:
            raise Unprocessable(f"C({col}) has only one level ('{levels[col][0]}') in the rows "
                                "used; a categorical term needs at least two.")
    for f in [formula.response, *(f for t in formula.terms for f in t)]:
        if f.kind == "log" and (raw[f.column] <= 0).any():
            raise Unprocessable(f"log({f.column}): column '{f.column}' has values ≤ 0 in the rows "
                                "used; the logarithm is undefined there.")
    codings = _codings(formula)
    X, names, term_names = encode(formula, raw, levels, codings)
    y_raw = raw[formula.response.column]
    y = np.log(y_raw) if formula.response.kind == "log" else y_raw
    return Design(y=y, X=X, names=tuple(names), term_names=tuple(term_names), levels=levels,
                  codings=codings, n_dropped=int((~keep).sum()))
