"""A small Wilkinson-formula parser of our own (the design matrix is built in `analysis.design`).

The formula text never reaches `eval`, patsy or formulaic: it is tokenised here, parsed into
small tuples, and checked against the sheet's column names. Supported (everything else is a
BadInput that says what is supported):

    Price ~ Area + Bedrooms + C(FurnishingStatus)      terms joined with +
    y ~ x - 1      y ~ 0 + x      y ~ x + 0            no intercept
    `OECD-19` ~ Q("Aggregate - Dynamic Weights")       odd names: backquotes or Q("...")
    Price ~ Area:C(FurnishingStatus)   Price ~ Area*Bedrooms    interactions (a*b = a + b + a:b)
    log(Price) ~ log(Area) + sqrt(x) + exp(x)           functions of a column or an expression
    y ~ I(x^2) + I(x**2) + I(a*b/100)                   arithmetic inside I(): + - * / ^ **
    y ~ poly(x, 3)    y ~ poly(x, 3, raw = TRUE)        orthogonal (as R) or raw polynomials
    y ~ center(x) + scale(x)                            centred / standardised on the rows used
    diff(y) ~ lag(y, 1) + diff(x, 4) + pct(x, 4)        lags, differences, percent changes

Lags move by *periods* on a sheet with a period index (a missing quarter gives a missing lag, not
the row before it) and by rows otherwise. A text column used as a plain regressor is treated as
categorical, as if C() were written, with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from analysis.expression import SHIFT_FUNCTIONS, expression_columns, shifts, show
from analysis.results import available, is_numeric
from errors import BadInput

MAX_FORMULA = 2000
MAX_DEGREE = 20
SUPPORTED = ("Supported: y ~ a + b, a:b, a*b, C(col), I(x^2) with + - * / ^ inside, log, exp, "
             "sqrt, lag(x, k), diff(x, k), pct(x, k), center(x), scale(x), poly(x, k) or "
             "poly(x, k, raw = TRUE), `odd name` or Q(\"odd name\"), and '- 1' or '+ 0' for no "
             "intercept.")
ROW_FUNCTIONS = ("log", "exp", "sqrt")
STATEFUL = ("center", "scale")
TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<name>[^\W\d][\w.]*)
  | (?P<back>`[^`]*`)
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<op>\*\*|[~+\-:(),*/^=])
""", re.VERBOSE)
@dataclass(frozen=True)
class Factor:
    """One variable of a term: a numeric expression (optionally centred/scaled or expanded into
    a polynomial) or a categorical column."""

    kind: str  # "num" | "cat" | "poly"
    expr: tuple
    label: str
    outer: str = ""  # "" | "center" | "scale"
    degree: int = 0
    raw: bool = False

    @property
    def columns(self) -> list[str]:
        return expression_columns(self.expr)

    @property
    def column(self) -> str:
        return self.columns[0] if self.columns else ""

    @property
    def name(self) -> str:
        return self.label


@dataclass(frozen=True)
class Formula:
    text: str
    response: Factor
    terms: tuple[tuple[Factor, ...], ...]
    intercept: bool
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        """Every sheet column the formula uses, response first, without repeats."""
        out = list(self.response.columns)
        return out + [c for c in self.regressor_columns if c not in out]

    @property
    def regressor_columns(self) -> list[str]:
        out: list[str] = []
        for term in self.terms:
            for f in term:
                out += [c for c in f.columns if c not in out]
        return out

    @property
    def factors(self) -> list[Factor]:
        """Response first, then every distinct factor of the terms."""
        out = [self.response]
        for term in self.terms:
            out += [f for f in term if f not in out]
        return out


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


