"""The hardened pdflatex run: raw TeX cannot read, write or run outside its directory; failures
and loops end quickly as clear 422s; passes are counted; bad asset names never touch disk."""

import subprocess
import time
import uuid
from pathlib import Path

import psutil
import pytest

from errors import BadInput, Unavailable, Unprocessable
from rendition.latex.compile import (
    MAX_PASSES,
    compile_pdf,
    latex_environment,
    relevant_log_lines,
    typeset,
)
from tests.latex_fixtures import pdf_text, write18_marker

PASSWD = "root:x:0:0"


def document(body: str, preamble: str = "") -> str:
    return rf"\documentclass{{article}}{preamble}\begin{{document}}{body}\end{{document}}"


def outcome(tex: str, tmp_path: Path) -> str:
    """The PDF's text, or the error message when the build is refused: either way, what a
    user could see."""
    try:
        return pdf_text(compile_pdf(tex, timeout=30), tmp_path)
    except Unprocessable as exc:
        return exc.message


def test_a_plain_document_typesets_in_one_pass(tmp_path):
    built = typeset(document("Hello, world."))
    assert built.pdf.startswith(b"%PDF")
    assert built.passes == 1
    assert "Hello, world." in pdf_text(built.pdf, tmp_path)


def test_forward_references_get_the_second_pass_they_ask_for(tmp_path):
    tex = document(r"See page \pageref{end}.\newpage Last.\label{end}")
    built = typeset(tex)
    assert built.passes == 2
    assert "See page 2." in pdf_text(built.pdf, tmp_path)
    forced = typeset(tex, passes=1)
    assert forced.passes == 1
    assert "See page ??." in pdf_text(forced.pdf, tmp_path)


def test_a_draft_first_pass_writes_only_what_the_next_pass_needs(tmp_path):
    tex = document(r"See page \pageref{end}.\newpage Last.\label{end}")
    built = typeset(tex, draft_first=True)
    assert built.passes == 2
    assert "See page 2." in pdf_text(built.pdf, tmp_path)
    # a source that needed one pass still gets a real one after the draft
    single = typeset(document("Hello, world."), draft_first=True)
    assert single.passes == 2 and "Hello, world." in pdf_text(single.pdf, tmp_path)
    # one pass asked for: no draft, or there would be no PDF
    assert "Hello" in pdf_text(typeset(document("Hello"), passes=1, draft_first=True).pdf,
                               tmp_path)


def test_the_first_line_cannot_choose_the_format(tmp_path):
    """pdflatex reads a first line "%&name" as the format to load (parse_first_line is on in
    TeX Live): the source would choose which .fmt file TeX reads, past openin_any."""
    built = typeset("%&pdfetex\n" + document("Still LaTeX."))
    assert built.format == "pdflatex"
    assert "Still LaTeX." in pdf_text(built.pdf, tmp_path)


@pytest.mark.parametrize("passes", [0, MAX_PASSES + 1, -1])
def test_a_pass_count_out_of_range_is_refused(passes):
    with pytest.raises(BadInput, match="passes must be"):
        compile_pdf(document("x"), passes=passes)


@pytest.mark.parametrize(
    "body",
    [
        r"\input{/etc/passwd}",
        r"\input{../../../../../../etc/passwd}",
        r"\pdffiledump length 200 {/etc/passwd}\pdfmdfivesum file {/etc/passwd}",
        r"\newread\r\immediate\openin\r=/etc/passwd \ifeof\r closed\else\read\r to\x"
        r"\detokenize\expandafter{\x}\fi",
        r"\pdfximage{/etc/passwd}",
    ],
)
def test_raw_tex_cannot_read_outside_its_directory(body, tmp_path):
    shown = outcome(document(body), tmp_path)
    assert PASSWD not in shown


def test_verbatim_input_of_a_system_file_is_refused_with_the_reason(tmp_path):
    with pytest.raises(Unprocessable) as caught:
        compile_pdf(document(r"\verbatiminput{/etc/passwd}", r"\usepackage{verbatim}"))
    assert "Not reading from /etc/passwd" in caught.value.message
    assert "no pages of output" in caught.value.message
    assert PASSWD not in caught.value.message


def test_raw_tex_cannot_run_shell_commands(tmp_path):
    marker = write18_marker()
    body = (rf"\immediate\write18{{touch {marker}}}\write18{{touch {marker}}}"
            rf"\ShellEscape{{touch {marker}}}x")
    outcome(document(body), tmp_path)
    assert not marker.exists()


def test_raw_tex_cannot_write_outside_its_directory(tmp_path):
    target = Path(f"/tmp/quartile-openout-{uuid.uuid4().hex}.tex")
    body = rf"\newwrite\w\immediate\openout\w={target} \immediate\write\w{{x}}\immediate\closeout\w"
    shown = outcome(document(body), tmp_path)
    assert not target.exists()
    assert "I can't write on file" in shown


