"""Structural size checks: estimate every variable-free part of a checked tree with floats.

Part of parser.check (server side, no sympy): `9**9**9**9`, `x**(10**6)`, `2**-9**9` or
`factorial(10**10)` are refused here in microseconds, before anything is computed. Each estimate
is O(1) Python float arithmetic; the exact checks run again in the worker (build.py).
"""

from __future__ import annotations

import ast
import cmath
import math
from typing import Protocol

from errors import Unprocessable

MAX_EXPONENT = 1000
MAX_FACTORIAL = 1000
MAX_RESULT_DIGITS = 10_000

_CONSTANT_VALUES = {
    "pi": complex(math.pi),
    "e": complex(math.e),
    "E": complex(math.e),
    "i": 1j,
    "I": 1j,
    # "oo" has no estimate: 2^oo is refused exactly in the worker
}


class _Side(Protocol):
    def number_text(self, node: ast.Constant) -> str: ...

    def column(self, node: ast.AST) -> int: ...


def chain_family(node: ast.AST) -> str | None:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return "sum"
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return "product"
    return None


class Estimator:
    """Approximate every variable-free part with complex floats, refusing enormous powers.

    An estimate is a finite complex number or None: None where a part has a variable, where
    it cannot be estimated (0**-1, log(0), oo) and where a float overflows — 10^400/10^397 is
    exactly 1000 although its float estimate is inf, so an overflow proves nothing. Those parts
    are checked exactly in the worker (build.py), before sympy computes them.
    """

    def __init__(self, side: _Side):
        self.side = side

    def estimate(self, node: ast.AST) -> complex | None:
        if isinstance(node, ast.BinOp) and chain_family(node) is not None:
            return self._chain(node)
        if isinstance(node, ast.BinOp):
            return self._power(node)
        if isinstance(node, ast.UnaryOp):
            value = self.estimate(node.operand)
            return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
        if isinstance(node, ast.Constant):
            return complex(float(self.side.number_text(node)))
        if isinstance(node, ast.Name):
            return _CONSTANT_VALUES.get(node.id)
        if isinstance(node, ast.Call):
            return self._call(node)
        return None  # pragma: no cover - _check_nodes refused everything else

    def _chain(self, node: ast.BinOp) -> complex | None:
        """a ± b ± c… or a * b / c…, walked along the left spine without recursion."""
        family = chain_family(node)
        parts: list[tuple[ast.operator, complex | None]] = []
        while isinstance(node, ast.BinOp) and chain_family(node) == family:
            parts.append((node.op, self.estimate(node.right)))
            node = node.left
        value = self.estimate(node)
        for op, right in reversed(parts):
            value = None if value is None or right is None else _arith(op, value, right)
        return value

    def _power(self, node: ast.BinOp) -> complex | None:
        base, exponent = self.estimate(node.left), self.estimate(node.right)
        if exponent is None:
            return None
        size = abs(exponent)
        if size > MAX_EXPONENT:
            raise Unprocessable(
                f"Exponents are limited to ±{MAX_EXPONENT}; the one at column "
                f"{self.side.column(node.right)} is about {size:.3g}.",
                code="too_large",
            )
        if base is None:
            return None
        if base != 0 and abs(base) != 1:
            digits = size * abs(math.log10(abs(base)))
            if digits > MAX_RESULT_DIGITS:
                raise Unprocessable(
                    f"The power at column {self.side.column(node)} would have about "
                    f"{digits:,.0f} digits; the limit is {MAX_RESULT_DIGITS:,}.",
                    code="too_large",
                )
        return _arith(node.op, base, exponent)

    def _call(self, node: ast.Call) -> complex | None:
        name = node.func.id  # type: ignore[attr-defined]  # _check_call made sure
        args = [self.estimate(arg) for arg in node.args]
        if name == "factorial" and args[0] is not None and abs(args[0]) > MAX_FACTORIAL:
            raise Unprocessable(
                f"factorial() is limited to arguments up to {MAX_FACTORIAL} (column "
                f"{self.side.column(node)}).",
                code="too_large",
            )
        if any(a is None for a in args):
            return None
        try:
            return _finite(_FUNCTION_ESTIMATES[name](*args))
        except (OverflowError, ValueError, ZeroDivisionError, TypeError):
            return None


def _finite(value: complex | float | int | None) -> complex | None:
    if value is None:
        return None
    value = complex(value)
    return value if cmath.isfinite(value) else None


def _arith(op: ast.operator, a: complex, b: complex) -> complex | None:
    """a op b, or None on overflow, division by zero or a non-finite result."""
    if not a.imag and not b.imag:
        a, b = a.real, b.real  # float arithmetic: a negative base to a fraction gives complex
    try:
        if isinstance(op, ast.Add):
            return _finite(a + b)
        if isinstance(op, ast.Sub):
            return _finite(a - b)
        if isinstance(op, ast.Mult):
            return _finite(a * b)
        if isinstance(op, ast.Div):
            return _finite(a / b)
        return _finite(a**b)
    except (OverflowError, ZeroDivisionError):
        return None


def _real(function):
    """A real-only function (floor, factorial...) applied to an estimate; None if complex."""

    def apply(*args: complex) -> complex | None:
        if any(a.imag for a in args):
            return None
        return complex(function(*(a.real for a in args)))

    return apply


_FUNCTION_ESTIMATES = {
    "sqrt": cmath.sqrt,
    "exp": cmath.exp,
    "log": lambda a, b=None: cmath.log(a) if b is None else cmath.log(a) / cmath.log(b),
    "ln": cmath.log,
    "sin": cmath.sin,
    "cos": cmath.cos,
    "tan": cmath.tan,
    "asin": cmath.asin,
    "acos": cmath.acos,
    "atan": cmath.atan,
    "sinh": cmath.sinh,
    "cosh": cmath.cosh,
    "tanh": cmath.tanh,
    "asinh": cmath.asinh,
    "acosh": cmath.acosh,
    "atanh": cmath.atanh,
    "abs": lambda a: complex(abs(a)),
    "floor": _real(math.floor),
    "ceiling": _real(math.ceil),
    "factorial": _real(lambda a: math.gamma(a + 1)),
    "min": _real(min),
    "max": _real(max),
}
