"""The content-addressed file store under `files/`: originals by sha256, Parquet sheets by parse.

    files/blobs/ab/abcdef…            the uploaded bytes, once, whoever uploaded them
    files/sheets/abcdef…/<parse_key>/ one Parquet file per cleaned sheet of that parse

A parse is identified by the blob's hash and the options it ran with, so two users who upload
the same bytes share the blob and its sheets; a user who overrides a header row gets a new
parse beside the old one. Flask-free: the CLI and the jobs use it as the pages do.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
# Bump when the cleaner's output changes, so stored parses are rebuilt rather than reused.
PARSER_VERSION = "4"  # 2: wide time series get a turned copy (upload/wide.py); 3: long ones
# too (upload/long.py); 4: dates and numbers typed in every column (upload/dates.py)


class FileStore:
    def __init__(self, files_dir: Path | str):
        self.root = Path(files_dir)
        self.blobs = self.root / "blobs"
        self.sheets = self.root / "sheets"
        self.tmp = self.root / "tmp"
        for path in (self.blobs, self.sheets, self.tmp):
            path.mkdir(parents=True, exist_ok=True)

    def blob_path(self, sha256: str) -> Path:
        _check_hex(sha256)
        return self.blobs / sha256[:2] / sha256

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Copy a stream into the store; return (sha256, size). The same bytes are kept once."""
        digest, size = hashlib.sha256(), 0
        handle, temp_name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha256 = digest.hexdigest()
            target = self.blob_path(sha256)
            if target.exists():
                os.unlink(temp_name)
            else:
                target.parent.mkdir(exist_ok=True)
                os.replace(temp_name, target)
            return sha256, size
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise

    def parse_dir(self, sha256: str, parse_key: str) -> Path:
        _check_hex(sha256)
        _check_hex(parse_key)
        return self.sheets / sha256 / parse_key

    def new_parse_dir(self) -> Path:
        """A private directory for a parse in progress; `commit_parse` moves it into place."""
        return Path(tempfile.mkdtemp(dir=self.tmp, prefix="parse-"))

    def commit_parse(self, work_dir: Path, sha256: str, parse_key: str) -> Path:
        target = self.parse_dir(sha256, parse_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(work_dir, target)
        except OSError:  # another request stored the same parse first: keep theirs
            shutil.rmtree(work_dir, ignore_errors=True)
        return target

    def put_sheet(self, sha256: str, parse_key: str, file_name: str, frame) -> Path:
        """Add a derived sheet (upload/by_period) to a stored parse, written whole or not at
        all. `file_name` is generated ("derived-<hex>.parquet"), never user text."""
        if not file_name.startswith("derived-") or "/" in file_name or "\\" in file_name:
            raise ValueError(f"not a derived sheet's file name: {file_name!r}")
        target = self.parse_dir(sha256, parse_key) / file_name
        handle, temp_name = tempfile.mkstemp(dir=self.tmp, prefix="sheet-", suffix=".parquet")
        os.close(handle)
        try:
            frame.to_parquet(temp_name, engine="pyarrow")
            os.replace(temp_name, target)
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise
        return target

    def discard(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def remove_blob(self, sha256: str) -> None:
        """Remove the bytes and every parse of them (callers check no dataset still uses them)."""
        self.blob_path(sha256).unlink(missing_ok=True)
        shutil.rmtree(self.sheets / sha256, ignore_errors=True)


def parse_key(options: dict | None) -> str:
    """A stable key for (parser version, options): equal options give the same stored parse."""
    canonical = json.dumps({"v": PARSER_VERSION, "options": options or {}}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_hex(value: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"not a sha256 hex digest: {value!r}")
