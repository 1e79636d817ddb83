"""Several workbooks in one upload: many `file` fields, or one `.zip` of workbooks.

Each member is copied into the content-addressed store (`FileStore.put_stream`) under its
sha256 and nothing else: a member's name is only ever shown, never used as a path, so
`../x.xlsx` cannot write outside the store. What a member may not be, and what happens:

- a name that climbs out (`..`), is absolute or holds a drive letter: skipped, "unsafe name";
- a zip inside the zip, or anything but XLSX/XLSM/XLS/ODS/CSV/TSV: skipped by name;
- encrypted, larger than the upload limit, or inflating more than `MAX_RATIO` times (a zip
  bomb): skipped by name; the size is checked against what the archive declares *and* counted
  while inflating, so an archive whose declared sizes lie stops at the limit;
- more than `MAX_MEMBERS` members, or a declared total beyond `MAX_TOTAL_BYTES`: the whole zip
  is refused before anything is inflated.

A bad member never stops the others; the caller gets the stored members and the skipped ones
with their reasons. Flask-free: the API and the CLI use it alike.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from errors import BadInput, TooLarge
from upload.store import FileStore

MB = 1024 * 1024
MAX_MEMBERS = 500  # a zip of releases; 36 quarters is typical
MAX_RATIO = 100.0  # real worksheets compress 4–20:1 (upload/guard.py)
RATIO_FLOOR_BYTES = MB
MAX_TOTAL_BYTES = 2048 * MB
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv", ".txt")
_CHUNK = MB


@dataclass(frozen=True)
class StoredMember:
    filename: str  # the base name, for display and for the release label
    sha256: str
    size: int

    def to_dict(self) -> dict:
        return {"filename": self.filename, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str

    def to_dict(self) -> dict:
        return {"name": self.name, "reason": self.reason}


@dataclass
class Bundle:
    members: list[StoredMember]
    skipped: list[Skipped]

    def to_dict(self) -> dict:
        return {"members": [m.to_dict() for m in self.members],
                "skipped": [s.to_dict() for s in self.skipped]}


def is_zip_bundle(filename: str) -> bool:
    """A `.zip` upload is a bundle of workbooks (an XLSX is a zip too, but never named so)."""
    return (filename or "").lower().endswith(".zip")


def store_uploads(store: FileStore, uploads: Iterable[tuple[str, BinaryIO]],
                  max_member_bytes: int) -> Bundle:
    """Store each upload (or each member of an uploaded zip); see the module docstring."""
    bundle = Bundle([], [])
    for filename, stream in uploads:
        if is_zip_bundle(filename):
            _store_zip(store, filename, stream, max_member_bytes, bundle)
        else:
            sha256, size = store.put_stream(stream)
            bundle.members.append(StoredMember(base_name(filename), sha256, size))
    return bundle


def base_name(name: str) -> str:
    return PurePosixPath((name or "").replace("\\", "/")).name or "upload"


def _store_zip(store: FileStore, filename: str, stream: BinaryIO, max_member_bytes: int,
               bundle: Bundle) -> None:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInput(f"{base_name(filename)} is not a readable zip archive ({exc}).",
                       code="bad_zip") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        _check_archive(filename, infos)
        for info in infos:
            reason = member_problem(info, max_member_bytes)
            if reason is not None:
                bundle.skipped.append(Skipped(info.filename, reason))
                continue
            try:
                with archive.open(info) as member:
                    limited = _LimitedReader(member, min(info.file_size, max_member_bytes))
                    sha256, size = store.put_stream(limited)
            except _TooBig:
                bundle.skipped.append(Skipped(info.filename, (
                    "it inflates beyond the size its archive declares or the upload limit "
                    f"({max_member_bytes // MB} MB): a damaged or hostile member")))
                continue
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                bundle.skipped.append(Skipped(info.filename, f"it cannot be unpacked ({exc})"))
                continue
            bundle.members.append(StoredMember(base_name(info.filename), sha256, size))


def _check_archive(filename: str, infos: list[zipfile.ZipInfo]) -> None:
    shown = base_name(filename)
    if len(infos) > MAX_MEMBERS:
        raise TooLarge(f"{shown} holds {len(infos):,} files; Quartile takes at most "
                       f"{MAX_MEMBERS} workbooks in one zip. Split it into smaller zips.",
                       code="too_many_members")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise TooLarge(f"{shown} would unpack to {total / MB:,.0f} MB; the limit is "
                       f"{MAX_TOTAL_BYTES // MB:,} MB. This looks like a zip bomb.",
                       code="zip_bomb")


def member_problem(info: zipfile.ZipInfo, max_member_bytes: int) -> str | None:
    """Why a member is skipped, in words, or None when it may be stored."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":"):
        return "unsafe name: it points outside the archive"
    base = parts[-1] if parts else ""
    if base.startswith(".") or "__MACOSX" in parts:
        return "not a spreadsheet (a hidden or system file)"
    suffix = PurePosixPath(base).suffix.lower()
    if suffix == ".zip":
        return "a zip inside the zip: upload its workbooks directly"
    if suffix not in SPREADSHEET_SUFFIXES:
        return f"not a spreadsheet ({suffix or 'no extension'}); Quartile reads XLSX, XLSM, " \
               "XLS, ODS, CSV and TSV"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    if info.file_size > max_member_bytes:
        return (f"{info.file_size / MB:,.1f} MB unpacked, over the upload limit of "
                f"{max_member_bytes // MB} MB")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size / max(info.compress_size, 1) \
            > MAX_RATIO:
        return (f"it would expand {info.file_size / max(info.compress_size, 1):,.0f} times: "
                "a zip bomb")
    return None


class _TooBig(Exception):  # noqa: N818 - a signal between two functions of this module
    pass


class _LimitedReader:
    """A stream that stops (raises _TooBig) once more than `limit` bytes came out."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream = stream
        self.limit = limit
        self.read_so_far = 0

    def read(self, size: int = _CHUNK) -> bytes:
        chunk = self.stream.read(min(size if size and size > 0 else _CHUNK, _CHUNK))
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise _TooBig
        return chunk
