"""Who may see what, by user id: the queries behind every page, the API, the CLI and the workers.

Anything a user may not read is absent (the web layer answers 404, so ids are never confirmed).
Anything in the trash (upload.trash), and the charts and reports of a trashed dataset, are absent
until restored. Flask-free: `web/access.py` binds these to the logged-in user."""

from __future__ import annotations

from sqlalchemy import or_, select

from store.db import db
from store.models import Dataset, DatasetShare, Report


def readable_datasets(user_id: int):
    """Datasets the user owns, has been shared, or that are public (a select to refine)."""
    shared = select(DatasetShare.dataset_id).where(DatasetShare.user_id == user_id)
    return select(Dataset).where(
        or_(Dataset.owner_id == user_id, Dataset.id.in_(shared), Dataset.is_public),
        Dataset.deleted_at.is_(None),
    )


def readable_dataset(user_id: int, dataset_id: str) -> Dataset | None:
    return db.session.scalar(readable_datasets(user_id).where(Dataset.id == dataset_id))


def owned_row(model, user_id: int, object_id: str):
    """A chart, report or job if it is the user's and not in the trash (nor its dataset)."""
    row = db.session.get(model, object_id)
    if row is None or row.owner_id != user_id or is_trashed(row):
        return None
    return row


def is_trashed(row) -> bool:
    if getattr(row, "deleted_at", None) is not None:
        return True
    dataset_id = getattr(row, "dataset_id", None)
    return dataset_id is not None and db.session.scalar(
        select(Dataset.deleted_at).where(Dataset.id == dataset_id)) is not None


def owned_reports(user_id: int):
    """The user's reports, without those in the trash or on a trashed dataset."""
    return (select(Report).join(Dataset, Dataset.id == Report.dataset_id)
            .where(Report.owner_id == user_id, Report.deleted_at.is_(None),
                   Dataset.deleted_at.is_(None)))
