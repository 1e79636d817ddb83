"""The first gate: typed text → a short list of ASCII tokens, or a 4xx that names the column.

Only digits, ASCII names, `+ - * / ^ ( ) = ,`, `.` inside numbers and white space get through.
A few signs people paste are read as what they mean (− × ÷ · π and superscript digits such as
x²); every other non-ASCII character is refused, with a special word for look-alikes of `_` and
of Latin letters (fullwidth `ｘ`, Cyrillic `х`). NFKC normalisation is used only to *recognise*
look-alikes, never to accept them: `x²` normalised would silently become the name `x2`.

Here too: `x^2` → `x**2`, implicit multiplication (`2x`, `2(x+1)`, `(x+1)(x-1)`, `2 sin(x)`,
`x(x+1)`), while `sin(x)` stays a call. No sympy, no eval: this module only reads characters.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass

from errors import BadInput, Unprocessable

MAX_LENGTH = 2000
MAX_PAREN_DEPTH = 50
MAX_NAME_LENGTH = 30
MAX_NUMBER_DIGITS = 30
MAX_NUMBER_EXPONENT = 300

FUNCTION_ARITIES: dict[str, tuple[int, ...]] = {
    "sqrt": (1,),
    "exp": (1,),
    "log": (1, 2),
    "ln": (1,),
    "sin": (1,),
    "cos": (1,),
    "tan": (1,),
    "asin": (1,),
    "acos": (1,),
    "atan": (1,),
    "sinh": (1,),
    "cosh": (1,),
    "tanh": (1,),
    "asinh": (1,),
    "acosh": (1,),
    "atanh": (1,),
    "abs": (1,),
    "floor": (1,),
    "ceiling": (1,),
    "factorial": (1,),
    "min": (2, 3, 4, 5, 6),
    "max": (2, 3, 4, 5, 6),
}
CONSTANT_NAMES = frozenset({"pi", "e", "E", "i", "I", "oo"})
ALLOWED_FUNCTIONS = ", ".join(sorted(FUNCTION_ARITIES))

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9]*)"
    r"|(?P<op>\*\*|==|//|[-+*/^()=,])"
)
_SIGNS = {"−": "-", "–": "-", "×": "*", "·": "*", "⋅": "*", "∙": "*", "÷": "/", "∕": "/"}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+", strict=True))
_QUOTES = "'\"‘’‚‛“”„‟`´"
_REFUSED = {
    ".": "Attribute access ('.' at column {col}) is not allowed in an expression.",
    "[": "Indexing and lists ('[' at column {col}) are not allowed in an expression.",
    "]": "Indexing and lists (']' at column {col}) are not allowed in an expression.",
    "{": "Braces ('{{' at column {col}) are not allowed in an expression: use ( ) to group.",
    "}": "Braces ('}}' at column {col}) are not allowed in an expression: use ( ) to group.",
    ":": "':' at column {col} is not allowed in an expression (no lambdas, slices or :=).",
    ";": "';' at column {col} is not allowed in an expression: give one expression at a time.",
    "%": "'%' at column {col} is not allowed in an expression.",
    "@": "'@' at column {col} is not allowed in an expression.",
}


@dataclass(frozen=True)
class Token:
    kind: str  # "number" | "name" | "op"
    text: str  # as it goes to ast.parse: "^" already became "**"
    column: int  # 1-based, in the text as typed
    typed: str = ""  # as typed ("^" for "**"); empty for an inserted "*"


def tokenize(text: str, what: str = "expression") -> list[Token]:
    """Tokens of one input, parentheses balanced and `*` inserted where it was implied."""
    if len(text) > MAX_LENGTH:
        raise Unprocessable(
            f"The {what} is {len(text):,} characters long; the limit is {MAX_LENGTH:,}.",
            code="too_long",
        )
    ascii_text, columns = _to_ascii(text)
    tokens: list[Token] = []
    position = 0
    while position < len(ascii_text):
        match = _TOKEN.match(ascii_text, position)
        column = columns[position]
        if match is None:
            raise BadInput(_refusal(ascii_text, position, column), code="not_allowed")
        position = match.end()
        kind, value = match.lastgroup, match.group()
        typed = value
        if kind == "space":
            continue
        if kind == "name":
            _check_name(value, column)
        elif kind == "number":
            _check_number(value, column)
            typed, value = value, re.sub(r"^0+(?=\d)", "", value)  # 007 → 7 (Python refuses 007)
        elif value == "==":
            raise BadInput(
                f"Use a single '=' for an equation ('==' at column {column}).", code="syntax_error"
            )
        elif value == "//":
            raise BadInput(
                f"'//' at column {column} is not allowed: use / for division.", code="not_allowed"
            )
        tokens.append(Token(kind, "**" if value == "^" else value, column, typed))
    if not tokens:
        raise BadInput(f"The {what} is empty.", code="empty")
    _check_brackets(tokens, what)
    return _insert_multiplication(tokens)


def _to_ascii(text: str) -> tuple[str, list[int]]:
    """Plain ASCII text and, for each of its characters, its column in the text as typed."""
    out: list[str] = []
    columns: list[int] = []
    index = 0
    while index < len(text):
        char, column = text[index], index + 1
        if char.isascii() and (char.isprintable() or char in "\t\n\r"):
            out.append(char)
            columns.append(column)
        elif char in _SIGNS:
            out.append(_SIGNS[char])
            columns.append(column)
        elif char == "π":
            out.append(" pi ")
            columns.extend([column] * 4)
        elif char in _SUPERSCRIPTS:
            run = ""
            while index < len(text) and text[index] in _SUPERSCRIPTS:
                run += _SUPERSCRIPTS[text[index]]
                index += 1
            index -= 1
            written = f"^({run})"
            out.append(written)
            columns.extend([column] * len(written))
        elif char.isspace():
            out.append(" ")
            columns.append(column)
        else:
            raise BadInput(_non_ascii_message(char, column), code="not_allowed")
        index += 1
    return "".join(out), columns


def _non_ascii_message(char: str, column: int) -> str:
    name = unicodedata.name(char, f"U+{ord(char):04X}")
    normal = unicodedata.normalize("NFKC", char)
    if "_" in normal:
        return (
            f"The character {char!r} ({name}) at column {column} looks like '_' but is not "
            "allowed; names are letters and digits."
        )
    if char in _QUOTES:
        return f"Strings are not allowed in an expression (a quote at column {column})."
    if normal.isascii() and normal.isalnum():
        return (
            f"The character {char!r} ({name}) at column {column} looks like {normal!r} but is "
            f"a different character: type the plain ASCII {normal!r}."
        )
    if char.isalpha():
        return (
            f"The letter {char!r} ({name}) at column {column} is not allowed: names use the "
            "ASCII letters a-z and A-Z and digits."
        )
    return f"The character {char!r} ({name}) at column {column} is not allowed in an expression."


def _refusal(ascii_text: str, position: int, column: int) -> str:
    char = ascii_text[position]
    if char == "_":
        before = ascii_text[position - 1 : position]
        if before and (before.isalnum()):
            return (
                f"'_' at column {column} is not allowed in names: use letters and digits "
                "(x1, not x_1)."
            )
        return f"Names may not start with '_' (column {column})."
    if char in _QUOTES:
        return f"Strings are not allowed in an expression (a quote at column {column})."
    if char in _REFUSED:
        return _REFUSED[char].format(col=column)
    if not char.isprintable():
        return f"The control character {char!r} at column {column} is not allowed."
    return f"The character {char!r} at column {column} is not allowed in an expression."


def _check_name(name: str, column: int) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise BadInput(
            f"The name at column {column} is longer than {MAX_NAME_LENGTH} characters.",
            code="not_allowed",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise BadInput(
            f"'{name}' (column {column}) is a Python keyword and is not allowed in an expression.",
            code="not_allowed",
        )


def _check_number(text: str, column: int) -> None:
    mantissa, _, exponent = text.lower().partition("e")
    digits = mantissa.replace(".", "").lstrip("0")
    if len(digits) > MAX_NUMBER_DIGITS or (exponent and abs(int(exponent)) > MAX_NUMBER_EXPONENT):
        raise Unprocessable(
            f"The number at column {column} is too large: numbers may have at most "
            f"{MAX_NUMBER_DIGITS} digits and a power of ten up to ±{MAX_NUMBER_EXPONENT} "
            "(like 1.5e-30).",
            code="too_large",
        )


def _check_brackets(tokens: list[Token], what: str) -> None:
    """Balanced, not too deep, no `()`, and commas only between a function's arguments."""
    stack: list[tuple[Token, bool]] = []  # each open '(' and whether it opens a call
    for index, token in enumerate(tokens):
        before = tokens[index - 1] if index else None
        if token.text == "(":
            is_call = before is not None and before.kind == "name" and _call_like(before.text)
            stack.append((token, is_call))
            if len(stack) > MAX_PAREN_DEPTH:
                raise Unprocessable(
                    f"The {what} is nested more than {MAX_PAREN_DEPTH} parentheses deep "
                    f"(at column {token.column}).",
                    code="too_deep",
                )
        elif token.text == ")":
            if not stack:
                raise BadInput(
                    f"Unexpected ')' at column {token.column}: there is no '(' to close.",
                    code="syntax_error",
                )
            opened, is_call = stack.pop()
            if before is opened and not is_call:
                raise BadInput(f"Empty parentheses at column {opened.column}.", code="syntax_error")
        elif token.text == "," and not (stack and stack[-1][1]):
            raise BadInput(
                f"',' at column {token.column} is only allowed between a function's arguments, "
                "as in max(x, 2).",
                code="syntax_error",
            )
    if stack:
        raise BadInput(
            f"Unbalanced parenthesis: the '(' at column {stack[-1][0].column} is never closed.",
            code="syntax_error",
        )


