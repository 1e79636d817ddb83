"""Seeded .aux files (issue 19): a report of a shape typeset before takes one pdflatex pass and
is the same document, page for page, as a build from scratch; a seed that does not fit (another
page count, other column widths, another document), a damaged one or another owner's costs a
pass, never a wrong footer or a failed build."""

import base64
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rendition.latex import (
    DescribeSection,
    FormatCache,
    ReportDocument,
    build_report_tex,
    render_report_pdf,
)
from rendition.latex import aux_seeds as seeds_module
from rendition.latex.aux_seeds import AuxSeeds, shape_of
from rendition.latex.compile import typeset
from tests.latex_fixtures import SHEETS, describe_dict, pdf_page_images, pdf_pages, pdf_text


@pytest.fixture
def formats(report_formats) -> FormatCache:
    return report_formats


def report(title: str = "2020Q1: describe RHPI", when: int = 1, sheets=("RHPI",),
           sha: str = "ab") -> tuple[str, dict[str, bytes]]:
    """A describe report's source; `when` (a day of March 2026), `title` and `sha` change what a
    re-upload changes, `sheets` the report's shape."""
    doc = ReportDocument(title=title, author="A. Analyst", quartile_version="1.0",
                         generated_at=datetime(2026, 3, when, 9, 30, tzinfo=UTC),
                         dataset={"name": f"{title}.xlsx", "sha256": sha * 32},
                         sections=[DescribeSection(describe_dict(s)) for s in sheets])
    return build_report_tex(doc)


def from_scratch(tex: str, assets: dict, formats: FormatCache):
    """The build as it was before seeds: a draft pass, then the final one(s)."""
    return typeset(tex, assets=assets, formats=formats, draft_first=True)


def seeded(tex: str, assets: dict, formats: FormatCache, seeds: AuxSeeds):
    return typeset(tex, assets=assets, formats=formats, draft_first=True, seeds=seeds)


def assert_same_document(built, expected, tmp_path: Path) -> None:
    """Same text laid out alike, same page images, and every numbered page's footer says
    "Page n of N" with N the PDF's page count less the title page."""
    text = pdf_text(built.pdf, tmp_path)
    assert text == pdf_text(expected.pdf, tmp_path)
    pages = pdf_pages(expected.pdf, tmp_path)
    assert pdf_pages(built.pdf, tmp_path) == pages
    assert pdf_page_images(built.pdf, tmp_path) == pdf_page_images(expected.pdf, tmp_path)
    for number, page in enumerate(text.split("\f")[1:pages], start=1):
        assert f"Page {number} of {pages - 1}" in page


def seed_files(seeds: AuxSeeds, tex: str) -> dict[str, bytes]:
    found = seeds.find(tex)
    assert found is not None
    return found


def test_a_report_of_a_known_shape_takes_one_pass_and_is_the_same_document(formats, tmp_path):
    seeds = AuxSeeds.beside(formats, "owner-1")
    first = seeded(*report("2020Q1: describe RHPI", when=1), formats, seeds)
    assert first.passes == 2  # nothing known yet: draft, then the final pass
    assert set(seed_files(seeds, report()[0])) == {"report.aux", "report.out"}
    tex, assets = report("2020Q2: describe RHPI, revised", when=28, sha="cd")
    again = seeded(tex, assets, formats, seeds)
    assert again.passes == 1
    expected = from_scratch(tex, assets, formats)
    assert expected.passes == 2
    assert_same_document(again, expected, tmp_path)
    assert "2020Q2: describe RHPI, revised" in pdf_text(again.pdf, tmp_path)


def test_a_report_with_contents_takes_one_pass_too(formats, tmp_path):
    """Four sections: a table of contents (.toc) on the title page, four pages of tables."""
    seeds = AuxSeeds.beside(formats, "owner-toc")
    seeded(*report("Four sheets", sheets=SHEETS), formats, seeds)
    tex, assets = report("Four sheets again", when=2, sheets=SHEETS, sha="ef")
    again = seeded(tex, assets, formats, seeds)
    assert again.passes == 1
    assert "report.toc" in seed_files(seeds, tex)
    assert_same_document(again, from_scratch(tex, assets, formats), tmp_path)


