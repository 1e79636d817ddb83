"""Precompiled formats: the fixed preamble is loaded, not read, so a pass takes ~70 ms not ~220.

A report's source has a fixed preamble (document class, packages, layout) and a few lines that
vary (PDF title, running heads); the line MARKER splits them. mylatexformat dumps everything
above the marker into a .fmt once per machine; a run with `-fmt=` that file skips those lines
and goes on from the marker. Without a format the marker is `\\relax` and the source typesets
as it always did, so a missing or broken format only costs time.

The .fmt is kept uncompressed: zlib's gzread reads a plain file as it is, and inflating 18 MB
cost every pass ~40 ms. Files are named by the engine (pdflatex's version, binary and base
format) and a hash of the preamble. One process builds while the others wait (a lock file), and
it writes under a temporary name then renames, so no reader ever sees a torn file. The build
runs in the same paranoid environment as every pass, and the format is kept only once a test
page starts exactly as it does without it.
"""

from __future__ import annotations

import fcntl
import functools
import gzip
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from errors import QuartileError, Unprocessable
from rendition.latex.compile import (
    JOB,
    MARKER,
    latex_environment,
    pdflatex_command,
    run_pdflatex,
)

log = logging.getLogger("quartile.latex")
PREFIX = "report-"
DUMPER = "mylatexformat.ltx"  # TeX Live's mylatexformat package: dumps a preamble into a format
BUILD_SECONDS = 60.0
RETRY_SECONDS = 600.0  # after a failed build, typeset without a format this long
KEEP = 4  # newest formats kept; older ones belong to earlier versions of the template or TeX
STALE_TEMP_SECONDS = 3600.0  # a temporary file this old is a crashed build's
# TeX does not dump the page being built: what the preamble left there (article's \onecolumn
# a \write and \prevdepth 0pt, xcolor's \color{black} a colour push) is put back when a job
# starts, or the first page would start 13pt higher; \par hands it to the page builder, as the
# preamble's \clearpage did. The test page in build_format checks that nothing else differs.
REPLAY = r"\everyjob\expandafter{\the\everyjob\write-1{}\color{black}\prevdepth=0pt\par}"
TEST_PAGE = (r"\showboxbreadth=10000 \showboxdepth=10000 \showlists" "\n"
             r"\begin{document}\showlists Quartile\end{document}" "\n")

_failed: dict[Path, float] = {}  # format → when building or using it failed


@dataclass(frozen=True)
class FormatCache:
    """A directory of report formats, shared by every process on the machine."""

    directory: Path

    def format_for(self, tex: str) -> Path | None:
        """The format holding `tex`'s fixed preamble, built now when missing; None when `tex`
        has no MARKER line or no format can be had (typeset without one then)."""
        preamble = fixed_preamble(tex)
        if preamble is None:
            return None
        try:
            path = self.directory / f"{PREFIX}{format_key(preamble)}.fmt"
        except (OSError, subprocess.SubprocessError, QuartileError) as exc:
            log.warning("no LaTeX format: pdflatex cannot be identified (%s)", exc)
            return None
        failed = _failed.get(path)
        if failed is not None and time.monotonic() - failed < RETRY_SECONDS:
            return None
        if path.exists():
            return path
        try:
            with _exclusive(self.directory):  # the first to come builds, the others wait
                if not path.exists():
                    build_format(preamble, path)
        except (OSError, EOFError, QuartileError) as exc:
            log.warning("building the LaTeX format %s failed: %s", path.name, exc)
            _failed[path] = time.monotonic()
            return None
        return path

    def discard(self, path: Path, reason: str) -> None:
        """Stop using a format that failed where the plain path worked (rebuilt later)."""
        log.warning("the LaTeX format %s is set aside: %s", path.name, reason)
        _failed[path] = time.monotonic()
        path.unlink(missing_ok=True)


@contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Held by one thread of one process at a time (released when the file closes, even when
    its process dies)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def fixed_preamble(tex: str) -> str | None:
    """The text above the MARKER line, or None when there is no such line."""
    head, marker, _ = tex.partition(f"\n{MARKER}\n")
    return head + "\n" if marker else None


