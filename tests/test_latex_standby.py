"""A pdflatex started ahead (issue 19): a seeded report's pass runs in it and gives the same
document, dated when it was built; a dead, failing or looping standby costs nothing but the
plain path's time, leaves no process or directory, and dies with the Python process."""

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from errors import Unprocessable
from rendition.latex import (
    DescribeSection,
    FormatCache,
    ReportDocument,
    build_report_tex,
)
from rendition.latex import standby as standbys
from rendition.latex.aux_seeds import AuxSeeds
from rendition.latex.compile import latex_environment, pdflatex_command, typeset
from tests.latex_fixtures import describe_dict, pdf_page_images, pdf_pages, pdf_text
from tests.stack_fixtures import wait_for


@pytest.fixture
def formats(report_formats) -> FormatCache:
    return report_formats


@pytest.fixture(autouse=True)
def no_standby_left():
    """Each test starts without a standby and ends its own."""
    standbys.end_waiting()
    yield
    standbys.end_waiting()


def report(title: str = "Standby", body: str = "") -> tuple[str, dict[str, bytes]]:
    tex, assets = build_report_tex(ReportDocument(
        title=title, sections=[DescribeSection(describe_dict("RHPI"))]))
    return tex.replace("\\begin{document}\n", "\\begin{document}\n" + body, 1), assets


def build(tex: str, assets: dict, formats: FormatCache, seeds: AuxSeeds, **options):
    return typeset(tex, assets=assets, formats=formats, draft_first=True, seeds=seeds,
                   standby=True, **options)


def waiting(formats: FormatCache, tex: str) -> standbys.Standby:
    standbys.settle()  # started after the build, on a thread of its own
    ahead = standbys._waiting
    assert ahead is not None and ahead.process.poll() is None
    assert ahead.command == tuple(pdflatex_command(formats.format_for(tex)))
    return ahead


def creation_date(pdf: bytes, tmp_path: Path) -> datetime:
    path = tmp_path / "dated.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", "-isodates", str(path)], capture_output=True, text=True,
                          check=True).stdout
    line = next(ln for ln in info.splitlines() if ln.startswith("CreationDate:"))
    return datetime.fromisoformat(line.split(None, 1)[1].strip())


def no_pdflatex_children() -> bool:
    return "pdflatex" not in [p.name() for p in psutil.Process().children(recursive=True)]


def test_a_seeded_pass_runs_in_the_standby_and_is_the_same_document_dated_now(formats,
                                                                               tmp_path):
    seeds = AuxSeeds(tmp_path / "seeds", "owner-1")
    first = build(*report("First"), formats, seeds)
    assert first.passes == 2  # no seed yet: no standby used, one started for the next
    ahead = waiting(formats, report()[0])
    time.sleep(2)  # the standby started two seconds before the report
    tex, assets = report("Second")
    asked = datetime.now().astimezone().replace(microsecond=0)
    second = build(tex, assets, formats, seeds)
    assert second.passes == 1
    assert ahead.process.returncode == 0 and not ahead.workdir.exists()  # it ran the pass
    assert waiting(formats, tex).process.pid != ahead.process.pid  # and was replaced
    assert abs((creation_date(second.pdf, tmp_path) - asked).total_seconds()) <= 1
    plain = typeset(tex, assets=assets, formats=formats, draft_first=True)
    assert pdf_text(second.pdf, tmp_path) == pdf_text(plain.pdf, tmp_path)
    assert pdf_page_images(second.pdf, tmp_path) == pdf_page_images(plain.pdf, tmp_path)
    pages = pdf_pages(plain.pdf, tmp_path)
    assert f"Page 1 of {pages - 1}" in pdf_text(second.pdf, tmp_path)


def test_a_dead_standby_is_not_used(formats, tmp_path):
    seeds = AuxSeeds(tmp_path / "seeds", "owner-1")
    tex, assets = report()
    build(tex, assets, formats, seeds)
    ahead = waiting(formats, tex)
    ahead.process.kill()
    ahead.process.wait()
    built = build(tex, assets, formats, seeds)
    assert built.passes == 1 and "Describe: RHPI" in pdf_text(built.pdf, tmp_path)
    assert not ahead.workdir.exists()
    assert waiting(formats, tex).process.pid != ahead.process.pid


