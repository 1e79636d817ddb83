"""The only place pdflatex runs: a fresh directory per build, no shell, no escape hatches.

`-no-shell-escape` stops `\\write18`; `openin_any=p` / `openout_any=p` (paranoid) stop
`\\input{/etc/passwd}` and writes outside the build directory; a wall-clock timeout stops
`\\def\\x{\\x}\\x`. The command is an argument list: no path or user text is ever pasted into a
command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from errors import Unavailable, Unprocessable

MAX_PASSES = 3
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")
# Warnings that ask for another pass (page references, longtable widths, PDF outlines).
_RERUN = re.compile(r"Warning:.*(Rerun|have changed|has changed|may have changed)")


def pdflatex_command() -> list[str]:
    binary = shutil.which("pdflatex")
    if binary is None:
        raise Unavailable("pdflatex is not installed on this server, so PDFs cannot be built.")
    return [
        binary,
        "-no-shell-escape",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "report.tex",
    ]


def latex_environment(workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "LANG", "LC_ALL")}
    env.update(
        openin_any="p",
        openout_any="p",
        shell_escape="f",
        TEXMFOUTPUT=str(workdir),
        HOME=str(workdir),
        TEXMFVAR=str(workdir / ".texmf-var"),
        max_print_line="1000",
    )
    return env


def compile_pdf(
    tex: str,
    *,
    assets: Mapping[str, bytes] | None = None,
    timeout: float = 60,
    passes: int | None = None,
) -> bytes:
    """Typeset `tex` (plus asset files beside it) and return the PDF bytes.

    `passes=None` reruns while LaTeX asks for it (page references, longtable widths), at most 3.
    Raises Unprocessable with the log's error lines, or on timeout; Unavailable without pdflatex.
    """
    command = pdflatex_command()
    with tempfile.TemporaryDirectory(prefix="quartile-latex-") as temp:
        workdir = Path(temp)
        for name, data in (assets or {}).items():
            if not _SAFE_NAME.match(name) or name == "report.tex":
                raise ValueError(f"unsafe asset name {name!r}")
            (workdir / name).write_bytes(data)
        (workdir / "report.tex").write_text(tex, encoding="utf-8")
        env = latex_environment(workdir)
        runs = passes or MAX_PASSES
        for number in range(1, runs + 1):
            log = _run_once(command, workdir, env, timeout)
            if passes is None and not _RERUN.search(log):
                break
            if passes is not None and number == passes:
                break
        return (workdir / "report.pdf").read_bytes()


def _run_once(command: list[str], workdir: Path, env: dict, timeout: float) -> str:
    try:
        completed = subprocess.run(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Unprocessable(
            f"LaTeX took longer than {timeout:g} s and was stopped.", code="latex_timeout"
        ) from None
    log_path = workdir / "report.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    if completed.returncode != 0 or not (workdir / "report.pdf").exists():
        raise Unprocessable(
            "LaTeX could not build the PDF:\n"
            + relevant_log_lines(log or completed.stdout.decode(errors="replace")),
            code="latex_failed",
        )
    return log


def relevant_log_lines(log: str, context: int = 2, limit: int = 12) -> str:
    """The lines that say what went wrong ("! ..." and "file:line: ..."), with a little context."""
    lines = log.splitlines()
    picked: list[str] = []
    for index, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+:", line):
            for extra in lines[index : index + context + 1]:
                if extra not in picked:
                    picked.append(extra)
        if len(picked) >= limit:
            break
    return "\n".join(picked[:limit]) or "\n".join(lines[-limit:])