def _call_like(name: str) -> bool:
    """A name that, directly before '(', is read as a call (unknown ones are refused later)."""
    return name in FUNCTION_ARITIES or (len(name) > 1 and name not in CONSTANT_NAMES)


def _insert_multiplication(tokens: list[Token]) -> list[Token]:
    """`2x` → `2*x`, `2(x+1)`, `(a)(b)`, `x(x+1)` get a `*`; `sin(x)` stays a call.

    A name of two or more letters directly before '(' must be a known function: `foo(x)` is far
    more likely a typo than foo times x, so it is refused with the list of functions.
    """
    out: list[Token] = []
    for token in tokens:
        before = out[-1] if out else None
        if before is not None:
            ends_value = before.kind in ("number", "name") or before.text == ")"
            starts_value = token.kind in ("number", "name") or token.text == "("
            if before.kind == "name" and token.text == "(" and _call_like(before.text):
                if before.text in FUNCTION_ARITIES:
                    out.append(token)
                    continue
                raise BadInput(
                    f"Unknown function '{before.text}' at column {before.column}. "
                    f"Allowed: {ALLOWED_FUNCTIONS}. (To multiply, write "
                    f"{before.text}*(...).)",
                    code="unknown_function",
                )
            if before.kind == "number" and token.kind == "number":
                raise BadInput(
                    f"Two numbers in a row at column {token.column}: put an operator between them.",
                    code="syntax_error",
                )
            if ends_value and starts_value:
                out.append(Token("op", "*", token.column))
        out.append(token)
    return out