def test_the_environment_does_not_inherit_tex_search_paths(tmp_path, monkeypatch):
    secret = tmp_path / "quartilesecret.tex"
    secret.write_text("SECRET-TOKEN-4711")
    monkeypatch.setenv("TEXINPUTS", f"{tmp_path}:")
    monkeypatch.setenv("TEXMFCNF", str(tmp_path))
    env = latex_environment(tmp_path)
    assert "TEXINPUTS" not in env and "TEXMFCNF" not in env
    assert env["openin_any"] == env["openout_any"] == "p" and env["shell_escape"] == "f"
    shown = outcome(document(r"\input{quartilesecret}"), tmp_path)
    assert "SECRET-TOKEN" not in shown


def test_a_failing_source_quotes_the_log_lines_that_matter():
    started = time.monotonic()
    with pytest.raises(Unprocessable) as caught:
        compile_pdf(document(r"Fine.\par\undefinedmacro{}"), timeout=30)
    assert time.monotonic() - started < 10
    error = caught.value
    assert error.code == "latex_failed" and error.status == 422
    assert "./report.tex:1: Undefined control sequence." in error.message
    assert r"\undefinedmacro" in error.message  # TeX's "l.1 ..." context line
    assert "memory you used" not in error.message  # not the whole log


def test_a_looping_source_times_out_fast_and_leaves_no_process():
    started = time.monotonic()
    with pytest.raises(Unprocessable, match="took longer than 3 s") as caught:
        compile_pdf(document(r"\def\x{\x}\x"), timeout=3)
    elapsed = time.monotonic() - started
    assert caught.value.code == "latex_timeout"
    assert 2.5 < elapsed < 6
    children = [p.name() for p in psutil.Process().children(recursive=True)]
    assert "pdflatex" not in children


def test_the_timeout_covers_all_passes_together():
    """A source that always asks for another pass and is slow: each pass alone fits the
    timeout, three do not, so only a deadline over all passes stops it."""
    busy = r"\newcount\n\loop\advance\n by 1 \ifnum\n<1500000 \repeat"
    tex = document(busy + r"\typeout{Rerun to get cross-references right.}x")
    durations = []
    for _ in range(2):  # the faster of two, so that a cold first run does not inflate it
        started = time.monotonic()
        assert typeset(tex, passes=1).passes == 1
        durations.append(time.monotonic() - started)
    limit = 1.6 * min(durations)  # one pass fits, three cannot
    started = time.monotonic()
    with pytest.raises(Unprocessable) as caught:
        typeset(tex, timeout=limit)
    assert caught.value.code == "latex_timeout"
    assert time.monotonic() - started < limit + 1


@pytest.mark.parametrize(
    "name",
    ["../evil.png", "/tmp/evil.png", ".hidden.png", "report.tex", "report.aux", "a b.png",
     "chart.exe", "chart.png\n", "", "chart.PNG/x", "ä.png", "x" * 80 + ".png"],
)
def test_unsafe_asset_names_are_refused_before_anything_is_written(name):
    with pytest.raises(BadInput, match="not a safe file name"):
        compile_pdf(document("x"), assets={name: b"data"})
    assert not Path("/tmp/evil.png").exists()


def test_a_safe_asset_is_included(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    figure.subplots().plot([0, 1], [0, 1])
    png = tmp_path / "plot.png"
    figure.savefig(png, format="png", dpi=50)
    tex = document(r"\includegraphics{chart-1.png}", r"\usepackage{graphicx}")
    pdf = compile_pdf(tex, assets={"chart-1.png": png.read_bytes()})
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                            check=True).stdout
    image_rows = [row.split() for row in images.splitlines()[2:]]
    assert [(row[2], row[3], row[4]) for row in image_rows if row[2] == "image"] == [
        ("image", "100", "50")  # 2 in × 1 in at 50 dpi
    ]


def test_missing_pdflatex_is_unavailable(monkeypatch):
    monkeypatch.setattr("rendition.latex.compile.shutil.which", lambda name: None)
    with pytest.raises(Unavailable, match="pdflatex is not installed"):
        compile_pdf(document("x"))


def test_relevant_log_lines_keep_errors_with_context():
    log = "\n".join(["noise"] * 50 + ["./report.tex:7: Missing $ inserted.", "l.7 a_b", "",
                                      "more noise"] + ["tail"] * 50)
    assert relevant_log_lines(log) == "./report.tex:7: Missing $ inserted.\nl.7 a_b"
    assert relevant_log_lines("a\nb\nc") == "a\nb\nc"  # nothing matched: the tail
