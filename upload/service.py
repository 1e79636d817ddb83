"""The one upload path: stream → content-addressed blob → parse in a limited worker → rows.

The upload form, `POST /api/v1/datasets`, the CLI and background ingest jobs all call
`ingest_upload`; analyses call `load_sheet`, which reads the stored Parquet copy and never the
original file.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import delete, func, select

from errors import NotFound, StorageUnavailable, StoredFileMissing
from store.db import db
from store.models import Dataset, User
from store.objects import ObjectStore, objects_for
from upload.by_period import rebuild_derived
from upload.pipeline import ingest_file, read_sheet
from upload.sheet_cache import SheetCache
from upload.store import META_FILE, FileStore, parse_key

log = logging.getLogger("quartile.upload")


def ingest_upload(
    files_dir: Path, owner: User, stream: BinaryIO, filename: str, options: dict | None = None
) -> tuple[Dataset, bool]:
    """Store and parse an upload for `owner`. Returns (dataset, created).

    The same bytes uploaded again by the same owner return the existing dataset (created False).
    A file that fails to parse raises its QuartileError and leaves nothing behind.
    """
    sha256, size = FileStore(files_dir).put_stream(stream)
    existing = owned_copy(owner.id, sha256)
    if existing is not None:
        return existing, False
    return ingest_stored(files_dir, owner, sha256, size, filename, options)


def owned_copy(owner_id: int, sha256: str) -> Dataset | None:
    """The owner's dataset with these bytes, if they uploaded them before; one in their trash
    comes back out of it (with its charts and reports), as an upload of the same bytes means."""
    dataset = db.session.scalar(
        select(Dataset).where(Dataset.owner_id == owner_id, Dataset.sha256 == sha256).limit(1)
    )
    if dataset is not None and dataset.deleted_at is not None:
        dataset.deleted_at = None
        db.session.commit()
    return dataset


def ingest_stored(
    files_dir: Path,
    owner: User,
    sha256: str,
    size: int,
    filename: str,
    options: dict | None = None,
    before_saving: Callable[[], None] | None = None,
) -> tuple[Dataset, bool]:
    """Parse bytes already in the store and create the dataset row (the second half of
    `ingest_upload`, which a background ingest job runs on its own). `before_saving` runs
    between parsing and the row: a job's last chance to be cancelled."""
    store = FileStore(files_dir)
    name = display_name(filename)
    try:
        meta = parse_stored(store, sha256, name, options)
        if before_saving is not None:
            before_saving()
    except BaseException as error:
        db.session.rollback()
        _forget_unused_blob(store, sha256)
        if isinstance(error, StorageUnavailable):  # in an upload's words: nothing was saved
            raise StorageUnavailable(writing=True) from None
        raise
    existing = owned_copy(owner.id, sha256)  # the same bytes finished meanwhile
    if existing is not None:
        return existing, False
    dataset = Dataset(
        owner_id=owner.id,
        name=name,
        sha256=sha256,
        size=size,
        format=meta["format"],
        parse_key=parse_key(options),
        options=options or {},
        meta=meta,
    )
    db.session.add(dataset)
    db.session.commit()
    return dataset, True


def forget_upload(files_dir: Path, sha256: str) -> None:
    """Drop stored bytes that no dataset uses (an upload whose ingest job never ran)."""
    _forget_unused_blob(FileStore(files_dir), sha256)


def reparse(files_dir: Path, dataset: Dataset, options: dict) -> Dataset:
    """Parse the stored original again with overrides (header rows, column types)."""
    store = FileStore(files_dir)
    rules = (dataset.meta or {}).get("derived", [])
    meta = parse_stored(store, dataset.sha256, dataset.name, options)
    dataset.options = options
    dataset.parse_key = parse_key(options)
    dataset.meta = meta
    dataset.format = meta["format"]
    db.session.commit()
    if rules:  # by-period sheets follow their source sheet (upload/by_period.py)
        rebuild_derived(files_dir, dataset, rules,
                        lambda sheet: load_sheet(files_dir, dataset, sheet))
    return dataset


