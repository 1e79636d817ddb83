"""The second gate: tokens → a checked Python AST, with every cap applied before any work.

`check()` is what the web server runs on each input (microseconds, no sympy): tokens
(tokens.py), `ast.parse(mode="eval")` of the rebuilt token string, an allow-list of node types,
node-count and nesting caps, arities, and a *structural* size check of powers and factorials
(estimate.py): every part of the tree without variables is estimated with Python floats, so
`9**9**9**9`, `x**(10**6)`, `2**-9**9` or `factorial(10**10)` are refused before anything is
computed. The worker then builds sympy objects from the same tree (build.py), where the exact
checks run again.

`ast.parse` is the only thing that reads the text as Python; nothing is compiled or evaluated.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from analysis.equations.estimate import Estimator, chain_family
from analysis.equations.tokens import (
    ALLOWED_FUNCTIONS,
    CONSTANT_NAMES,
    FUNCTION_ARITIES,
    Token,
    tokenize,
)
from errors import BadInput, Unprocessable

MAX_NODES = 1500
MAX_DEPTH = 50

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_REFUSED_NODES = {
    ast.Attribute: "Attribute access",
    ast.Subscript: "Indexing",
    ast.Lambda: "A lambda",
    ast.ListComp: "A comprehension",
    ast.SetComp: "A comprehension",
    ast.DictComp: "A comprehension",
    ast.GeneratorExp: "A comprehension",
    ast.Dict: "A dictionary",
    ast.Set: "A set",
    ast.List: "A list",
    ast.Tuple: "A tuple",
    ast.IfExp: "A conditional",
    ast.NamedExpr: "An assignment",
    ast.Starred: "Unpacking",
    ast.JoinedStr: "A string",
    ast.Compare: "A comparison",
    ast.BoolOp: "A logical operator",
    ast.Await: "await",
    ast.Yield: "yield",
}


@dataclass(frozen=True)
class Side:
    """One side of an equation (or the whole expression) as checked source and tree."""

    source: str  # the tokens joined by spaces: what ast.parse read
    tree: ast.expr
    tokens: tuple[Token, ...]

    def number_text(self, node: ast.Constant) -> str:
        """The literal as typed (canonical), so 0.1 becomes exactly 1/10, not a binary float."""
        return self.source[node.col_offset : node.end_col_offset]

    def column(self, node: ast.AST) -> int:
        """Column in the text as typed of the token where `node` starts."""
        return _column_at(self.tokens, node.col_offset if isinstance(node, ast.expr) else 0)


@dataclass(frozen=True)
class Checked:
    """An input that passed every structural check: an expression, or `lhs = rhs`."""

    text: str
    sides: tuple[Side, ...]
    names: frozenset[str]  # the variables (not functions, not constants)

    @property
    def is_equation(self) -> bool:
        return len(self.sides) == 2


def check(text: object, *, what: str = "expression") -> Checked:
    """Check one typed expression or equation, or raise a 4xx that says where and why."""
    if not isinstance(text, str):
        raise BadInput(f"The {what} must be text, not {type(text).__name__}.", code="not_text")
    tokens = tokenize(text, what)
    sides = tuple(_check_side(part, what) for part in _split_equation(tokens, what))
    names: set[str] = set()
    for side in sides:
        names.update(
            node.id
            for node in ast.walk(side.tree)
            if isinstance(node, ast.Name)
            and node.id not in CONSTANT_NAMES
            and node.id not in FUNCTION_ARITIES  # the callee of a Call is a Name too
        )
    return Checked(text=text, sides=sides, names=frozenset(names))


def _split_equation(tokens: list[Token], what: str) -> list[list[Token]]:
    equals = [t for t in tokens if t.text == "="]
    if not equals:
        return [tokens]
    if len(equals) > 1:
        raise BadInput(
            f"Only one '=' is allowed; there is another at column {equals[1].column}.",
            code="syntax_error",
        )
    cut = tokens.index(equals[0])
    depth = sum(1 if t.text == "(" else -1 if t.text == ")" else 0 for t in tokens[:cut])
    if depth:
        raise BadInput(
            f"The '=' at column {equals[0].column} is inside parentheses; write an equation "
            "as lhs = rhs.",
            code="syntax_error",
        )
    left, right = tokens[:cut], tokens[cut + 1 :]
    if not left or not right:
        raise BadInput(
            f"The '=' at column {equals[0].column} needs something on both sides.",
            code="syntax_error",
        )
    return [left, right]


def _check_side(tokens: list[Token], what: str) -> Side:
    first, last = tokens[0], tokens[-1]
    if last.kind == "op" and last.text != ")":
        raise BadInput(
            f"The {what} is incomplete: something is missing after '{last.typed}' at column "
            f"{last.column}.",
            code="syntax_error",
        )
    if first.text in ("*", "**", "/", ","):
        raise BadInput(
            f"The {what} cannot start with '{first.typed}' (column {first.column}).",
            code="syntax_error",
        )
    source = " ".join(t.text for t in tokens)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg):
            raise Unprocessable(f"The {what} is nested too deeply.", code="too_deep") from None
        raise BadInput(
            _syntax_message(tokens, source, exc.offset, what), code="syntax_error"
        ) from None
    except (RecursionError, MemoryError):
        raise Unprocessable(f"The {what} is nested too deeply.", code="too_deep") from None
    side = Side(source=source, tree=tree.body, tokens=tuple(tokens))
    _check_nodes(side, what)
    Estimator(side).estimate(side.tree)
    return side


def _syntax_message(tokens: list[Token], source: str, offset: int | None, what: str) -> str:
    index = min(max((offset or 1) - 1, 0), len(source) - 1)
    return f"The {what} is not well formed at column {_column_at(tokens, index)}."


def _column_at(tokens: tuple[Token, ...] | list[Token], offset: int) -> int:
    position = 0
    for token in tokens:
        if offset < position + len(token.text):
            return token.column
        position += len(token.text) + 1
    return tokens[-1].column


def _check_nodes(side: Side, what: str) -> None:
    """Allow-list walk (iterative): node types, calls, constants, count and nesting depth.

    A chain such as `a + b - c + d` is one level, however long: it is nested in Python's AST
    (left-associative) but nobody would call it deep, and build.py flattens it the same way.
    """
    count = 0
    stack: list[tuple[ast.AST, int]] = [(side.tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise Unprocessable(
                f"The {what} has more than {MAX_NODES} parts; split it up.", code="too_large"
            )
        if depth > MAX_DEPTH:
            raise Unprocessable(
                f"The {what} is nested more than {MAX_DEPTH} levels deep "
                f"(at column {side.column(node)}).",
                code="too_deep",
            )
        _check_node(node, side)
        if isinstance(node, ast.BinOp):
            same = chain_family(node.left) == chain_family(node) and chain_family(node) is not None
            stack.append((node.left, depth if same else depth + 1))
            stack.append((node.right, depth + 1))
        elif isinstance(node, ast.UnaryOp):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Call):
            stack.extend((arg, depth + 1) for arg in node.args)


def _check_node(node: ast.AST, side: Side) -> None:
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, _OPERATORS):
            raise BadInput(
                f"The operator at column {side.column(node)} is not allowed in an expression.",
                code="not_allowed",
            )
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise BadInput("Only + and - may stand before a value.", code="not_allowed")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise BadInput("Only numbers are allowed as constants.", code="not_allowed")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTION_ARITIES:
            raise BadInput(
                f"'{node.id}' (column {side.column(node)}) is a function: write {node.id}(...).",
                code="reserved_name",
            )
    elif isinstance(node, ast.Call):
        _check_call(node, side)
    else:
        word = _REFUSED_NODES.get(type(node), type(node).__name__)
        raise BadInput(f"{word} is not allowed in an expression.", code="not_allowed")


def _check_call(node: ast.Call, side: Side) -> None:
    if not isinstance(node.func, ast.Name) or node.keywords:
        raise BadInput("Only plain calls such as sin(x) are allowed.", code="not_allowed")
    name = node.func.id
    if name not in FUNCTION_ARITIES:
        raise BadInput(
            f"Unknown function '{name}'. Allowed: {ALLOWED_FUNCTIONS}.", code="unknown_function"
        )
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise BadInput("Unpacking is not allowed in an expression.", code="not_allowed")
    arities = FUNCTION_ARITIES[name]
    if len(node.args) not in arities:
        counts = (
            " or ".join(map(str, arities))
            if len(arities) < 3
            else (f"{arities[0]} to {arities[-1]}")
        )
        raise BadInput(
            f"{name}() at column {side.column(node)} takes {counts} "
            f"argument{'s' if arities != (1,) else ''}, not {len(node.args)}.",
            code="wrong_arguments",
        )