def page_count_changed(aux: bytes, pages: int) -> bytes:
    """The .aux with lastpage's and LaTeX's page counts one higher (a seed from a report that
    had a page more)."""
    text = aux.decode()
    numbered, absolute = pages - 1, pages
    wrong = (text.replace(f"{{{numbered}}}{{}}{{page.{numbered}}}",
                          f"{{{numbered + 1}}}{{}}{{page.{numbered + 1}}}")
             .replace(f"lastpage@lastpage{{{numbered}}}", f"lastpage@lastpage{{{numbered + 1}}}")
             .replace(f"lastpage@lastpageHy{{{numbered}}}",
                      f"lastpage@lastpageHy{{{numbered + 1}}}")
             .replace(f"abspage@last{{{absolute}}}", f"abspage@last{{{absolute + 1}}}"))
    assert wrong.count(str(numbered + 1)) > text.count(str(numbered + 1))
    return wrong.encode()


def widths_changed(aux: bytes, _pages: int) -> bytes:
    """The .aux with every longtable column 20 pt wider (a seed from a report whose numbers
    were longer)."""
    text, count = re.subn(rb"\\LT@entry\s*\{(\d)\}\{([\d.]+)pt\}",
                          lambda m: b"\\LT@entry{%s}{%.5fpt}" % (m[1], float(m[2]) + 20), aux)
    assert count > 5
    return text


@pytest.mark.parametrize("damage", [page_count_changed, widths_changed])
def test_a_seed_with_a_wrong_page_count_or_widths_is_caught(formats, tmp_path, damage):
    seeds = AuxSeeds.beside(formats, f"owner-{damage.__name__}")
    tex, assets = report()
    expected = from_scratch(tex, assets, formats)
    seeded(tex, assets, formats, seeds)
    files = seed_files(seeds, tex)
    pages = pdf_pages(expected.pdf, tmp_path)
    seeds.keep(tex, {**files, "report.aux": damage(files["report.aux"], pages)})
    built = seeded(tex, assets, formats, seeds)
    assert built.passes >= 2
    assert_same_document(built, expected, tmp_path)
    assert seed_files(seeds, tex) == files  # the right files are the seed again


def test_another_documents_seed_under_this_shape_is_caught(formats, tmp_path):
    """A seed from a four-sheet report (more pages, a contents, other tables) where a one-sheet
    report's should be."""
    seeds = AuxSeeds.beside(formats, "owner-swap")
    big_tex, big_assets = report("Four", sheets=SHEETS)
    seeded(big_tex, big_assets, formats, seeds)
    tex, assets = report()
    seeds.keep(tex, seed_files(seeds, big_tex))
    built = seeded(tex, assets, formats, seeds)
    assert built.passes >= 2
    assert_same_document(built, from_scratch(tex, assets, formats), tmp_path)


def test_another_owners_seeds_are_not_read(formats, tmp_path, caplog):
    tex, assets = report()
    mine, theirs = AuxSeeds.beside(formats, "owner-7"), AuxSeeds.beside(formats, "owner-8")
    seeded(tex, assets, formats, mine)
    assert mine.path_for(tex) != theirs.path_for(tex)
    assert seeded(tex, assets, formats, theirs).passes == 2
    # their file put where mine is looked for: the namespace inside it does not match
    theirs.path_for(tex).replace(mine.path_for(tex))
    assert mine.find(tex) is None and "is not usable" in caplog.text
    assert not mine.path_for(tex).exists()  # set aside
    assert seeded(tex, assets, formats, mine).passes == 2


def real_seed(formats: FormatCache, tex: str, assets: dict) -> bytes:
    seeds = AuxSeeds.beside(formats, "owner-real")
    seeded(tex, assets, formats, seeds)
    return seeds.path_for(tex).read_bytes()


def rewritten(seed: bytes, name: str, data: bytes) -> bytes:
    body = json.loads(seed)
    body["files"] = {name: base64.b64encode(data).decode()}
    return json.dumps(body).encode()


