"""The only place pdflatex runs: a fresh directory per build, no shell, no escape hatches.

`-no-shell-escape` and `shell_escape=f` stop `\\write18`; `openin_any=p` / `openout_any=p`
(paranoid) stop `\\input{/etc/passwd}` and writes outside the build directory; a wall-clock
deadline over all passes stops `\\def\\x{\\x}\\x`. The command is an argument list run without a
shell: no path or user text is ever pasted into a command line.

With a `FormatCache` (rendition/latex/formats.py) a source whose preamble is precompiled loads
it instead of reading it; should that fail where the plain run works, the plain run's PDF is
returned and the format is set aside. With `AuxSeeds` (rendition/latex/aux_seeds.py) a
report whose shape was built before starts from that build's .aux files and usually needs one
pass: it stops as soon as a pass writes back exactly the files it read.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from errors import BadInput, Unavailable, Unprocessable
from rendition.latex import standby as standbys

if TYPE_CHECKING:
    from rendition.latex.aux_seeds import AuxSeeds
    from rendition.latex.formats import FormatCache

MAX_PASSES = 3
JOB = "report"
# Files we write beside report.tex: plain names, a known image extension, nothing of our own.
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(png|pdf|jpg|jpeg)")
# What LaTeX, longtable, lastpage and hyperref's rerunfilecheck print when a pass is missing.
_RERUN = re.compile(
    r"Rerun to get|Rerun LaTeX|Label\(s\) may have changed|Table widths have changed"
)
# "! Error" and "./report.tex:12: Error" (-file-line-error); kpathsea refusing a path.
_ERROR_LINE = re.compile(r"^(!|\S+?:\d+: )")
_REFUSED = re.compile(r"^\S+: (Not (?:reading from|writing to) .*)$", re.MULTILINE)
_PRELOADED = re.compile(r"\(preloaded format=([^ )]+)")
# Where a precompiled format's job starts reading the source (rendition/latex/formats.py).
MARKER = r"\csname endofdump\endcsname"


@dataclass(frozen=True)
class Typeset:
    """A finished build: the PDF, how many pdflatex passes it took, the last pass's log and
    the format it loaded (`pdflatex`, or a precompiled report preamble's name)."""

    pdf: bytes
    passes: int
    log: str

    @property
    def format(self) -> str | None:
        found = _PRELOADED.search(self.log[:500])
        return found.group(1) if found else None


def pdflatex_command(preloaded: Path | None = None) -> list[str]:
    """The argument list for one pass, loading the format file `preloaded` when given
    (Unavailable when pdflatex is not installed)."""
    binary = shutil.which("pdflatex")
    if binary is None:
        raise Unavailable("pdflatex is not installed on this server, so PDFs cannot be built.")
    return [
        binary,
        "-no-shell-escape",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "-no-parse-first-line",  # else a first line "%&name" picks the format
        *([f"-fmt={preloaded}"] if preloaded is not None else []),
        f"{JOB}.tex",
    ]


def latex_environment(workdir: Path) -> dict[str, str]:
    """A minimal environment: paranoid file access, no shell escape, no font generation,
    nothing inherited that could redirect TeX's search paths (TEXINPUTS, TEXMFCNF…)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "TEXMFOUTPUT": str(workdir),
        "TEXMFVAR": str(workdir / ".texmf-var"),
        "openin_any": "p",
        "openout_any": "p",
        "shell_escape": "f",
        "MKTEXPK": "0",
        "MKTEXTFM": "0",
        "MKTEXMF": "0",
        "max_print_line": "1000",
        "error_line": "254",
        "half_error_line": "238",
    }


def check_asset_name(name: object) -> str:
    """A plain file name such as `chart-1.png`; anything else (paths, dot files, report.*)
    is refused before a byte is written."""
    if not isinstance(name, str) or not _ASSET_NAME.fullmatch(name) or name.startswith(f"{JOB}."):
        raise BadInput(
            f"{name!r} is not a safe file name for a report asset: use letters, digits, '-' or "
            "'_' and a .png, .pdf or .jpg extension."
        )
    return name


def compile_pdf(
    tex: str,
    *,
    assets: Mapping[str, bytes] | None = None,
    timeout: float = 60,
    passes: int | None = None,
    formats: FormatCache | None = None,
    draft_first: bool = False,
    seeds: AuxSeeds | None = None,
    standby: bool = False,
) -> bytes:
    """Typeset `tex` (plus asset files beside it) and return the PDF bytes.

    `passes=None` reruns only while the log asks for it (page references, longtable widths,
    the table of contents), at most MAX_PASSES. `timeout` bounds all passes together (not
    the one-time build of a format). `draft_first` is for sources that always need a second
    pass (a "Page X of Y" footer): the first pass then only writes the .aux files (pdfTeX's
    draft mode: no fonts or images embedded), the next ones the PDF. With `seeds` (and
    `passes=None`) the files of an earlier build of the same shape are put beside the source
    first; the passes then go on until one leaves every file as it found it and its log asks
    for nothing (usually the first), and the result is kept as the next seed; `standby` runs
    that first pass in a pdflatex started ahead (see `typeset`).
    Raises Unprocessable (code latex_failed / latex_timeout) with the log's error lines, and
    Unavailable without pdflatex.
    """
    return typeset(tex, assets=assets, timeout=timeout, passes=passes, formats=formats,
                   draft_first=draft_first, seeds=seeds, standby=standby).pdf


def typeset(
    tex: str,
    *,
    assets: Mapping[str, bytes] | None = None,
    timeout: float = 60,
    passes: int | None = None,
    formats: FormatCache | None = None,
    draft_first: bool = False,
    seeds: AuxSeeds | None = None,
    standby: bool = False,
) -> Typeset:
    """`compile_pdf`, also saying how many passes ran and which format they loaded (for
    benchmarks, diagnostics and tests). With `standby` (and a format), a seeded first pass
    runs in the pdflatex this process started ahead (rendition/latex/standby.py), and a new
    one is started for the next build."""
    if passes is not None and not 1 <= passes <= MAX_PASSES:
        raise BadInput(f"passes must be from 1 to {MAX_PASSES}, not {passes!r}.")
    files = {check_asset_name(name): bytes(data) for name, data in (assets or {}).items()}
    command = pdflatex_command()
    preloaded = formats.format_for(tex) if formats is not None else None
    build = _Build(tex, files, time.monotonic() + timeout, timeout, passes,
                   draft_first and passes != 1, seeds if passes is None else None,
                   standby and preloaded is not None)
    if preloaded is None:
        return build.run(command)
    try:
        built = build.run(pdflatex_command(preloaded))
        if build.standby:
            standbys.start_soon(pdflatex_command(preloaded), latex_environment, f"{JOB}.tex")
        return built
    except Unprocessable as exc:
        if exc.code == "latex_timeout":
            raise
        failure = exc.message
    built = build.run(command)
    formats.discard(preloaded, f"LaTeX failed with it but not without: {failure}")
    return built


@dataclass(frozen=True)
class _Build:
    """One document's passes; run again from scratch (a fresh directory) when the plain path
    has to take over from a format, within the same deadline."""

    tex: str
    files: dict[str, bytes]
    deadline: float
    timeout: float
    passes: int | None
    draft_first: bool
    seeds: AuxSeeds | None = None
    standby: bool = False

    def run(self, command: list[str]) -> Typeset:
        """All passes in a fresh directory, from the seed when there is one. Should the seeded
        build fail (a damaged seed, an updated TeX reading an older .aux), the seed is set aside
        and the build starts over without it."""
        seed = self.seeds.find(self.tex, frozenset(self.files) | {f"{JOB}.tex"}) \
            if self.seeds is not None else None
        if seed is None:
            return self._passes(command, None)
        try:
            return self._passes(command, seed)
        except Unprocessable as exc:
            if exc.code == "latex_timeout":
                raise
            self.seeds.discard(self.tex, exc.message)
        return self._passes(command, None)

    def _passes(self, command: list[str], seed: dict[str, bytes] | None) -> Typeset:
        ahead = standbys.take(command) if self.standby and seed is not None else None
        workdir = ahead.workdir if ahead is not None else \
            Path(tempfile.mkdtemp(prefix="quartile-latex-"))
        try:
            for name, data in {**self.files, **(seed or {})}.items():
                (workdir / name).write_bytes(data)
            if ahead is None:
                (workdir / f"{JOB}.tex").write_text(self.tex, encoding="utf-8")
            wanted = self.passes or MAX_PASSES
            number = 0
            while True:
                number += 1
                draft = self.draft_first and number == 1 and seed is None
                before = written(workdir) if seed is not None else None
                if number == 1 and ahead is not None:
                    source = standbys.dated(self.tex, MARKER).encode()
                    log = run_pdflatex(command, workdir, self.deadline, self.timeout,
                                       started=ahead.process, source=source)
                else:
                    log = run_pdflatex(
                        [command[0], "-draftmode", *command[1:]] if draft else command,
                        workdir, self.deadline, self.timeout, output=None if draft else "pdf")
                if before is not None:  # seeded: on until a pass changes nothing
                    done = written(workdir) == before and not _RERUN.search(log)
                else:
                    done = self.passes is None and not draft and not _RERUN.search(log)
                if number == 1 and ahead is not None:  # the source was the pipe: now a file
                    (workdir / f"{JOB}.tex").unlink()
                    (workdir / f"{JOB}.tex").write_text(self.tex, encoding="utf-8")
                if done or number >= wanted:
                    break
            if self.seeds is not None:
                self.seeds.keep(self.tex, {name: data for name, data in written(workdir).items()
                                           if name not in self.files})
            return Typeset((workdir / f"{JOB}.pdf").read_bytes(), number, log)
        finally:
            if ahead is not None:
                ahead.end()
            else:
                shutil.rmtree(workdir, ignore_errors=True)


def written(workdir: Path) -> dict[str, bytes]:
    """Every file of the build directory that a pass may read back: all but the PDF and the
    log, which TeX only writes (TeX cannot make directories, so the top level is all; a link,
    the standby's source, is not followed)."""
    with os.scandir(workdir) as entries:
        return {entry.name: Path(entry.path).read_bytes() for entry in entries
                if entry.is_file(follow_symlinks=False)
                and entry.name not in (f"{JOB}.pdf", f"{JOB}.log")}


def run_pdflatex(
    command: list[str],
    workdir: Path,
    deadline: float,
    timeout: float,
    *,
    job: str = JOB,
    output: str | None = "pdf",
    errors_allowed: bool = False,
    started: subprocess.Popen | None = None,
    source: bytes | None = None,
) -> str:
    """One pdflatex run of `job` in `workdir`, in its paranoid environment: its log, or
    Unprocessable when it fails (unless `errors_allowed`), writes no `job`.`output` (when
    one is expected) or passes the deadline. `started` is a standby already running
    `command` in `workdir`, waiting for `source` on its standard input."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timeout(timeout)  # a `started` standby is ended by its owner
    # Own session: on timeout the whole process group goes, whatever pdflatex started.
    process = started or subprocess.Popen(
        command,
        cwd=workdir,
        env=latex_environment(workdir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        console, _ = process.communicate(input=source, timeout=remaining)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise _timeout(timeout) from None
    log_path = workdir / f"{job}.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    written = output is None or (workdir / f"{job}.{output}").exists()
    if (process.returncode != 0 and not errors_allowed) or not written:
        text = console.decode("utf-8", errors="replace")
        # kpathsea says why it refused a file on the console only, not in the log.
        refused = list(dict.fromkeys(_REFUSED.findall(text)))
        detail = "\n".join(refused + [relevant_log_lines(log or text)])
        if process.returncode == 0:
            detail = "The document has no pages of output.\n" + detail
        raise Unprocessable(f"LaTeX could not build the PDF:\n{detail}", code="latex_failed")
    return log


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended between the timeout and the kill
    process.communicate()


def _timeout(timeout: float) -> Unprocessable:
    return Unprocessable(
        f"LaTeX took longer than {timeout:g} s and was stopped; the report is too large or "
        "its source loops.",
        code="latex_timeout",
    )


def relevant_log_lines(log: str, context: int = 2, limit: int = 15) -> str:
    """The lines that say what went wrong ("! ..." and "file:line: ..."), each with the
    `context` lines after it (TeX's "l.12 ..." excerpt); the log's tail when none match."""
    lines = log.splitlines()
    picked: list[int] = []
    for index, line in enumerate(lines):
        if _ERROR_LINE.match(line):
            picked.extend(i for i in range(index, index + context + 1) if i not in picked)
        if len(picked) >= limit:
            break
    chosen = [lines[i].rstrip() for i in picked if i < len(lines)] or lines[-limit:]
    return "\n".join(line for line in chosen[:limit] if line.strip())
