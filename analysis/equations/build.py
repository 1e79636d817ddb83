"""The third gate, run in the solver's workers: a checked AST → sympy objects, built by hand.

Each allowed node type has one method that builds the sympy object directly (Symbol, Integer,
Rational, Add, Mul, Pow and the functions in FUNCTIONS); nothing is sympified, compiled or
evaluated from text. The exact size checks run here, *before* sympy computes a power, a
factorial or a product: a result may not exceed MAX_RESULT_DIGITS digits. Values given for
variables (the evaluate action) are put in while building, so the same checks apply to them.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy

from analysis.equations.estimate import (
    MAX_EXPONENT,
    MAX_FACTORIAL,
    MAX_RESULT_DIGITS,
    chain_family,
)
from analysis.equations.parser import Checked, Side, check
from errors import Unprocessable

FUNCTIONS = {
    "sqrt": sympy.sqrt,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "asinh": sympy.asinh,
    "acosh": sympy.acosh,
    "atanh": sympy.atanh,
    "abs": sympy.Abs,
    "floor": sympy.floor,
    "ceiling": sympy.ceiling,
    "factorial": sympy.factorial,
    "min": sympy.Min,
    "max": sympy.Max,
}
CONSTANTS = {
    "pi": sympy.pi,
    "e": sympy.E,
    "E": sympy.E,
    "i": sympy.I,
    "I": sympy.I,
    "oo": sympy.oo,
}
_MAX_BITS = int(MAX_RESULT_DIGITS * math.log2(10)) + 1


@dataclass(frozen=True)
class Parsed:
    """A typed input as sympy objects: an expression, or an equation lhs = rhs."""

    text: str
    lhs: sympy.Expr
    rhs: sympy.Expr | None
    names: frozenset[str]

    @property
    def is_equation(self) -> bool:
        return self.rhs is not None

    def as_expression(self) -> sympy.Expr:
        """lhs - rhs for an equation (so "f = g" means f - g = 0), else the expression."""
        return self.lhs if self.rhs is None else self.lhs - self.rhs

    def as_sympy(self) -> sympy.Basic:
        return self.lhs if self.rhs is None else sympy.Eq(self.lhs, self.rhs, evaluate=False)


def parse(
    text: object, *, what: str = "expression", values: Mapping[str, int | float] | None = None
) -> Parsed:
    """Check `text` (parser.check) and build it; `values` replace variables while building."""
    checked = check(text, what=what)
    return build(checked, values)


def build(checked: Checked, values: Mapping[str, int | float] | None = None) -> Parsed:
    numbers = {name: _exact(value) for name, value in (values or {}).items()}
    sides = [_Builder(side, numbers).convert(side.tree) for side in checked.sides]
    return Parsed(
        text=checked.text,
        lhs=sides[0],
        rhs=sides[1] if len(sides) == 2 else None,
        names=checked.names - set(numbers),
    )


def symbol(name: str) -> sympy.Symbol:
    """The one way a variable becomes a sympy Symbol (the same object every time)."""
    return sympy.Symbol(name)


def _exact(value: int | float) -> sympy.Rational:
    """1 → 1, 0.1 → 1/10 (the decimal as written in JSON, not the binary float)."""
    if isinstance(value, int):
        return sympy.Integer(value)
    fraction = Fraction(repr(float(value)))
    return sympy.Rational(fraction.numerator, fraction.denominator)


class _Builder:
    """AST → sympy, one allowed node type per method."""

    def __init__(self, side: Side, numbers: Mapping[str, sympy.Rational]):
        self.side = side
        self.numbers = numbers

    def convert(self, node: ast.AST) -> sympy.Expr:
        method = _METHODS[type(node)]  # parser.check allowed only these node types
        return _capped(method(self, node), self.side, node)

    def _constant(self, node: ast.Constant) -> sympy.Expr:
        fraction = Fraction(self.side.number_text(node))  # the token was capped in tokens.py
        return sympy.Rational(fraction.numerator, fraction.denominator)

    def _name(self, node: ast.Name) -> sympy.Expr:
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in self.numbers:
            return self.numbers[node.id]
        return symbol(node.id)

    def _unary(self, node: ast.UnaryOp) -> sympy.Expr:
        operand = self.convert(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand

    def _binop(self, node: ast.BinOp) -> sympy.Expr:
        family = chain_family(node)
        if family is None:
            return self._power(node)
        # a chain such as a + b - c + d: walk the left spine, build one Add (or Mul) at the end
        parts: list[tuple[ast.operator, sympy.Expr]] = []
        while isinstance(node, ast.BinOp) and chain_family(node) == family:
            parts.append((node.op, self.convert(node.right)))
            node = node.left
        first = self.convert(node)
        if family == "sum":
            terms = [first] + [-v if isinstance(op, ast.Sub) else v for op, v in reversed(parts)]
            return sympy.Add(*terms)
        # exact numbers are multiplied one at a time, each product capped: 200 factors of
        # 10,000 digits must be refused after the second, not computed to 2,000,000 digits
        coefficient, factors = sympy.Integer(1), []
        for op, value in [(ast.Mult(), first), *reversed(parts)]:
            if isinstance(op, ast.Div):
                if value == 0:
                    raise Unprocessable("Division by zero.", code="division_by_zero")
                value = sympy.Pow(value, -1)
            if value.is_Rational:
                coefficient = _capped(coefficient * value, self.side, node)
            else:
                factors.append(value)
        return sympy.Mul(coefficient, *factors)

    def _power(self, node: ast.BinOp) -> sympy.Expr:
        base, exponent = self.convert(node.left), self.convert(node.right)
        check_power(base, exponent, self.side.column(node.right))
        if base == 0 and exponent.is_number and exponent.is_negative:
            raise Unprocessable(
                f"0 to the power {exponent} (column {self.side.column(node)}) is undefined.",
                code="division_by_zero",
            )
        return sympy.Pow(base, exponent)

    def _call(self, node: ast.Call) -> sympy.Expr:
        name = node.func.id  # type: ignore[attr-defined]  # parser.check made sure
        args = [self.convert(arg) for arg in node.args]
        if name == "factorial" and args[0].is_number:
            size = _magnitude(args[0])
            if size is None or size > MAX_FACTORIAL:
                raise Unprocessable(
                    f"factorial() is limited to arguments up to {MAX_FACTORIAL} (column "
                    f"{self.side.column(node)}).",
                    code="too_large",
                )
        return FUNCTIONS[name](*args)


_METHODS = {
    ast.Constant: _Builder._constant,
    ast.Name: _Builder._name,
    ast.UnaryOp: _Builder._unary,
    ast.BinOp: _Builder._binop,
    ast.Call: _Builder._call,
}


def check_power(base: sympy.Expr, exponent: sympy.Expr, column: int) -> None:
    """Refuse a power whose exponent or result is enormous, before sympy computes it."""
    if not exponent.is_number:
        return
    size = _magnitude(exponent)
    if size is None or size > MAX_EXPONENT:
        about = "is not finite" if size is None else f"is about {_about(size)}"
        raise Unprocessable(
            f"Exponents are limited to ±{MAX_EXPONENT}; the one at column {column} {about}.",
            code="too_large",
        )
    if not base.is_number or base == 0:
        return
    base_size = _magnitude(base)
    if base_size is None:
        raise Unprocessable(f"The power at column {column} is not finite.", code="too_large")
    if base_size != 0:
        digits = float(size * abs(sympy.log(base_size) / sympy.log(10)).evalf(15))
        if digits > MAX_RESULT_DIGITS:
            raise Unprocessable(
                f"The power near column {column} would have about {digits:,.0f} digits; "
                f"the limit is {MAX_RESULT_DIGITS:,}.",
                code="too_large",
            )


def _about(size: sympy.Float) -> str:
    as_float = float(size)
    return f"{as_float:.3g}" if math.isfinite(as_float) else str(sympy.Float(size, 3))


def _magnitude(value: sympy.Expr) -> sympy.Float | None:
    """|value| as a sympy Float (any exponent range), or None when infinite or not a number."""
    if value.has(sympy.oo, sympy.zoo, sympy.nan):
        return None
    size = sympy.Abs(value.evalf(15)).evalf(15)
    if not size.is_Float and not size.is_zero:
        return None
    return size


def _capped(value: sympy.Expr, side: Side, node: ast.AST) -> sympy.Expr:
    """Refuse an exact number with more than MAX_RESULT_DIGITS digits (e.g. a long product)."""
    if value.is_Rational and value.p.bit_length() + value.q.bit_length() > _MAX_BITS:
        raise Unprocessable(
            f"A number in the expression (near column {side.column(node)}) would have more "
            f"than {MAX_RESULT_DIGITS:,} digits.",
            code="too_large",
        )
    return value