def format_key(preamble: str) -> str:
    """Changes with the preamble and with the TeX installation (an update rebuilds the base
    format, so its time stamp changes)."""
    binary = pdflatex_command()[0]
    parts = [preamble, _engine_version(binary)]
    for path in (Path(binary).resolve(), _base_format(binary)):
        stat = path.stat()
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=4)
def _engine_version(binary: str) -> str:
    return _ask(binary, ["--version"]).splitlines()[0]


@functools.lru_cache(maxsize=4)
def _base_format(binary: str) -> Path:
    kpsewhich = Path(binary).with_name("kpsewhich")
    return Path(_ask(str(kpsewhich), ["-engine=pdftex", "pdflatex.fmt"]).strip())


def _ask(program: str, arguments: list[str]) -> str:
    with tempfile.TemporaryDirectory(prefix="quartile-latex-") as temp:
        return subprocess.run([program, *arguments], cwd=temp, env=latex_environment(Path(temp)),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=30, check=True).stdout


def build_format(preamble: str, target: Path, timeout: float = BUILD_SECONDS) -> None:
    """Dump `preamble` into `target` (uncompressed), once a test page shows that it leaves
    TeX in the same state as reading the preamble does.
    Raises Unprocessable when LaTeX fails or the states differ, OSError when the directory
    is not writable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    name = target.stem
    with tempfile.TemporaryDirectory(prefix="quartile-latex-format-") as temp:
        workdir = Path(temp)
        (workdir / "preamble.tex").write_text(f"{preamble}{REPLAY}\n{MARKER}\n",
                                               encoding="utf-8")
        dump = [pdflatex_command()[0], "-ini", *pdflatex_command()[1:-1], f"-jobname={name}",
                "&pdflatex", DUMPER, "preamble.tex"]
        run_pdflatex(dump, workdir, deadline, timeout, job=name, output="fmt")
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{name}-",
                                             suffix=".fmt")
        try:
            with os.fdopen(handle, "wb") as plain, gzip.open(workdir / f"{name}.fmt") as packed:
                shutil.copyfileobj(packed, plain, 1 << 20)
            test_page = f"{preamble}{MARKER}\n{TEST_PAGE}"
            expected = _lists(test_page, None, workdir / "plain", deadline, timeout)
            found = _lists(test_page, Path(temporary), workdir / "format", deadline, timeout)
            if len(expected) != 2 or found != expected:
                raise Unprocessable("the format does not start the document as the preamble "
                                    "does", code="latex_failed")
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other users' workers
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
    _prune(target.parent, keep=target)


def _lists(tex: str, preloaded: Path | None, workdir: Path, deadline: float,
           timeout: float) -> list[str]:
    """What `\\showlists` wrote when typesetting `tex` (with the format `preloaded`)."""
    workdir.mkdir()
    (workdir / f"{JOB}.tex").write_text(tex, encoding="utf-8")
    # \showlists counts as an error: this run may not halt on it
    command = [arg for arg in pdflatex_command(preloaded) if arg != "-halt-on-error"]
    log = run_pdflatex(command, workdir, deadline, timeout, errors_allowed=True)
    return re.findall(r"^### .*?OK\.$", log, re.MULTILINE | re.DOTALL)


def _prune(directory: Path, keep: Path) -> None:
    """Keep the KEEP newest formats and no crashed build's leftovers."""
    prune(directory, f"{PREFIX}*.fmt", f".{PREFIX}*.fmt", KEEP, spare=keep)


def prune(directory: Path, pattern: str, temporary: str, count: int,
          spare: Path | None = None) -> None:
    """Keep the `count` newest files matching `pattern` (and `spare`) and no `temporary` file
    older than STALE_TEMP_SECONDS (a crashed writer's)."""
    files = sorted(directory.glob(pattern), key=_mtime, reverse=True)
    stale = [p for p in directory.glob(temporary) if time.time() - _mtime(p) > STALE_TEMP_SECONDS]
    for path in [*files[count:], *stale]:
        if path != spare:
            path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # another process pruned it meanwhile
        return 0.0
