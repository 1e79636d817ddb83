"""The content-addressed dataset store: originals by sha256, Parquet sheets by parse, kept in
the object store (store/objects.py: local `files/` or S3) under these keys:

    blobs/ab/abcdef…            the uploaded bytes, once, whoever uploaded them
    sheets/abcdef…/<parse_key>/ one Parquet file per cleaned sheet of that parse, and meta.json

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

from errors import StorageUnavailable
from store.objects import ObjectStore, objects_for

CHUNK = 1024 * 1024
META_FILE = "meta.json"  # a parse's metadata, stored after its sheets
# Bump when the cleaner's output changes, so stored parses are rebuilt rather than reused.
PARSER_VERSION = "4"  # 2: wide time series get a turned copy (upload/wide.py); 3: long ones
# too (upload/long.py); 4: dates and numbers typed in every column (upload/dates.py)


class FileStore:
    """The datasets' bytes in the node's object store (store/objects.py), with a private `tmp/`
    under the node's own directory for uploads and parses in progress."""

    def __init__(self, files_dir: Path | str, objects: ObjectStore | None = None):
        self.root = Path(files_dir)
        self.objects = objects or objects_for(self.root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def blob_key(sha256: str) -> str:
        _check_hex(sha256)
        return f"blobs/{sha256[:2]}/{sha256}"

    @staticmethod
    def parse_prefix(sha256: str, parse_key: str) -> str:
        _check_hex(sha256)
        _check_hex(parse_key)
        return f"sheets/{sha256}/{parse_key}/"

    def blob_path(self, sha256: str) -> Path:
        """A readable local copy of the original (the file itself when storage is local)."""
        return self.objects.local_path(self.blob_key(sha256))

    def has_blob(self, sha256: str) -> bool:
        return self.objects.exists(self.blob_key(sha256))

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
            key = self.blob_key(sha256)
            try:
                if not self.objects.exists(key):
                    self.objects.put_file(key, Path(temp_name), move=True)
            except StorageUnavailable:
                raise StorageUnavailable(writing=True) from None  # an upload: nothing saved
            return sha256, size
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)

    def sheet_key(self, sha256: str, parse_key: str, file_name: str) -> str:
        return self.parse_prefix(sha256, parse_key) + file_name

    def read_meta(self, sha256: str, parse_key: str) -> dict | None:
        """A finished parse's metadata (meta.json is stored last), or None. Asked of the store
        itself, not of a cached copy: another node may have deleted the parse meanwhile."""
        key = self.sheet_key(sha256, parse_key, META_FILE)
        if not self.objects.exists(key):
            return None
        try:
            return json.loads(self.objects.get_bytes(key))
        except FileNotFoundError:  # deleted between the two calls
            return None

    def new_parse_dir(self) -> Path:
        """A private local directory for a parse in progress; `commit_parse` stores it."""
        return Path(tempfile.mkdtemp(dir=self.tmp, prefix="parse-"))

    def commit_parse(self, work_dir: Path, sha256: str, parse_key: str) -> None:
        """Store every file of the parse, meta.json last; another request's finished copy of
        the same parse is kept instead."""
        self.objects.put_tree(self.parse_prefix(sha256, parse_key), work_dir, last=META_FILE)

    def put_sheet(self, sha256: str, parse_key: str, file_name: str, frame) -> None:
        """Add a derived sheet (upload/by_period) to a stored parse, written whole or not at
        all. `file_name` is generated ("derived-<hex>.parquet"), never user text."""
        if not file_name.startswith("derived-") or "/" in file_name or "\\" in file_name:
            raise ValueError(f"not a derived sheet's file name: {file_name!r}")
        handle, temp_name = tempfile.mkstemp(dir=self.tmp, prefix="sheet-", suffix=".parquet")
        os.close(handle)
        try:
            frame.to_parquet(temp_name, engine="pyarrow")
            self.objects.put_file(self.sheet_key(sha256, parse_key, file_name), Path(temp_name),
                                  move=True)
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)

    def discard(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def remove_blob(self, sha256: str) -> None:
        """Remove the bytes and every parse of them (callers check no dataset still uses them)."""
        self.objects.delete_prefix(f"sheets/{sha256}/")
        self.objects.delete(self.blob_key(sha256))


def parse_key(options: dict | None) -> str:
    """A stable key for (parser version, options): equal options give the same stored parse."""
    canonical = json.dumps({"v": PARSER_VERSION, "options": options or {}}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_hex(value: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"not a sha256 hex digest: {value!r}")
