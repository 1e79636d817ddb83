"""Make any user text safe to typeset: escaped for TeX, and printable by pdflatex.

Every file, sheet and column name, cell value, title and author passes through `escape_latex`
before it reaches a .tex file. Characters pdflatex cannot set with the fonts we load (Greek, CJK,
emoji…) become `?`, and the report says so once; control characters are dropped.
"""

from __future__ import annotations

import unicodedata

FALLBACK = "?"
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\textquotedbl{}",
    "€": r"\texteuro{}",
    "\u00a0": "~",
}
# Beyond ASCII, what T1 + textcomp + utf8 inputenc set without extra packages.
_TYPOGRAPHIC = set("–—‘’‚“”„…•†‡‰™€′″")


def printable(char: str) -> bool:
    code = ord(char)
    return (
        0x20 <= code < 0x7F
        or 0xA0 <= code <= 0x17F  # Latin-1 supplement and Latin Extended-A
        or char in _TYPOGRAPHIC
    )


def to_printable(text: str) -> tuple[str, bool]:
    """(text pdflatex can set, whether anything was replaced)."""
    out, replaced = [], False
    for char in str(text):
        if char in "\t\n\r":
            out.append(" ")
        elif unicodedata.category(char)[0] == "C":
            replaced = replaced or char not in "\u200b\ufeff"
        elif printable(char):
            out.append(char)
        else:
            base = unicodedata.normalize("NFKD", char)
            kept = "".join(c for c in base if printable(c) and not unicodedata.combining(c))
            out.append(kept or FALLBACK)
            replaced = True
    return "".join(out), replaced


def escape_latex(text: object) -> str:
    """TeX-escaped, printable text: nothing in it can act as a command, group or `^^` escape."""
    clean, _ = to_printable("" if text is None else str(text))
    return "".join(_SPECIAL.get(char, char) for char in clean)


def shorten(text: str, limit: int) -> str:
    """Long names break tables: keep the start, end with an ellipsis."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
