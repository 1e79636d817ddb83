"""The report preamble precompiled into a pdflatex format (issue 19): built once per machine and
used, the same document as without it (to the word's position), every guard kept; a missing,
broken or raced-over format never costs a report, only time."""

import io
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
from matplotlib.figure import Figure

from errors import Unprocessable
from rendition.latex import (
    ChartSection,
    DescribeSection,
    ReportDocument,
    build_report_tex,
    prepare_report_format,
)
from rendition.latex import formats as formats_module
from rendition.latex.compile import typeset
from rendition.latex.formats import FormatCache, build_format, fixed_preamble
from tests.latex_fixtures import (
    SHEETS,
    describe_dict,
    pdf_page_images,
    pdf_pages,
    pdf_text,
    write18_marker,
)

PASSWD = "root:x:0:0"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[FormatCache, Path]:
    """A format directory with the report template's format built in it."""
    cache = FormatCache(tmp_path_factory.mktemp("formats"))
    path = prepare_report_format(cache)
    assert path is not None
    return cache, path


def report_tex(body: str = "") -> tuple[str, dict[str, bytes]]:
    """A small report's source, with raw `body` (our own test TeX) right after
    \\begin{document}."""
    doc = ReportDocument(title="Formats", sections=[DescribeSection(describe_dict("RHPI"))])
    tex, assets = build_report_tex(doc)
    return tex.replace("\\begin{document}\n", "\\begin{document}\n" + body, 1), assets


def word_boxes(pdf: bytes, tmp_path: Path) -> str:
    """Every word with its position on its page (poppler), without the creation date."""
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                           text=True, check=True).stdout
    return re.sub(r'<meta name="(CreationDate|ModDate)"[^>]*>', "", boxes)


def chart_png() -> bytes:
    figure = Figure(figsize=(6, 3))
    figure.subplots().plot([0, 1, 2], [2, 0, 1])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def test_the_templates_fixed_preamble_holds_nothing_of_the_document():
    """Else every report would build (and keep) a format of its own."""
    first, _ = build_report_tex(ReportDocument(title="One", author="A", quartile_version="1"))
    second, _ = build_report_tex(ReportDocument(
        title="Two & more", author="B", quartile_version="2", toc=True,
        dataset={"name": "x.csv", "sha256": "ab" * 32},
        sections=[DescribeSection(describe_dict("RHPI"))]))
    preamble = fixed_preamble(first)
    assert preamble is not None and preamble == fixed_preamble(second)
    assert "One" not in preamble and "pdftitle" not in preamble


def test_the_format_is_built_once_uncompressed_and_named_by_its_preamble(made, monkeypatch):
    cache, path = made
    assert path.parent == cache.directory and path.name.startswith("report-")
    with path.open("rb") as handle:
        assert handle.read(2) != b"\x1f\x8b"  # stored inflated: loading it skips zlib
    assert path.stat().st_size > 1_000_000
    monkeypatch.setattr(formats_module, "build_format", pytest.fail)
    assert prepare_report_format(cache) == path  # found, not built again
    assert not list(cache.directory.glob(".report-*"))  # no temporary file left


def test_a_report_with_the_format_is_the_same_document_word_for_word(made, tmp_path):
    """Regression: TeX does not dump the page under construction, so the first format lost
    what the preamble had put there and the title page started 13pt higher."""
    cache, path = made
    doc = ReportDocument(
        title="2020Q1 & friends: 100% {x} ~ ^ \\ $", author="Zoë Ñ <a@b>",
        quartile_version="1.2", dataset={"name": "2020Q1.xlsx", "sha256": "ab" * 32},
        sections=[ChartSection(title="A line", image=chart_png()),
                  *[DescribeSection(describe_dict(sheet)) for sheet in SHEETS]])
    tex, assets = build_report_tex(doc)
    fast = typeset(tex, assets=assets, formats=cache, draft_first=True)
    plain = typeset(tex, assets=assets)
    assert fast.format == path.stem and plain.format == "pdflatex"
    assert fast.passes == plain.passes == 2
    pages = pdf_pages(plain.pdf, tmp_path)
    assert pdf_pages(fast.pdf, tmp_path) == pages
    assert word_boxes(fast.pdf, tmp_path) == word_boxes(plain.pdf, tmp_path)
    text = pdf_text(fast.pdf, tmp_path)
    assert f"Page 1 of {pages - 1}" in text and "Describe: RPDI" in text


def test_the_work_done_before_the_dump_changes_nothing_on_the_page(made, tmp_path):
    """The template loads fonts and compiles the hooks before the format is dumped (so every
    pass skips it): the pages are the same, pixel for pixel and word for word, as without those
    lines."""
    cache, _ = made
    doc = ReportDocument(
        title="Fonts ≤ hooks", author="Zoë", quartile_version="1.2", toc=True,
        dataset={"name": "2020Q1.xlsx", "sha256": "ab" * 32},
        sections=[ChartSection(title="A line", image=chart_png()),
                  *[DescribeSection(describe_dict(sheet)) for sheet in SHEETS[:2]]])
    tex, assets = build_report_tex(doc)
    start, end = tex.index("% Quartile: work done before"), tex.index(formats_module.MARKER)
    assert r"\selectfont" in tex[start:end] and "initialize@all" in tex[start:end]
    without = typeset(tex[:start] + tex[end:], assets=assets)
    for built in (typeset(tex, assets=assets, formats=cache), typeset(tex, assets=assets)):
        assert pdf_page_images(built.pdf, tmp_path, dpi=100) == \
            pdf_page_images(without.pdf, tmp_path, dpi=100)
        assert word_boxes(built.pdf, tmp_path) == word_boxes(without.pdf, tmp_path)


