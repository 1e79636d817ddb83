"""Seeded auxiliary files: a report whose shape was typeset before needs one pdflatex pass.

A report takes two passes because its second reads what its first wrote (the .aux's page count
for "Page X of Y", longtable's column widths, hyperref's .out, the .toc). A report of the same
shape as an earlier one (same sections and tables; other numbers, title or date) usually writes
the very same files, so the build directory starts with the earlier build's files (the seed)
and one final pass runs. If that pass wrote back exactly what it read, and its log asks for no
rerun, the directory is at its fixed point: a second pass would read the same inputs and, TeX
being deterministic, typeset the same PDF; compile.py returns it. Otherwise the passes go on
(compile.py), so a wrong seed (a page more, a wider column) costs a pass, never a stale
footer.

Seeds live beside the formats (machine-local), one small file per owner (`namespace`) and
shape, written whole (temp + rename), the KEEP most recently used kept. The namespace is part
of the file name's hash and is checked again inside the file: one owner's section titles are
never read while building another's report. A file that is unreadable, foreign or malformed
is a miss.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rendition.latex.compile import JOB
from rendition.latex.formats import MARKER, FormatCache, prune

log = logging.getLogger("quartile.latex")
DIRECTORY = "aux-seeds"  # under the FormatCache's directory
SUFFIX = ".seed"
VERSION = "quartile-aux-seed-1"
KEEP = 256  # seeds kept on the machine (a few KiB each)
MAX_FILES = 16
MAX_BYTES = 512 * 1024  # a seed larger than this is not worth keeping
# Names TeX may have written beside the source (report.aux, report.out, …); never the source,
# its PDF or log, dot files or paths.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[A-Za-z0-9]{1,8}")
_OURS = frozenset({f"{JOB}.tex", f"{JOB}.pdf", f"{JOB}.log"})
# What differs between reports of one shape without changing what they write back: the title
# page (title, date, dataset, hash; one page whatever it holds) and the lines between the
# format's marker and \begin{document} (PDF metadata, running heads).
_VOLATILE = re.compile(re.escape(MARKER) + r"\n.*?\\end\{titlepage\}", re.DOTALL)
# Numbers, dates, hashes and ids: any run of letters, digits, '-' and '_' holding a digit or a
# capital after a small letter (a random id such as "qBtPEIINbxiZ" may have no digit).
_ID_CHAR = r"(?:[A-Za-z0-9_-]|\\_)"  # "_" as it is, or escaped for LaTeX
_NUMBERISH = re.compile(rf"{_ID_CHAR}*(?:[0-9]|[a-z][A-Z]){_ID_CHAR}*")


def shape_of(tex: str) -> str:
    """What must match for an earlier build's auxiliary files to be worth trying: the source
    with the title page and PDF metadata left out (only whether it has a table of contents
    counts) and every number-like word or id replaced by 0."""
    volatile = _VOLATILE.search(tex)
    contents = volatile is not None and r"\tableofcontents" in volatile.group(0)
    kept = _VOLATILE.sub(lambda _: MARKER, tex, count=1)
    return hashlib.sha256(f"{contents}\0{_NUMBERISH.sub('0', kept)}".encode()).hexdigest()


@dataclass(frozen=True)
class AuxSeeds:
    """The seeds one owner's reports may read, in a machine-local directory."""

    directory: Path
    namespace: str

    @classmethod
    def beside(cls, formats: FormatCache, namespace: str) -> AuxSeeds:
        return cls(formats.directory / DIRECTORY, namespace)

    def path_for(self, tex: str) -> Path:
        key = hashlib.sha256(f"{VERSION}\0{self.namespace}\0{shape_of(tex)}".encode())
        return self.directory / f"{key.hexdigest()[:40]}{SUFFIX}"

    def find(self, tex: str, reserved: frozenset[str] = frozenset()) -> dict[str, bytes] | None:
        """The files an earlier build of `tex`'s shape left, none named in `reserved` (the
        job's own assets); None when there is no usable seed."""
        path = self.path_for(tex)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("the LaTeX aux seed %s cannot be read: %s", path.name, exc)
            return None
        files = _decode(raw, self.namespace)
        if files is None or reserved & files.keys():
            log.warning("the LaTeX aux seed %s is not usable: it is set aside", path.name)
            path.unlink(missing_ok=True)
            return None
        return files

    def discard(self, tex: str, reason: str) -> None:
        """Stop using the seed of `tex`'s shape (a build from it failed)."""
        path = self.path_for(tex)
        log.warning("the LaTeX aux seed %s is set aside: %s", path.name, reason)
        path.unlink(missing_ok=True)

    def keep(self, tex: str, files: dict[str, bytes]) -> None:
        """Store `files` (what a finished build wrote besides its PDF and log) as the seed of
        `tex`'s shape; an unchanged seed only counts as used. Never raises for the disk: a
        seed that cannot be written is a miss next time."""
        files = {name: data for name, data in files.items() if usable_name(name)}
        if not files or len(files) > MAX_FILES or sum(map(len, files.values())) > MAX_BYTES:
            return
        path = self.path_for(tex)
        data = _encode(files, self.namespace)
        try:
            if path.exists() and path.read_bytes() == data:
                os.utime(path)  # recently used: pruned last
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".seed-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, path)
            finally:
                Path(temporary).unlink(missing_ok=True)
            prune(self.directory, f"*{SUFFIX}", ".seed-*", KEEP)  # least recently used go
        except OSError as exc:
            log.warning("the LaTeX aux seed %s cannot be written: %s", path.name, exc)


def usable_name(name: str) -> bool:
    """A plain file name a pass may have written and the next may read (not the source, the
    PDF or the log)."""
    return bool(_NAME.fullmatch(name)) and name not in _OURS


def _encode(files: dict[str, bytes], namespace: str) -> bytes:
    body = {"version": VERSION, "namespace": namespace,
            "files": {name: base64.b64encode(files[name]).decode() for name in sorted(files)}}
    return json.dumps(body, sort_keys=True).encode()


def _decode(raw: bytes, namespace: str) -> dict[str, bytes] | None:
    """The seed's files, or None unless it is a whole seed of this namespace."""
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or body.get("version") != VERSION \
                or body.get("namespace") != namespace or not isinstance(body.get("files"), dict):
            return None
        files = {name: base64.b64decode(text, validate=True)
                 for name, text in body["files"].items()}
    except (ValueError, TypeError, binascii.Error):  # JSONDecodeError and bad base64 included
        return None
    if not files or len(files) > MAX_FILES or not all(map(usable_name, files)):
        return None
    return files