@pytest.mark.parametrize("damage", [
    lambda seed: b"\x00garbage" * 100,
    lambda seed: seed[: len(seed) // 2],
    lambda seed: b"[]",
    lambda seed: rewritten(seed, "../report.aux", b"\\relax"),
    lambda seed: rewritten(seed, "report.tex", b"\\documentclass{article}"),
    lambda seed: rewritten(seed, "report.aux", b"\\undefinedmacro"),  # LaTeX fails with it
    lambda seed: rewritten(seed, "report.aux", b"\\end{document}"),
    lambda seed: seed.replace(b'"files"', b'"filez"'),
], ids=["garbage", "truncated", "not-a-seed", "path", "source", "tex-error", "early-end",
        "no-files"])
def test_a_damaged_seed_cannot_break_a_build(formats, tmp_path, damage):
    tex, assets = report()
    seeds = AuxSeeds(tmp_path / "seeds", "owner-real")
    seeds.directory.mkdir()
    seeds.path_for(tex).write_bytes(damage(real_seed(formats, tex, assets)))
    built = seeded(tex, assets, formats, seeds)
    assert built.passes == 2
    assert_same_document(built, from_scratch(tex, assets, formats), tmp_path)
    assert set(seed_files(seeds, tex)) == {"report.aux", "report.out"}  # a good one now


def test_the_number_of_seeds_is_bounded_and_the_used_ones_stay(tmp_path, monkeypatch):
    monkeypatch.setattr(seeds_module, "KEEP", 3)
    seeds = AuxSeeds(tmp_path / "seeds", "owner-1")
    shapes = [report(sheets=sheets)[0] for sheets in
              (["HPI"], ["RHPI"], ["PDI"], ["RPDI"], ["HPI", "PDI"])]
    for number, tex in enumerate(shapes):
        time.sleep(0.02)  # file times are coarse: one write per tick
        seeds.keep(tex, {"report.aux": f"\\relax % {number}".encode()})
        if number == 2:
            time.sleep(0.02)
            seeds.keep(shapes[0], {"report.aux": b"\\relax % 0"})  # used again: kept
    assert len(list(seeds.directory.glob("*.seed"))) == 3
    assert [seeds.find(tex) is not None for tex in shapes] == [True, False, False, True, True]
    assert not list(seeds.directory.glob(".seed-*"))


def test_the_shape_ignores_titles_dates_hashes_and_numbers_not_sections():
    base = shape_of(report()[0])
    assert shape_of(report("Other title 2021", when=20, sha="9f")[0]) == base
    with_id = report()[0].replace("Describe: RHPI", "Describe: RHPI (qBtPEIINbxiZ)")
    assert shape_of(with_id.replace("qBtPEIINbxiZ", "KrwNZkvILoaW")) == shape_of(with_id)
    # dataset ids are URL-safe base64: "-" and "_" belong to the id, not around it
    assert shape_of(with_id.replace("qBtPEIINbxiZ", "6B7O7O98NK-n")) == shape_of(with_id)
    assert shape_of(with_id.replace("qBtPEIINbxiZ", "P256r_MCi8Nx")) == shape_of(with_id)
    assert shape_of(with_id.replace("qBtPEIINbxiZ", r"P256r\_MCi-8N")) == shape_of(with_id)
    assert shape_of(report(sheets=("HPI",))[0]) != base
    assert shape_of(report(sheets=("RHPI", "HPI"))[0]) != base
    contents, _ = report(sheets=SHEETS)
    assert shape_of(contents.replace(r"\tableofcontents", "")) != shape_of(contents)


def test_render_report_pdf_keeps_seeds_per_owner_beside_the_formats(formats, tmp_path):
    doc = ReportDocument(title="Seeds", sections=[DescribeSection(describe_dict("PDI"))])
    tex, _ = build_report_tex(doc)
    render_report_pdf(doc, formats=formats)  # no owner: nothing kept
    assert AuxSeeds.beside(formats, "owner-5").find(tex) is None
    text = pdf_text(render_report_pdf(doc, formats=formats, namespace="owner-5"), tmp_path)
    assert "Page 1 of" in text
    assert AuxSeeds.beside(formats, "owner-5").find(tex) is not None
    assert AuxSeeds.beside(formats, "owner-6").find(tex) is None
    assert AuxSeeds.beside(formats, "owner-5").directory.parent == formats.directory
