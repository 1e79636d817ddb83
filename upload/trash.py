"""The trash: a deleted dataset, chart or report is kept for QUARTILE_TRASH_DAYS, restorable by
its owner, then purged for good (its bytes too, unless something else still uses them).

Deleting sets `deleted_at`; every way of reading (web.access, lists, the report builder) treats
such a row, and the charts and reports of a trashed dataset, as absent. Restoring clears it, so
the same rows, blobs and PDFs come back byte for byte. Purging runs at start-up and whenever a
trash is listed (`purge_expired`); an administrator empties every trash at once (`empty`).
Flask-free: the pages, the API and the CLI all call these functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

import jobs
from errors import Conflict, NotFound
from store.db import as_utc, db, utcnow
from store.models import Chart, Dataset, Report
from upload.report_life import delete_report, stop_build
from upload.service import delete_dataset

KINDS: dict[str, type] = {"dataset": Dataset, "chart": Chart, "report": Report}
PURGE_ORDER = ("report", "chart", "dataset")  # what hangs on a dataset goes before it


def move_to_trash(row: Dataset | Chart | Report) -> None:
    """Delete by a slip-proof step: hidden everywhere, restorable until purged. A report's
    build in progress stops (its row stays, marked by the job's end)."""
    reports = [row] if isinstance(row, Report) else db.session.scalars(select(Report).where(
        Report.dataset_id == row.id)).all() if isinstance(row, Dataset) else []
    for report in reports:
        stop_build(report)
    row.deleted_at = utcnow()
    db.session.commit()
    if isinstance(row, Report):
        jobs.publish_change(row.owner_id, "reports", row.id)


def restore(owner_id: int, kind: str, item_id: str) -> Dataset | Chart | Report:
    """Bring an item of the owner's trash back as it was (404 when it is not in their trash)."""
    model = KINDS.get(kind)
    row = db.session.get(model, item_id) if model is not None else None
    if row is None or row.owner_id != owner_id or row.deleted_at is None:
        raise NotFound(f"There is no {kind} {item_id!r} in your trash.")
    if kind != "dataset":
        dataset = db.session.get(Dataset, row.dataset_id)
        if dataset.deleted_at is not None:
            raise Conflict(f"Its dataset {dataset.name!r} is in the trash too: restore the "
                           "dataset first.", code="dataset_in_trash")
    row.deleted_at = None
    db.session.commit()
    return row


def trashed_items(owner_id: int, days: float) -> list[dict]:
    """The owner's trash, newest deletion first: `{"kind", "id", "name", "deleted_at",
    "purge_at"}` (times in ISO 8601, UTC)."""
    items = []
    for kind, model in KINDS.items():
        rows = db.session.scalars(select(model).where(
            model.owner_id == owner_id, model.deleted_at.is_not(None))).all()
        for row in rows:
            deleted = as_utc(row.deleted_at)
            items.append({"kind": kind, "id": row.id, "name": item_name(row),
                          "deleted_at": deleted.isoformat(),
                          "purge_at": (deleted + timedelta(days=days)).isoformat()})
    return sorted(items, key=lambda item: item["deleted_at"], reverse=True)


def item_name(row: Dataset | Chart | Report) -> str:
    if isinstance(row, Dataset):
        return row.name
    if isinstance(row, Report):
        return row.title
    options = (row.spec or {}).get("options") or {}
    return options.get("title") or f"{row.spec.get('kind', '')} chart of {row.spec.get('sheet')}"


def purge_expired(files_dir: Path, days: float, now: datetime | None = None) -> int:
    """Delete for good what has been in any trash longer than `days`; the number purged."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    return _purge(files_dir, lambda model: model.deleted_at < cutoff)


def empty(files_dir: Path) -> int:
    """Every user's trash, purged now (an administrator's action)."""
    return _purge(files_dir, lambda model: model.deleted_at.is_not(None))


def _purge(files_dir: Path, condition) -> int:
    """Purge the matching rows. Rows go by SQL DELETE, so one that another process (a second
    gunicorn worker starting, a second trash page) purged meanwhile is skipped, not counted."""
    purged = 0
    for kind in PURGE_ORDER:
        model = KINDS[kind]
        for row in db.session.scalars(select(model).where(condition(model))).all():
            purged += _purge_row(files_dir, kind, row)
    return purged


def _purge_row(files_dir: Path, kind: str, row: Dataset | Chart | Report) -> bool:
    if kind == "dataset":
        for report in db.session.scalars(select(Report).where(Report.dataset_id == row.id)):
            delete_report(files_dir, report)
        return delete_dataset(files_dir, row)  # charts and shares: the database cascade
    if kind == "report":
        return delete_report(files_dir, row)
    gone = db.session.execute(delete(Chart).where(Chart.id == row.id)).rowcount
    db.session.commit()
    return gone == 1
