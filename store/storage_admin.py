"""`quartile storage migrate` and `quartile storage sweep`: moving every object to another store,
and deleting the objects no row needs.

Migrate copies each object, reads it back from the target (not from a cache) and compares its
sha256 with the source's; only when every object matched does it record the target's URL in the
site settings, where every node reads it at start-up (store/storage.py). Run again, it skips the
objects the target already holds with the right bytes, so an interrupted migration, or uploads
that arrived meanwhile, are finished by running it once more (with the app stopped, for the last
pass).

Sweep deletes what an interrupted upload or an unreachable store left behind: originals, parses
and PDFs that no dataset, report or unfinished ingest job names, once they are older than a grace
period (an upload in progress stores its objects before its row). Rendered charts are a cache
with a budget of their own and are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from store.db import db, utcnow
from store.models import Dataset, Job, Report
from store.objects import ObjectStore

log = logging.getLogger("quartile.storage")
UNFINISHED = ("queued", "running")


@dataclass
class Migration:
    copied: int = 0
    already_there: int = 0
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.mismatched


def migrate(source: ObjectStore, target: ObjectStore,
            progress: Callable[[str], None] = lambda line: None) -> Migration:
    """Copy every object of `source` into `target` and verify each by its sha256."""
    result = Migration()
    for info in source.keys():
        expected = source.digest(info.key)
        if target.exists(info.key) and target.digest(info.key) == expected:
            result.already_there += 1
            continue
        target.put_file(info.key, source.local_path(info.key))
        if target.digest(info.key) != expected:
            result.mismatched.append(info.key)
            progress(f"MISMATCH {info.key}")
            continue
        result.copied += 1
        progress(f"copied {info.key} ({info.size:,} bytes)")
    return result


# -- sweep ---------------------------------------------------------------------------------------
@dataclass
class References:
    blobs: set[str]
    parses: set[tuple[str, str]]
    pdfs: set[str]
    pending: set[str]  # bytes an unfinished ingest job will parse (and its parse, if begun)

    def names(self, key: str) -> bool:
        parts = key.split("/")
        if parts[0] == "blobs" and len(parts) == 3:
            return parts[2] in self.blobs or parts[2] in self.pending
        if parts[0] == "sheets" and len(parts) >= 4:
            return (parts[1], parts[2]) in self.parses or parts[1] in self.pending
        if parts[0] == "reports" and len(parts) == 2:
            return parts[1] in self.pdfs
        return True  # charts, and anything we do not recognise: not ours to sweep


def references(sha256: str | None = None) -> References:
    """What the rows need now (only the rows of one blob's bytes, when `sha256` is given)."""
    datasets = select(Dataset.sha256, Dataset.parse_key)
    reports = select(Report.pdf_path).where(Report.pdf_path.is_not(None))
    if sha256 is not None:
        datasets = datasets.where(Dataset.sha256 == sha256)
    rows = db.session.execute(datasets).all()
    return References({sha for sha, _ in rows}, {(sha, key) for sha, key in rows},
                      set(db.session.scalars(reports)), _unfinished_upload_blobs())


def _unfinished_upload_blobs() -> set[str]:
    """Bytes a queued or running ingest job will parse: stored before their dataset exists."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "sha256" and isinstance(item, str):
                    found.add(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for params in db.session.scalars(select(Job.params).where(Job.state.in_(UNFINISHED))):
        walk(params)
    return found


def still_needed(key: str) -> bool:
    """Asked again just before deleting: an upload of the same bytes (or an identical report)
    may have committed its row since the listing began, finding the old object in place."""
    db.session.rollback()  # end the read transaction: see what was committed since
    parts = key.split("/")
    if parts[0] == "reports":
        return db.session.scalar(select(Report.id).where(Report.pdf_path == parts[1]).limit(1)
                                 ) is not None
    return references(parts[2] if parts[0] == "blobs" else parts[1]).names(key)


def sweep(store: ObjectStore, grace: timedelta, now: datetime | None = None) -> list[str]:
    """Delete the unreferenced objects older than `grace`; the keys deleted."""
    cutoff = (now or utcnow()) - grace
    needed = references()
    deleted = []
    for info in list(store.keys()):
        if info.modified > cutoff or needed.names(info.key):
            continue
        if still_needed(info.key):
            continue
        store.delete(info.key)
        deleted.append(info.key)
    if deleted:
        log.info("Storage sweep deleted %d unreferenced object(s).", len(deleted))
    return deleted