def parse_stored(store: FileStore, sha256: str, filename: str, options: dict | None) -> dict:
    """Parse a stored blob once per (bytes, options); later calls read the saved metadata.
    The parse runs in a local folder and is stored whole (meta.json last) before this returns,
    so the dataset row a caller commits next never names sheets that are not stored."""
    key = parse_key(options)
    meta = store.read_meta(sha256, key)
    if meta is not None:
        return meta
    work = store.new_parse_dir()
    try:
        parsed = ingest_file(store.blob_path(sha256), filename, work, options)
        meta = parsed.to_dict()
        (work / META_FILE).write_text(json.dumps(meta))
        store.commit_parse(work, sha256, key)
    finally:
        store.discard(work)
    return meta


def delete_dataset(files_dir: Path, dataset: Dataset) -> bool:
    """Delete the row (its shares, charts and reports by the database's cascade); the bytes go
    too when no other dataset (any owner) still uses them. False if the row was gone already
    (another process deleted it): a plain DELETE, so that is no error."""
    sha256 = dataset.sha256
    gone = db.session.execute(delete(Dataset).where(Dataset.id == dataset.id)).rowcount
    db.session.commit()
    _forget_unused_blob(FileStore(files_dir), sha256)
    return gone == 1


def _forget_unused_blob(store: FileStore, sha256: str) -> None:
    users = db.session.scalar(select(func.count(Dataset.id)).where(Dataset.sha256 == sha256))
    if not users:
        try:
            store.remove_blob(sha256)
        except StorageUnavailable:  # no row names them: `quartile storage sweep` will
            log.warning("Unused bytes %s… left in the unreachable object store for the sweep.",
                        sha256[:12])


def sheet_meta(dataset: Dataset, sheet: str) -> dict:
    for meta in dataset.meta.get("sheets", []):
        if meta["name"] == sheet:
            return meta
    names = ", ".join(repr(s["name"]) for s in dataset.meta.get("sheets", []))
    raise NotFound(f"The dataset {dataset.name!r} has no sheet named {sheet!r}. Sheets: {names}.")


def sheet_key(files_dir: Path, dataset: Dataset, sheet: str) -> str:
    meta = sheet_meta(dataset, sheet)
    return FileStore.parse_prefix(dataset.sha256, dataset.parse_key) + meta["parquet"]


def load_sheet(files_dir: Path, dataset: Dataset, sheet: str) -> pd.DataFrame:
    """The cleaned sheet as a DataFrame (cached in memory: stored parses never change, so a
    cached sheet is served even while the object store is unreachable).

    A shallow copy of the cached frame: with pandas' copy-on-write, a caller that assigns a
    column changes its copy, never the cache.
    """
    try:
        frame = _read_cached(objects_for(files_dir), sheet_key(files_dir, dataset, sheet))
    except FileNotFoundError:
        log.error("dataset %s: stored sheet %r is missing from file storage", dataset.id, sheet)
        raise StoredFileMissing(
            f"The stored copy of sheet {sheet!r} of {dataset.name!r} is missing from file "
            "storage. Upload the file again, or ask the administrator to restore the files."
        ) from None
    return frame.copy(deep=False)


def _read_stored(objects: ObjectStore, key: str) -> pd.DataFrame:
    return read_sheet(objects.local_path(key))


_read_cached = SheetCache(_read_stored, maxsize=64)
READ_AHEAD_CELLS = 250_000  # a bigger upload's sheets are read when first asked for (memory)


def read_ahead(files_dir: Path, dataset: Dataset) -> None:
    """Start reading a new upload's sheets into this process's cache (background thread), so
    the first chart or table asked for next finds them read. Only small uploads: a big one
    would hold memory for sheets nobody may look at."""
    sheets = (dataset.meta or {}).get("sheets", [])
    if sum(s["n_rows"] * max(s["n_cols"], 1) for s in sheets) > READ_AHEAD_CELLS:
        return
    _read_cached.read_ahead(objects_for(files_dir),
                            [sheet_key(files_dir, dataset, s["name"]) for s in sheets])


def display_name(filename: str) -> str:
    """The base name a person gave the file, without control characters, at most 255 chars."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return (base or "upload")[:255]
