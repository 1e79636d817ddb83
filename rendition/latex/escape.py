"""Make any user text safe to typeset: escaped for TeX, and printable by pdflatex.

Every file, sheet and column name, cell value, title and author passes through `escape_latex`
before it reaches a .tex file. After escaping, nothing in the text can act as a command, a group,
a math shift, an alignment tab, a comment, a `^^` hex escape, an optional argument (`[` after
`\\\\`) or a ligature (`--`, `''`, `,,`, `<<`).

pdflatex with utf8 inputenc + T1 + lmodern + textcomp sets Latin-1, Latin Extended-A and the usual
typographic symbols (`PRINTABLE` below, verified by compiling every one of them in
tests/test_latex_escape.py). Anything else (Greek, Cyrillic, CJK, emoji) becomes `?`: the
stated fallback, which the report mentions once (see `replacement_counter`). Control and bidi
format characters are dropped.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import unicodedata
from collections.abc import Iterator

FALLBACK = "?"
ELLIPSIS = "…"

# Beyond printable ASCII: the characters LaTeX's utf8 inputenc maps to glyphs of the T1/TS1
# lmodern fonts (read from t1enc.dfu, ts1enc.dfu, ot1enc.dfu, omsenc.dfu, utf8enc.dfu of
# TeX Live 2022, minus format characters and the Ohm sign, which NFC turns into Greek Omega).
PRINTABLE = frozenset(
    "\u00a0¡¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞß"
    "àáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİıĲĳĴĵĶķ"
    "ĹĺĻļĽľŁłŃńŅņŇňŊŋŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƒǄǅǆǇǈǉǊǋǌǍǎǏǐǑǒǓǔ"
    "ǢǣǦǧǨǩǪǫǰǴǵȘșȚțȲȳȷˆˇ˘˙˛˜˝฿ḂḃḍḞḟḠḡḥḰḱḷṃṅṇṛṣṭẎẏẐẑẞỲỳ‐‑‒–—―‖‘’‚“”„†‡•…‰‱‹›※‽⁄⁎⁒"
    "₡₤₦₩₫€₱℃№℗℞℠™℧℮←↑→↓〈〉␢␣◦◯♪⟨⟩〈〉ﬀﬁﬂﬃﬄﬅﬆ"
)

# ASCII characters TeX treats specially, or that form ligatures, and a few common symbols
# outside PRINTABLE that textcomp or math mode can still set.
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
    "`": r"\textasciigrave{}",
    "[": "{[}",
    "]": "{]}",
    "*": "{*}",
    "\u2212": r"\textminus{}",
    "\u2264": r"\ensuremath{\leq}",
    "\u2265": r"\ensuremath{\geq}",
    "\u2260": r"\ensuremath{\neq}",
    "\u2248": r"\ensuremath{\approx}",
    "\u221e": r"\ensuremath{\infty}",
}
# A doubled character that would become one glyph: `--` → –, `''` → ”, `,,` → „.
_LIGATURE_START = frozenset("-',")
_SILENT = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")  # invisible: dropped, no notice
_WHITESPACE = frozenset("\t\n\r\v\f\u2028\u2029")
# Text made only of these needs no escaping (unless it holds "--"): the fast path.
_PLAIN = re.compile(r"[A-Za-z0-9 .:;!?()+=/@-]*")

_replacements: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "latex_replacements", default=None
)


class Latex(str):
    """LaTeX written by Quartile's own code (or already escaped): printed as it is.

    Only code in `rendition.latex` creates these, and never around raw user text.
    """


@contextlib.contextmanager
def replacement_counter() -> Iterator[list[int]]:
    """Count, while active, the characters that had to be replaced by `?` (one report = one
    context), so that the report can say so once."""
    counter = [0]
    token = _replacements.set(counter)
    try:
        yield counter
    finally:
        _replacements.reset(token)


def _substitute(char: str) -> tuple[str, bool]:
    """A printable stand-in for `char` and whether information was lost."""
    compat = unicodedata.normalize("NFKC", char)
    if compat != char and all(c in PRINTABLE or " " <= c <= "~" for c in compat):
        return compat, False  # full-width letters, ligatures, odd spaces
    base = "".join(
        c
        for c in unicodedata.normalize("NFKD", char)
        if (c in PRINTABLE or " " <= c <= "~") and not unicodedata.combining(c)
    )
    return (base or FALLBACK), True


def to_printable(text: object) -> tuple[str, bool]:
    """(text pdflatex can set with our fonts, whether any character was replaced).

    NFC first, so that a decomposed "u + ¨" from a Mac file name stays one "ü".
    """
    out: list[str] = []
    replaced = False
    for char in unicodedata.normalize("NFC", "" if text is None else str(text)):
        if " " <= char <= "~" or char in PRINTABLE or char in _SPECIAL:
            out.append(char)
        elif char in _WHITESPACE:
            out.append(" ")
        elif char in _SILENT or unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            continue  # control, bidi overrides, lone surrogates: never shown
        else:
            stand_in, lost = _substitute(char)
            out.append(stand_in)
            replaced = replaced or lost
    if replaced:
        counter = _replacements.get()
        if counter is not None:
            counter[0] += 1
    return "".join(out), replaced


def _escape_printable(clean: str) -> str:
    out = []
    last = len(clean) - 1
    for i, char in enumerate(clean):
        out.append(_SPECIAL.get(char, char))
        if char in _LIGATURE_START and i < last and clean[i + 1] == char:
            out.append("{}")
    return "".join(out)


def escape_latex(text: object) -> Latex:
    """TeX-escaped, printable text: nothing in it can act as a command, group or `^^` escape.

    Already-escaped `Latex` is returned unchanged; None becomes the empty string.
    """
    if isinstance(text, Latex):
        return text
    if isinstance(text, str) and _PLAIN.fullmatch(text) and "--" not in text:
        return Latex(text)  # the common case (names, numbers): nothing to do
    clean, _ = to_printable(text)
    return Latex(_escape_printable(clean))


def breakable(text: object, every: int = 12, longer_than: int = 24) -> Latex:
    """Escaped text in which unbroken runs of more than `longer_than` characters (hashes,
    paths, 500 × "x") may break across lines about every `every` characters (of average
    width: fewer W, more i): for table cells, headers and titles that must fit a width.
    Ordinary words are never split."""
    clean, _ = to_printable(text)
    pieces: list[str] = []
    position = 0
    for run in re.finditer(rf"\S{{{longer_than + 1},}}", clean):
        pieces.append(_escape_printable(clean[position : run.start()]))
        chunks = _chunks(run.group(), every * 0.5)
        pieces.append(r"\allowbreak{}".join(_escape_printable(c) for c in chunks))
        position = run.end()
    pieces.append(_escape_printable(clean[position:]))
    return Latex("".join(pieces))


def _char_em(char: str) -> float:
    """Rough glyph width in em (Latin Modern): enough to keep chunks inside a column."""
    if char in "MWmw@%":
        return 0.9
    if char.isupper():
        return 0.72
    if char in "iljt.,:;'!|()[]":
        return 0.3
    return 0.5


def _chunks(word: str, limit_em: float) -> list[str]:
    chunks, current, width = [], [], 0.0
    for char in word:
        char_width = _char_em(char)
        if current and width + char_width > limit_em:
            chunks.append("".join(current))
            current, width = [], 0.0
        current.append(char)
        width += char_width
    chunks.append("".join(current))
    return chunks


def shorten(text: object, limit: int) -> str:
    """At most `limit` characters: long names would push a table off the page, so keep the
    start and end it with an ellipsis (applied to raw text, before escaping)."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + ELLIPSIS