def test_a_format_that_starts_the_page_differently_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(formats_module, "REPLAY", "%")  # what the preamble left: not put back
    target = tmp_path / "report-test.fmt"
    with pytest.raises(Unprocessable, match="does not start the document as the preamble"):
        build_format(fixed_preamble(report_tex()[0]), target)
    assert list(tmp_path.iterdir()) == []


def test_without_mylatexformat_reports_typeset_as_before(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(formats_module, "DUMPER", "no-such-mylatexformat.ltx")
    cache = FormatCache(tmp_path / "formats")
    tex, assets = report_tex()
    built = typeset(tex, assets=assets, formats=cache)
    assert built.format == "pdflatex" and built.passes == 2
    assert "Describe: RHPI" in pdf_text(built.pdf, tmp_path)
    assert "building the LaTeX format" in caplog.text
    assert not list(cache.directory.glob("*.fmt")) and not list(cache.directory.glob(".report*"))
    monkeypatch.setattr(formats_module, "build_format", pytest.fail)
    assert cache.format_for(tex) is None  # not tried again for every report


def test_an_unwritable_format_directory_costs_only_time(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    tex, assets = report_tex()
    built = typeset(tex, assets=assets, formats=FormatCache(blocker / "formats"))
    assert built.format == "pdflatex"
    assert "Describe: RHPI" in pdf_text(built.pdf, tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_broken_format_falls_back_to_the_plain_path_and_is_set_aside(made, tmp_path, damage):
    _, good = made
    cache = FormatCache(tmp_path / "formats")
    cache.directory.mkdir()
    broken = cache.directory / good.name
    data = good.read_bytes()
    broken.write_bytes(b"\x00garbage" * 1000 if damage == "garbage" else data[: len(data) // 2])
    tex, assets = report_tex()
    built = typeset(tex, assets=assets, formats=cache)
    assert built.format == "pdflatex" and built.passes == 2
    assert "Describe: RHPI" in pdf_text(built.pdf, tmp_path)
    assert not broken.exists()  # set aside, built again later
    assert cache.format_for(tex) is None


def test_first_reports_at_the_same_time_build_one_good_format(tmp_path, monkeypatch):
    builds = []
    real_build = formats_module.build_format

    def counted(*args, **kwargs):
        builds.append(threading.get_ident())
        return real_build(*args, **kwargs)

    monkeypatch.setattr(formats_module, "build_format", counted)
    cache = FormatCache(tmp_path / "formats")
    tex, assets = report_tex()
    start = threading.Barrier(3)
    results: list = []

    def report():
        start.wait()
        results.append(typeset(tex, assets=assets, formats=cache))

    threads = [threading.Thread(target=report) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(builds) == 1  # the others waited for it
    (path,) = cache.directory.glob("report-*.fmt")
    assert [built.format for built in results] == [path.stem] * 3
    assert not list(cache.directory.glob(".report-*"))


def test_racing_builds_never_leave_a_torn_format(tmp_path):
    """Builds that bypass the lock (two machines on one shared directory) both rename a whole
    file into place: whichever wins, the format loads."""
    tex, assets = report_tex()
    cache = FormatCache(tmp_path / "formats")
    target = cache.directory / f"report-{formats_module.format_key(fixed_preamble(tex))}.fmt"
    errors: list = []

    def build():
        try:
            build_format(fixed_preamble(tex), target)
        except (OSError, Unprocessable) as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert [p.name for p in cache.directory.iterdir() if p.suffix == ".fmt"] == [target.name]
    assert typeset(tex, assets=assets, formats=cache).format == target.stem


@pytest.mark.parametrize("body", [
    r"\input{/etc/passwd}",
    r"\newread\r\immediate\openin\r=/etc/passwd \ifeof\r closed\else\read\r to\x"
    r"\detokenize\expandafter{\x}\fi",
    r"\pdfximage{/etc/passwd}",
])
def test_with_the_format_raw_tex_still_cannot_read_outside_its_directory(made, body, tmp_path):
    cache, path = made
    tex, assets = report_tex(body)
    try:
        shown = pdf_text(typeset(tex, assets=assets, formats=cache).pdf, tmp_path)
    except Unprocessable as exc:
        shown = exc.message
    assert PASSWD not in shown
    assert path.exists()  # the document failed, not the format: it stays


def test_with_the_format_raw_tex_still_cannot_run_or_write(made, tmp_path):
    cache, _ = made
    marker = write18_marker()
    target = Path(f"/tmp/quartile-openout-{uuid.uuid4().hex}.tex")
    tex, assets = report_tex(
        rf"\immediate\write18{{touch {marker}}}\write18{{touch {marker}}}"
        rf"\newwrite\w\immediate\openout\w={target} \immediate\write\w{{x}}"
        r"\immediate\closeout\w ")
    with pytest.raises(Unprocessable, match="I can't write on file"):
        typeset(tex, assets=assets, formats=cache)
    assert not marker.exists() and not target.exists()


def test_with_the_format_a_loop_times_out_without_a_second_try(made):
    cache, _ = made
    tex, assets = report_tex(r"\def\x{\x}\x")
    started = time.monotonic()
    with pytest.raises(Unprocessable, match="took longer than 3 s") as caught:
        typeset(tex, assets=assets, timeout=3, formats=cache)
    assert caught.value.code == "latex_timeout"
    assert time.monotonic() - started < 6
    assert "pdflatex" not in [p.name() for p in psutil.Process().children(recursive=True)]