def _found(kind: str, text: str) -> str:
    return "the end" if kind == "end" else repr(text)


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def is_op(self, *values: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "op" and text in values

    def expect(self, value: str) -> None:
        kind, text, pos = self.take()
        if text != value or kind == "end":
            raise BadInput(f"Formula expected '{value}' at position {pos + 1} but found "
                           f"{_found(kind, text)}.")

    # -- formula and terms ------------------------------------------------------------------
    def formula(self) -> tuple[Factor, list[tuple[Factor, ...]], bool]:
        response = self.factor()
        if response.kind != "num":
            raise BadInput("The response (left of '~') must be numeric, not C(...) or poly(...).")
        self.expect("~")
        terms: list[tuple[Factor, ...]] = []
        intercept = True
        sign = "+"
        if self.is_op("+", "-"):
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
                terms += [t for t in self.product() if t not in terms]
            kind, text, pos = self.peek()
            if kind == "end":
                return response, terms, intercept
            if text not in ("+", "-") or kind != "op":
                raise BadInput(f"Formula has unexpected {text!r} at position {pos + 1}; join "
                               f"terms with '+'. {SUPPORTED}")
            sign = self.take()[1]

    def product(self) -> list[tuple[Factor, ...]]:
        """a*b*c: every main effect and interaction, lower orders first (as R)."""
        parts = [self.term()]
        while self.is_op("*"):
            self.take()
            parts.append(self.term())
        out: list[tuple[Factor, ...]] = []
        for size in range(1, len(parts) + 1):
            for chosen in combinations(parts, size):
                merged = tuple(f for part in chosen for f in part)
                if len(set(merged)) == len(merged) and merged not in out:
                    out.append(merged)
        return out

    def term(self) -> tuple[Factor, ...]:
        factors = [self.factor()]
        while self.is_op(":"):
            self.take()
            factors.append(self.factor())
        if len(set(factors)) != len(factors):
            raise BadInput("An interaction a:b must join different columns.")
        return tuple(factors)

    def name_argument(self) -> str:
        kind, text, pos = self.take()
        if kind in ("back", "string"):
            return text[1:-1]
        if kind == "name" and text == "Q" and self.is_op_at(0, "("):
            self.take()
            inner = self.name_argument()
            self.expect(")")
            return inner
        if kind == "name":
            return text
        raise BadInput(f"Formula expected a column name at position {pos + 1} but found "
                       f"{_found(kind, text)}.")

    def is_op_at(self, ahead: int, value: str) -> bool:
        kind, text, _ = self.peek(ahead)
        return kind == "op" and text == value

    def factor(self) -> Factor:
        kind, text, pos = self.peek()
        if kind == "name" and self.is_op_at(1, "("):
            if text == "C":
                self.take()
                self.take()
                column = self.name_argument()
                self.expect(")")
                return Factor("cat", ("col", column), f"C({column})")
            if text in ("I", *STATEFUL, "poly"):
                self.take()
                self.take()
                expr = self.expression()
                if text == "poly":
                    return self.poly_rest(expr)
                self.expect(")")
                if text == "I":
                    return Factor("num", expr, f"I({show(expr)})")
                return Factor("num", expr, f"{text}({show(expr)})", outer=text)
            expr = self.atom()  # log(x), lag(x, 4), ... or an unsupported function
            return Factor("num", expr, show(expr))
        if kind in ("name", "back", "string"):
            column = self.name_argument()
            return Factor("num", ("col", column), column)
        raise BadInput(f"Formula expected a column name at position {pos + 1} but found "
                       f"{_found(kind, text)}. {SUPPORTED}")

    def poly_rest(self, expr: tuple) -> Factor:
        self.expect(",")
        degree = self.whole_number("poly(x, k)")
        if not 1 <= degree <= MAX_DEGREE:
            raise BadInput(f"poly(x, k) needs a degree k from 1 to {MAX_DEGREE}, not {degree}.")
        raw = False
        if self.is_op(","):
            self.take()
            kind, text, pos = self.take()
            if text != "raw" or not self.is_op("="):
                raise BadInput(f"poly(x, k, ...) accepts only raw = TRUE or raw = FALSE (at "
                               f"position {pos + 1}).")
            self.take()
            kind, text, pos = self.take()
            if text not in ("TRUE", "FALSE", "T", "F", "True", "False"):
                raise BadInput(f"poly(..., raw = ) must be TRUE or FALSE, not "
                               f"{_found(kind, text)}.")
            raw = text.startswith("T")
        self.expect(")")
        label = f"poly({show(expr)}, {degree}{', raw = TRUE' if raw else ''})"
        return Factor("poly", expr, label, degree=degree, raw=raw)

    def whole_number(self, where: str) -> int:
        kind, text, pos = self.take()
        if kind != "number" or not text.isdigit():
            raise BadInput(f"{where}: expected a whole number at position {pos + 1} but found "
                           f"{_found(kind, text)}.")
        return int(text)

    # -- arithmetic expressions (inside I() and function arguments) -------------------------
    def expression(self) -> tuple:
        node = self.product_expr()
        while self.is_op("+", "-"):
            op = self.take()[1]
            node = ("bin", op, node, self.product_expr())
        return node

    def product_expr(self) -> tuple:
        node = self.unary()
        while self.is_op("*", "/"):
            op = self.take()[1]
            node = ("bin", op, node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.is_op("-"):
            self.take()
            return ("neg", self.unary())
        node = self.atom()
        if self.is_op("^", "**"):
            self.take()
            return ("bin", "^", node, self.unary())
        return node

    def atom(self) -> tuple:
        kind, text, pos = self.peek()
        if kind == "number":
            self.take()
            return ("num", float(text))
        if self.is_op("("):
            self.take()
            node = self.expression()
            self.expect(")")
            return node
        if self.is_op("-"):
            return self.unary()
        if kind == "name" and self.is_op_at(1, "(") and text != "Q":
            return self.call(text, pos)
        if kind in ("name", "back", "string"):
            return ("col", self.name_argument())
        raise BadInput(f"Formula expected a column name or a number at position {pos + 1} but "
                       f"found {_found(kind, text)}. {SUPPORTED}")

    def call(self, name: str, pos: int) -> tuple:
        if name in ("C", "poly", *STATEFUL):
            raise BadInput(f"{name}(...) must stand alone as a term (at position {pos + 1}), "
                           "not inside another function or I().")
        if name not in ("I", *ROW_FUNCTIONS, *SHIFT_FUNCTIONS):
            raise BadInput(f"Formula function '{name}' is not supported. {SUPPORTED}")
        self.take()
        self.take()
        arg = self.expression()
        k = 0
        if name in SHIFT_FUNCTIONS:
            k = 1
            if self.is_op(","):
                self.take()
                k = self.whole_number(f"{name}(x, k)")
        self.expect(")")
        return arg if name == "I" else ("fn", name, arg, k)


def _check_columns(factor: Factor, frame: pd.DataFrame, sheet: str, response: bool) -> Factor:
    """The factor, checked against the sheet; a plain text column becomes categorical."""
    for column in factor.columns:
        if column not in frame.columns:
            raise BadInput(f"The formula names column '{column}', which sheet '{sheet}' does "
                           f"not have. Columns: {available(frame.columns)}. Names with spaces or "
                           "symbols go in backquotes: `OECD-19`.")
    if factor.kind == "cat":
        return factor
    for column in factor.columns:
        if is_numeric(frame[column]):
            continue
        if factor.expr == ("col", column) and not response:
            return Factor("cat", factor.expr, f"C({column})")
        raise BadInput(f"Column '{column}' in sheet '{sheet}' is not numeric "
                       f"({frame[column].dtype}) and cannot be used as a number.")
    return factor


def parse_formula(text: str, frame: pd.DataFrame, sheet: str) -> Formula:
    """Parse `text` and check every name against the sheet's columns and their types."""
    if not isinstance(text, str) or "~" not in text:
        raise BadInput("A formula needs a response and terms, like 'Price ~ Area + Bedrooms'.")
    if len(text) > MAX_FORMULA:
        raise BadInput(f"The formula is longer than {MAX_FORMULA} characters.")
    response, terms, intercept = _Parser(text).formula()
    if not terms and not intercept:
        raise BadInput("The formula has no terms and no intercept; nothing to estimate.")
    response = _check_columns(response, frame, sheet, response=True)
    checked: list[tuple[Factor, ...]] = []
    notes = []
    for term in terms:
        new = tuple(_check_columns(f, frame, sheet, response=False) for f in term)
        for old, f in zip(term, new, strict=True):
            note = (f"Column '{f.column}' holds text, so it is treated as categorical, as if "
                    f"C({f.column}) were written.")
            if old.kind != f.kind and note not in notes:
                notes.append(note)
        if new not in checked:
            checked.append(new)
    for term in checked:
        for f in term:
            if set(response.columns) & set(f.columns) and not shifts(f.expr):
                raise BadInput(f"Column '{response.column}' is the response and cannot also "
                               "appear on the right of '~' (except lagged: lag(y, 1)).")
    return Formula(text=text.strip(), response=response, terms=tuple(checked),
                   intercept=intercept, notes=tuple(notes))
