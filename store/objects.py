"""One storage interface for every durable byte: uploaded originals, Parquet sheets, report PDFs
and rendered charts. Two backends, chosen by a URL (store/storage.py decides which one is active):

    file:///srv/quartile/files   LocalObjects: files under that directory, exactly today's layout
    s3://bucket/prefix           S3Objects (store/s3_objects.py): an S3-compatible object store,
                                 read through a bounded local cache (store/disk_cache.py)

Keys are relative, "/"-separated paths, the same on both backends, so `files/` can be copied
into a bucket one object per file (`quartile storage migrate`):

    blobs/ab/<sha256>                         an uploaded original
    sheets/<sha256>/<parse_key>/<name>        a parse: Parquet sheets, meta.json written last
    reports/<inputs_hash>.pdf                 a typeset report
    charts/ab/<key>.<ext>                     a rendered chart (a cache, pruned by size)

Flask-free: upload/, jobs/, the CLI and the pages all go through `objects_for(files_dir)`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

ROOTS = ("blobs", "sheets", "reports", "charts")  # the top-level folders that hold objects
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: datetime  # UTC


def write_atomically(target: Path, write: Callable[[BinaryIO], object],
                     prefix: str = ".tmp-") -> None:
    """`write(handle)` into a temp file beside `target`, then rename: a reader in another process
    sees the old file, or none, or the whole new one; a failed write leaves nothing."""
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def check_key(key: str) -> str:
    """Refuse a key that could leave the store's root (keys are generated, never user text)."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not an object key: {key!r}")
    if parts[0] not in ROOTS:
        raise ValueError(f"object key outside {ROOTS}: {key!r}")
    return key


class ObjectStore:
    """What every backend offers. `local_path` gives a readable local file (for the local
    backend the file itself, for S3 a cached copy); a missing object is FileNotFoundError;
    an unreachable store is errors.StorageUnavailable."""

    url: str

    def put_file(self, key: str, source: Path, move: bool = False) -> None:
        """Store a local file under `key`, whole or not at all; `move` gives the file away."""
        raise NotImplementedError

    def put_bytes(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def put_tree(self, prefix: str, source: Path, last: str) -> bool:
        """Store every file of the folder `source` under `prefix`, the file named `last` after
        all others (its presence says the rest is there), and remove the folder. False when the
        objects were there already (another process stored the same tree first)."""
        raise NotImplementedError

    def get_bytes(self, key: str) -> bytes:
        return self.local_path(key).read_bytes()

    def local_path(self, key: str) -> Path:
        raise NotImplementedError

    def digest(self, key: str) -> str:
        """The sha256 of the object as the store holds it (never a cached copy)."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`; how many went."""
        count = 0
        for info in list(self.keys(prefix)):
            self.delete(info.key)
            count += 1
        return count

    def keys(self, prefix: str = "") -> Iterator[ObjectInfo]:
        raise NotImplementedError

    def touch(self, key: str) -> None:
        """Mark an object recently used (the chart cache prunes the least recently used)."""

    def ping(self) -> None:
        """Raise StorageUnavailable unless the store answers now."""

    def forget_cached(self, key: str) -> None:
        """Drop this node's cached copy (another node deleted the object)."""


class LocalObjects(ObjectStore):
    """Files under `root`, one per object, written atomically (temp file + os.replace)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.url = self.root.resolve().as_uri()

    def __repr__(self) -> str:
        return f"LocalObjects({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def local_path(self, key: str) -> Path:
        return self.root / key  # a plain join: the hot path of every sheet read

    def put_file(self, key: str, source: Path, move: bool = False) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            os.replace(source, target)
            return
        with open(source, "rb") as handle:
            write_atomically(target, lambda out: shutil.copyfileobj(handle, out, CHUNK))

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, lambda out: out.write(data))

    def put_tree(self, prefix: str, source: Path, last: str) -> bool:
        target = self.path(prefix.rstrip("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)  # one rename: the whole folder appears at once
            return True
        except OSError:
            if (target / last).exists():  # another request stored the same tree: keep theirs
                shutil.rmtree(source, ignore_errors=True)
                return False
        shutil.rmtree(target, ignore_errors=True)  # a partial copy (no marker): replace it
        os.replace(source, target)
        return True

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def digest(self, key: str) -> str:
        digest = hashlib.sha256()
        with open(self.path(key), "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        count = super().delete_prefix(prefix)
        if prefix.endswith("/"):  # a folder: its empty directories go too
            shutil.rmtree(self.path(prefix.rstrip("/")), ignore_errors=True)
        return count

    def keys(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Walks only the folder the prefix names (a dataset's delete must not walk them all)."""
        if "/" in prefix:
            bases = [self.path(prefix.rsplit("/", 1)[0])]
        else:
            bases = [self.root / top for top in ROOTS if top.startswith(prefix)]
        for base in bases:
            for folder, _, names in os.walk(base):
                for name in sorted(names):
                    if name.startswith("."):  # a file being written
                        continue
                    path = Path(folder) / name
                    key = path.relative_to(self.root).as_posix()
                    if not key.startswith(prefix):
                        continue
                    try:
                        stat = path.stat()
                    except FileNotFoundError:
                        continue
                    yield ObjectInfo(key, stat.st_size,
                                     datetime.fromtimestamp(stat.st_mtime, UTC))

    def touch(self, key: str) -> None:
        try:
            os.utime(self.path(key))
        except FileNotFoundError:  # pruned meanwhile by another process
            pass


# -- which store serves which node directory ---------------------------------------------------
_STORES: dict[Path, ObjectStore] = {}
_BY_NAME: dict[str, ObjectStore] = {}  # the same, by the path as callers spell it
_LOCK = threading.Lock()


def register(files_dir: Path | str, store: ObjectStore) -> None:
    """Make `store` the one `objects_for(files_dir)` returns (create_app does, at start-up)."""
    with _LOCK:
        _STORES[Path(files_dir).resolve()] = store
        _BY_NAME.clear()


def objects_for(files_dir: Path | str) -> ObjectStore:
    """The object store of the node whose local directory is `files_dir`: the one registered at
    start-up, else local files under it (the embedded default, and scripts that never made an
    app)."""
    store = _BY_NAME.get(str(files_dir))  # the hot path: no resolve() per sheet read
    if store is None:
        path = Path(files_dir).resolve()
        with _LOCK:
            store = _STORES.setdefault(path, LocalObjects(path))
            _BY_NAME[str(files_dir)] = store
    return store


def open_store(url: str, *, cache_dir: Path, cache_bytes: int,
               endpoint_url: str | None = None) -> ObjectStore:
    """A store from its URL: file:///path or s3://bucket[/prefix]."""
    scheme, _, rest = url.partition("://")
    if scheme == "file" and rest.startswith("/"):
        return LocalObjects(Path(rest))
    if scheme == "s3" and rest.split("/", 1)[0]:
        from store.s3_objects import S3Objects

        bucket, _, prefix = rest.partition("/")
        return S3Objects(bucket, prefix.strip("/"), cache_dir=cache_dir, cache_bytes=cache_bytes,
                         endpoint_url=endpoint_url)
    raise ValueError(f"QUARTILE_STORAGE_URL must be file:///path or s3://bucket/prefix, not "
                     f"{url!r}.")
