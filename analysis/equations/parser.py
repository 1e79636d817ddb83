"""A parser of our own for typed mathematics: text → sympy objects, with no eval anywhere.

Three gates, cheapest first, so hostile input costs microseconds and never reaches sympy:
1. characters and tokens: only digits, ASCII names, `+ - * / ^ ( ) = , .` and spaces; balanced
   parentheses with a depth cap; `x^2` becomes `x**2` and `2x`, `2(x+1)`, `(a)(b)` get their `*`;
2. `ast.parse(mode="eval")` of the rebuilt token string, then an allow-list of node types;
3. our own visitor builds sympy objects directly, capping integer size, exponents and factorials
   *before* sympy evaluates anything.
`sympify`, `parse_expr`, `eval`, `exec` and `compile` are never called on user text.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
from dataclasses import dataclass

import sympy

from errors import BadInput, Unprocessable

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_NODES = 600
MAX_INT_DIGITS = 30
MAX_EXPONENT = 1000
MAX_RESULT_DIGITS = 10_000
MAX_FACTORIAL = 1000

FUNCTIONS: dict[str, tuple[object, tuple[int, ...]]] = {
    "sqrt": (sympy.sqrt, (1,)),
    "exp": (sympy.exp, (1,)),
    "log": (sympy.log, (1, 2)),
    "ln": (sympy.log, (1,)),
    "sin": (sympy.sin, (1,)),
    "cos": (sympy.cos, (1,)),
    "tan": (sympy.tan, (1,)),
    "asin": (sympy.asin, (1,)),
    "acos": (sympy.acos, (1,)),
    "atan": (sympy.atan, (1,)),
    "sinh": (sympy.sinh, (1,)),
    "cosh": (sympy.cosh, (1,)),
    "tanh": (sympy.tanh, (1,)),
    "asinh": (sympy.asinh, (1,)),
    "acosh": (sympy.acosh, (1,)),
    "atanh": (sympy.atanh, (1,)),
    "abs": (sympy.Abs, (1,)),
    "floor": (sympy.floor, (1,)),
    "ceiling": (sympy.ceiling, (1,)),
    "factorial": (sympy.factorial, (1,)),
    "min": (sympy.Min, (2, 3, 4, 5, 6)),
    "max": (sympy.Max, (2, 3, 4, 5, 6)),
}
CONSTANTS = {"pi": sympy.pi, "e": sympy.E, "E": sympy.E, "i": sympy.I, "I": sympy.I, "oo": sympy.oo}
RESERVED = set(FUNCTIONS) | set(CONSTANTS)

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^()=,])"
)
_TYPOGRAPHIC = str.maketrans({"−": "-", "×": "*", "÷": "/", "·": "*"})
_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Call,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Load,
)
_NODE_WORDS = {
    ast.Attribute: "Attribute access",
    ast.Subscript: "Indexing",
    ast.Lambda: "A lambda",
    ast.ListComp: "A comprehension",
    ast.GeneratorExp: "A comprehension",
    ast.Dict: "A dictionary",
    ast.List: "A list",
    ast.Tuple: "A tuple",
    ast.IfExp: "A conditional",
    ast.NamedExpr: "An assignment",
    ast.Starred: "Unpacking",
    ast.JoinedStr: "A string",
    ast.Compare: "A comparison",
    ast.BoolOp: "A logical operator",
}


@dataclass(frozen=True)
class Token:
    kind: str  # "number" | "name" | "op"
    text: str
    column: int  # 1-based, in the text as typed


@dataclass(frozen=True)
class Parsed:
    """A parsed input: an expression, or an equation lhs = rhs."""

    text: str
    lhs: sympy.Expr
    rhs: sympy.Expr | None

    @property
    def is_equation(self) -> bool:
        return self.rhs is not None

    def as_expression(self) -> sympy.Expr:
        """lhs - rhs for an equation (so "f = g" solves f - g = 0), else the expression."""
        return self.lhs if self.rhs is None else self.lhs - self.rhs

    def as_sympy(self):
        return self.lhs if self.rhs is None else sympy.Eq(self.lhs, self.rhs, evaluate=False)


def parse(text: object, *, what: str = "expression") -> Parsed:
    """Parse one typed expression or equation, or raise a 4xx saying where and why."""
    if not isinstance(text, str):
        raise BadInput(f"The {what} must be text.", code="not_text")
    if len(text) > MAX_LENGTH:
        raise Unprocessable(
            f"The {what} is {len(text):,} characters long; the limit is {MAX_LENGTH:,}.",
            code="too_long",
        )
    tokens = tokenize(text)
    if not tokens:
        raise BadInput(f"The {what} is empty.", code="empty")
    sides = _split_equation(tokens, text)
    built = [_build(side, what) for side in sides]
    return Parsed(text=text, lhs=built[0], rhs=built[1] if len(built) == 2 else None)


def tokenize(text: str) -> list[Token]:
    """Tokens of the input; rejects anything outside the ASCII alphabet above.

    A few typographic signs people paste (− × ÷ ·) are read as their ASCII operators; any other
    non-ASCII character, including look-alikes of letters or of '_', is refused with its column.
    """
    normal = text.translate(_TYPOGRAPHIC)
    for position, char in enumerate(normal):
        if not char.isascii():
            raise BadInput(_bad_char_message(char, position + 1), code="syntax_error")
    tokens: list[Token] = []
    position = 0
    depth = 0
    opened: list[int] = []
    while position < len(normal):
        match = _TOKEN.match(normal, position)
        column = position + 1
        if match is None:
            char = text[position]
            raise BadInput(_bad_char_message(char, column), code="syntax_error")
        kind = match.lastgroup
        value = match.group()
        position = match.end()
        if kind == "space":
            continue
        if kind == "name":
            _check_name(value, column)
            follows = normal[position : position + 1]
            if follows == "(" and len(value) > 1 and value not in FUNCTIONS:
                allowed = ", ".join(sorted(FUNCTIONS))
                raise BadInput(
                    f"Unknown function '{value}' at column {column}. Allowed: {allowed}.",
                    code="unknown_function",
                )
        if value == "(":
            depth += 1
            opened.append(column)
            if depth > MAX_DEPTH:
                raise Unprocessable(
                    f"The input is nested more than {MAX_DEPTH} parentheses deep "
                    f"(at column {column}).",
                    code="too_deep",
                )
        elif value == ")":
            if depth == 0:
                raise BadInput(
                    f"Unexpected ')' at column {column}: nothing to close.", code="syntax_error"
                )
            depth -= 1
            opened.pop()
        tokens.append(Token(kind, "**" if value == "^" else value, column))
    if opened:
        raise BadInput(
            f"Unbalanced parenthesis: the '(' at column {opened[-1]} is never closed.",
            code="syntax_error",
        )
    return _insert_multiplication(tokens)


def _bad_char_message(char: str, column: int) -> str:
    if unicodedata.normalize("NFKC", char) == "_" or char in "＿﹍﹎﹏‗":
        return f"The character {char!r} at column {column} looks like '_' but is not allowed."
    if char in "'\"":
        return f"Strings are not allowed in an expression (quote at column {column})."
    if char in "[]{}":
        return f"{char!r} at column {column} is not allowed: use ( ) for grouping."
    if char.isalpha():
        return (
            f"The letter {char!r} at column {column} is not allowed: names use the "
            "ASCII letters A–Z and a–z, digits and '_'."
        )
    return f"The character {char!r} at column {column} is not allowed in an expression."


def _check_name(name: str, column: int) -> None:
    if name.startswith("_"):
        raise BadInput(f"Names may not start with '_' (column {column}).", code="not_allowed")
    if keyword.iskeyword(name) or name in {"print", "exec", "eval", "open", "import"}:
        raise BadInput(
            f"'{name}' at column {column} is not allowed in an expression.", code="not_allowed"
        )


def _insert_multiplication(tokens: list[Token]) -> list[Token]:
    """`2x` → `2*x`, `2(x+1)` → `2*(x+1)`, `(a)(b)` → `(a)*(b)`, but `sin(x)` stays a call."""
    out: list[Token] = []
    for token in tokens:
        if out:
            before = out[-1]
            ends_value = before.kind in ("number", "name") or before.text == ")"
            starts_value = token.kind in ("number", "name") or token.text == "("
            is_call = before.kind == "name" and before.text in FUNCTIONS and token.text == "("
            if ends_value and starts_value and not is_call:
                if before.kind == "number" and token.kind == "number":
                    raise BadInput(
                        f"Two numbers in a row at column {token.column}.", code="syntax_error"
                    )
                out.append(Token("op", "*", token.column))
        out.append(token)
    return out


def _split_equation(tokens: list[Token], text: str) -> list[list[Token]]:
    equals = [t for t in tokens if t.text == "="]
    if len(equals) > 1:
        raise BadInput(
            f"Only one '=' is allowed; another is at column {equals[1].column}.",
            code="syntax_error",
        )
    if not equals:
        return [tokens]
    cut = tokens.index(equals[0])
    left, right = tokens[:cut], tokens[cut + 1 :]
    if not left or not right:
        raise BadInput(
            f"'=' at column {equals[0].column} needs something on both sides.", code="syntax_error"
        )
    return [left, right]


def _build(tokens: list[Token], what: str) -> sympy.Expr:
    source = " ".join(t.text for t in tokens)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        column = _original_column(tokens, source, exc.offset)
        raise BadInput(
            f"The {what} is not well formed near column {column}.", code="syntax_error"
        ) from None
    except (RecursionError, MemoryError):
        raise Unprocessable(f"The {what} is nested too deeply.", code="too_deep") from None
    _check_tree(tree)
    return _Converter().convert(tree.body)


def _original_column(tokens: list[Token], source: str, offset: int | None) -> int:
    if not offset:
        return tokens[0].column
    position = 0
    for token in tokens:
        if position + len(token.text) >= offset:
            return token.column
        position += len(token.text) + 1
    return tokens[-1].column


def _check_tree(tree: ast.AST) -> None:
    count = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise Unprocessable("The input is too long to process.", code="too_large")
        if depth > 3 * MAX_DEPTH:
            raise Unprocessable("The input is nested too deeply.", code="too_deep")
        if not isinstance(node, _ALLOWED_NODES):
            word = _NODE_WORDS.get(type(node), type(node).__name__)
            raise BadInput(f"{word} is not allowed in an expression.", code="not_allowed")
        if isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name)):
            raise BadInput(
                "Only plain function calls such as sin(x) are allowed.", code="not_allowed"
            )
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise BadInput("Only numbers are allowed as constants.", code="not_allowed")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Converter:
    """AST → sympy, one allowed node type at a time."""

    def convert(self, node: ast.AST) -> sympy.Expr:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:  # pragma: no cover - _check_tree refuses these first
            raise BadInput(f"{type(node).__name__} is not allowed.", code="not_allowed")
        return method(node)

    def _Constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_INT_DIGITS:
                raise Unprocessable(
                    f"Numbers may have at most {MAX_INT_DIGITS} digits.", code="too_large"
                )
            return sympy.Integer(value)
        if not math.isfinite(value):
            raise Unprocessable("A number is too large.", code="too_large")
        return sympy.Rational(repr(value))

    def _Name(self, node: ast.Name) -> sympy.Expr:
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise BadInput(
                f"'{node.id}' is a function: write {node.id}(...).", code="reserved_name"
            )
        return sympy.Symbol(node.id)

    def _UnaryOp(self, node: ast.UnaryOp) -> sympy.Expr:
        operand = self.convert(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand

    def _BinOp(self, node: ast.BinOp) -> sympy.Expr:
        left, right = self.convert(node.left), self.convert(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise Unprocessable("Division by zero.", code="division_by_zero")
            return left / right
        return _safe_power(left, right)

    def _Call(self, node: ast.Call) -> sympy.Expr:
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise BadInput(
                f"Unknown function '{name}'. Allowed: {allowed}.", code="unknown_function"
            )
        function, arities = FUNCTIONS[name]
        if len(node.args) not in arities:
            raise BadInput(
                f"{name}() takes {' or '.join(map(str, arities))} argument(s).",
                code="wrong_arguments",
            )
        args = [self.convert(a) for a in node.args]
        if name == "factorial" and args[0].is_number and abs(args[0]) > MAX_FACTORIAL:
            raise Unprocessable(
                f"factorial() is limited to arguments up to {MAX_FACTORIAL}.", code="too_large"
            )
        return function(*args)


def _safe_power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """Refuse powers whose result would be enormous before sympy computes them."""
    if exponent.is_number:
        if exponent.has(sympy.oo, sympy.zoo, sympy.nan):
            raise Unprocessable("An exponent is not finite.", code="too_large")
        size = abs(complex(exponent.evalf(20)))
        if size > MAX_EXPONENT:
            raise Unprocessable(
                f"Exponents are limited to ±{MAX_EXPONENT}; this one is about {size:.3g}.",
                code="too_large",
            )
        if base.is_number and base != 0:
            magnitude = abs(complex(base.evalf(20)))
            if magnitude > 0 and size * abs(math.log10(magnitude)) > MAX_RESULT_DIGITS:
                raise Unprocessable("The power's result would be too large.", code="too_large")
    return sympy.Pow(base, exponent)
