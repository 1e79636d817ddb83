"""How one sympy result is reported: exact text, LaTeX, MathML and, when it is one, a float.

The API contract (issue 8): `{"text": str, "latex": str, "numeric": float | None}`. `numeric` is
None when the value is not a finite real number; a finite complex value also carries
`numeric_real` and `numeric_imag`. All strings are printed by sympy from objects our own parser
built, whose names are ASCII letters and digits, so they carry no user markup.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import sympy

from errors import Unprocessable

PRECISION = 30  # digits used to decide "real" and to give the float
MINUS = "\u2212"  # what TeX sets for "-"; sympy's MathML has the hyphen
_NEGATIVE_NUMBER = re.compile(r"<mn>-([^<]*)</mn>")
MAX_TEXT = 100_000  # characters of a result's text form; longer is no use to a person


def value_dict(value: sympy.Expr, approx_from: sympy.Expr | None = None) -> dict:
    """{"text", "latex", "numeric", "mathml"} (+ numeric_real/numeric_imag for complex).

    `approx_from`: a more precise form of `value` to take the float from (a numeric root is
    shown to 15 digits but its float should keep all 17).
    """
    text = sympy.sstr(value)
    if len(text) > MAX_TEXT:
        raise Unprocessable(
            f"The result is {len(text):,} characters long, more than the {MAX_TEXT:,} shown; "
            "try a smaller problem.",
            code="too_large",
        )
    out = {
        "text": text,
        "latex": sympy.latex(value),
        "numeric": None,
        "mathml": mathml(value),
    }
    approx = approximate(value if approx_from is None else approx_from)
    if approx is None:
        return out
    if is_real_number(approx):
        out["numeric"] = approx.real
    else:
        out["numeric_real"] = approx.real
        out["numeric_imag"] = approx.imag
    return out


def mathml(expr: sympy.Basic) -> str:
    """Presentation MathML: Chromium and Firefox render it natively (no script, offline).

    sympy writes minus as the hyphen `-`, which browsers draw short and without operator
    spacing; typeset it as U+2212, as TeX does.
    """
    markup = sympy.mathml(expr, printer="presentation").replace("<mo>-</mo>", f"<mo>{MINUS}</mo>")
    # a negative number becomes one element again (an msup's exponent must stay one child)
    return _NEGATIVE_NUMBER.sub(lambda m: f"<mrow><mo>{MINUS}</mo><mn>{m[1]}</mn></mrow>", markup)


@lru_cache(maxsize=512)  # solve asks for the same values when filtering, sorting and printing
def approximate(value: sympy.Basic) -> complex | None:
    """A finite complex float for a number, else None (a symbol, oo, zoo, nan, an overflow)."""
    if not isinstance(value, sympy.Expr) or not value.is_number:
        return None
    try:
        approx = complex(value.evalf(PRECISION))
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(approx.real) and math.isfinite(approx.imag)):
        return None
    return approx


def is_real_number(approx: complex) -> bool:
    """Imaginary part zero to working precision (radical forms of real roots leave ~1e-30)."""
    return abs(approx.imag) <= 1e-15 * max(1.0, abs(approx.real))


def is_real(value: sympy.Expr) -> bool:
    """True unless `value` is a number with a non-zero imaginary part.

    A value with free variables (a parametric solution) counts as real: whether it is depends
    on the parameters.
    """
    if value.is_real:
        return True
    if value.is_real is False and value.is_number:
        return False
    approx = approximate(value)
    return approx is None or is_real_number(approx)


def sort_key(value: sympy.Expr | None) -> tuple:
    """Order numbers by real then imaginary part; non-numbers after them, by their text."""
    approx = None if value is None else approximate(value)
    if approx is None:
        return (1, 0.0, 0.0, "" if value is None else sympy.sstr(value))
    return (0, approx.real, approx.imag, "")