def test_a_standby_nobody_takes_is_ended_after_its_idle_time():
    standbys.start(pdflatex_command(), latex_environment, "report.tex", idle_seconds=0.5)
    idle = standbys._waiting
    assert idle is not None and idle.process.poll() is None
    wait_for(lambda: idle.process.poll() is not None and not idle.workdir.exists(), 10,
             "the idle standby to end")
    assert standbys._waiting is None and no_pdflatex_children()


def test_a_standby_for_another_format_is_ended_not_used(formats, tmp_path):
    tex, assets = report()
    standbys.start(pdflatex_command(), latex_environment, "report.tex")  # no format
    other = standbys._waiting
    seeds = AuxSeeds(tmp_path / "seeds", "owner-1")
    seeds.keep(tex, {"report.aux": b"\\relax\n"})  # a (wrong) seed: the first pass is final
    built = build(tex, assets, formats, seeds)
    assert built.passes >= 2 and "Page 1 of" in pdf_text(built.pdf, tmp_path)
    assert other.process.returncode is not None and not other.workdir.exists()


def test_a_failing_document_in_the_standby_reports_its_error_and_leaves_nothing(formats,
                                                                              tmp_path):
    seeds = AuxSeeds(tmp_path / "seeds", "owner-1")
    good, assets = report()
    build(good, assets, formats, seeds)
    ahead = waiting(formats, good)
    bad, _ = report(body="\\undefinedmacro\n")
    seeds.keep(bad, AuxSeeds(tmp_path / "seeds", "owner-1").find(good))
    with pytest.raises(Unprocessable) as caught:
        build(bad, assets, formats, seeds)
    assert "Undefined control sequence" in caught.value.message
    assert "\\undefinedmacro" in caught.value.message
    assert ahead.process.returncode not in (None, 0) and not ahead.workdir.exists()
    assert no_pdflatex_children() or standbys._waiting is None


def test_a_looping_document_in_the_standby_times_out(formats, tmp_path):
    seeds = AuxSeeds(tmp_path / "seeds", "owner-1")
    good, assets = report()
    build(good, assets, formats, seeds)
    ahead = waiting(formats, good)
    loop, _ = report(body="\\def\\x{\\x}\\x\n")
    seeds.keep(loop, seeds.find(good))
    started = time.monotonic()
    with pytest.raises(Unprocessable, match="took longer than 3 s") as caught:
        build(loop, assets, formats, seeds, timeout=3)
    assert caught.value.code == "latex_timeout"
    assert time.monotonic() - started < 6
    assert ahead.process.returncode is not None and not ahead.workdir.exists()
    assert no_pdflatex_children()


def test_the_standby_ends_with_its_python_process(formats, tmp_path):
    """Killed with SIGKILL (no atexit), the Python process's pipe closes: pdflatex reads an
    empty source and stops, instead of waiting for ever."""
    tex, _ = report()
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from rendition.latex import standby\n"
        "from rendition.latex.compile import latex_environment, pdflatex_command\n"
        f"standby.start(pdflatex_command(Path({str(formats.format_for(tex))!r})), "
        "latex_environment, 'report.tex')\n"
        "print(standby._waiting.process.pid, standby._waiting.workdir, flush=True)\n"
        "time.sleep(60)\n")
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[1])
    pid, workdir = owner.stdout.readline().split()
    latex = psutil.Process(int(pid))
    time.sleep(0.5)
    assert latex.is_running() and latex.status() != psutil.STATUS_ZOMBIE
    owner.kill()
    owner.wait()
    owner.stdout.close()
    latex.wait(timeout=10)  # raises if it still waits
    assert Path(workdir, "report.log").exists()  # it stopped at the empty source
    subprocess.run(["rm", "-rf", "--", workdir], check=True)
