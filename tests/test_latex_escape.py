"""escape_latex: nothing a user types can act as TeX; everything printable prints as typed."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rendition.latex.compile import typeset
from rendition.latex.escape import (
    PRINTABLE,
    Latex,
    breakable,
    escape_latex,
    replacement_counter,
    shorten,
    to_printable,
)
from rendition.latex.report import ReportDocument, build_report_tex
from rendition.latex.sections import CleaningLogSection
from tests.latex_fixtures import CONTROL, HOSTILE_ASCII, UNICODE, pdf_text, squash

# The only control sequences escape_latex may emit, and what may follow a backslash.
COMMANDS = {
    "textbackslash", "textasciitilde", "textasciicircum", "textless", "textgreater", "textbar",
    "textquotedbl", "textasciigrave", "textminus", "ensuremath", "leq", "geq", "neq", "approx",
    "infty", "allowbreak",
}
ESCAPED_SYMBOLS = set("{}$&%#_")


def assert_inert(latex: str) -> None:
    """Tokenise like TeX: only known commands, balanced braces, no live special characters."""
    depth = 0
    i = 0
    while i < len(latex):
        char = latex[i]
        if char == "\\":
            name = re.match(r"[A-Za-z]+", latex[i + 1 :])
            if name:
                assert name.group() in COMMANDS, f"unexpected command \\{name.group()}"
                i += 1 + len(name.group())
                continue
            assert latex[i + 1 : i + 2] in ESCAPED_SYMBOLS, f"bad escape at {latex[i:i + 5]!r}"
            i += 2
            continue
        assert char not in "$&%#^~_", f"live {char!r} in {latex!r}"
        assert char == " " or (" " < char <= "~") or char in PRINTABLE, f"{char!r} kept"
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            assert depth >= 0, f"unbalanced }} in {latex!r}"
        i += 1
    assert depth == 0, f"unbalanced {{ in {latex!r}"
    for ligature in ("--", "''", ",,", "<<", ">>", "``", "^^"):
        assert ligature not in latex
    stripped = latex.replace("{[}", "").replace("{]}", "").replace("{*}", "")
    assert not set("[]*") & set(stripped), f"bare [ ] or * in {latex!r}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\", r"\textbackslash{}"),
        ("{}", r"\{\}"),
        ("$&%#_", r"\$\&\%\#\_"),
        ("~^", r"\textasciitilde{}\textasciicircum{}"),
        ("a--b", "a-{}-b"),
        ("[x]", "{[}x{]}"),
        ("**", "{*}{*}"),
        ("Müller €", "Müller €"),
        ("tab\there\nnewline", "tab here newline"),
        ("x \u2264 y", r"x \ensuremath{\leq} y"),
        (None, ""),
        (3.5, "3.5"),
    ],
)
def test_escape_examples(text, expected):
    assert escape_latex(text) == expected


@pytest.mark.parametrize("text", HOSTILE_ASCII + UNICODE + CONTROL + ["x" * 500])
def test_hostile_strings_are_inert(text):
    assert_inert(escape_latex(text))
    assert_inert(breakable(text))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\{}$&%#_~^[]*-',`<>|\"^5cinput/ \t\n\x00\x7f"))
               | st.characters(), max_size=60))
def test_any_text_is_inert(text):
    assert_inert(escape_latex(text))
    assert_inert(breakable(text, every=5))


def test_escaped_latex_is_not_escaped_twice():
    once = escape_latex(r"\input{x}")
    assert isinstance(once, Latex)
    assert escape_latex(once) == once
    # a plain str that merely looks escaped is escaped again: only Latex is trusted
    assert escape_latex(str(once)) != once


def test_unprintable_characters_become_question_marks_and_are_counted():
    with replacement_counter() as counter:
        assert to_printable("Ελληνικά") == ("????????", True)
        assert to_printable("中文 😀") == ("?? ?", True)
        assert to_printable("Müller") == ("Müller", False)
    assert counter[0] == 2
    assert to_printable("x")[1] is False  # no counter active: still fine


def test_normalisation_keeps_what_can_be_kept():
    assert to_printable("Mu\u0308ller") == ("Müller", False)  # decomposed ü (macOS names)
    assert to_printable("ＡＢＣ１") == ("ABC1", False)  # full-width forms
    assert to_printable("ǹ") == ("n", True)  # accent pdflatex lacks: base letter, reported
    assert to_printable("a\u00adb\u200bc") == ("abc", False)  # invisible characters


@pytest.mark.parametrize("text", CONTROL)
def test_control_and_bidi_characters_are_dropped(text):
    clean, _ = to_printable(text)
    assert all(unicodedata.category(c)[0] != "C" for c in clean)
    clean.encode("utf-8")  # lone surrogates gone: the .tex file can be written


def test_shorten_and_breakable_bound_long_names():
    name = "x" * 500
    short = shorten(name, 40)
    assert len(short) == 40 and short.endswith("…")
    assert shorten("short", 40) == "short"
    broken = breakable(name, every=12)
    assert broken.count(r"\allowbreak{}") == 500 // 12
    assert broken.replace(r"\allowbreak{}", "") == name
    assert r"\allowbreak" not in breakable("a normal sentence of short words")


def test_every_printable_character_typesets_and_hostile_text_prints_as_typed(tmp_path):
    """One real pdflatex build through the report template: every PRINTABLE character has a
    glyph (no "Missing character"), and hostile ASCII and European words read back from the
    PDF as they were typed. (pdftotext decomposes some accented glyphs, so not all of
    PRINTABLE can be compared as text.)"""
    everything = "".join(sorted(PRINTABLE))
    words = "Müller Søren façade naïve Œuvre Žižek Straße Dvořák Ångström Łódź Ærø"
    entries = [{"sheet": "hostile", "step": str(i), "detail": text}
               for i, text in enumerate(HOSTILE_ASCII + UNICODE + CONTROL)]
    entries += [{"sheet": "all", "step": "printable", "detail": everything},
                {"sheet": "words", "step": "latin", "detail": words}]
    tex, assets = build_report_tex(
        ReportDocument(title="Characters", sections=[CleaningLogSection(entries)])
    )
    tex = tex.replace(r"\begin{document}", "\\tracinglostchars=2\n\\begin{document}", 1)
    built = typeset(tex, assets=assets, timeout=60)
    assert "Missing character" not in built.log
    text = squash(pdf_text(built.pdf, tmp_path, layout=False))
    for hostile in HOSTILE_ASCII:  # ' is set as the typographic apostrophe ’
        assert squash(hostile).replace("'", "\u2019") in text, hostile
    assert squash(words) in text
    for sample in ("Müller&Söhne€", "Łódź", "ØresundÆrø", "emoji?ok", "????????"):
        assert sample in text
    assert "root:x:0:0" not in text
