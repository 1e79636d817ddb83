"""Who may see what. Anything a user may not read answers 404, so ids are never confirmed.

Anything in the trash (upload.trash), and the charts and reports of a trashed dataset, are
absent here until restored."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import or_, select

from errors import NotFound, QuartileError
from store.db import db
from store.models import Dataset, DatasetShare, Report


class ReadOnly(QuartileError):
    status, code = 403, "read_only"


def readable_datasets_query():
    """Datasets the current user owns, has been shared, or that are public."""
    shared = select(DatasetShare.dataset_id).where(DatasetShare.user_id == current_user.id)
    return select(Dataset).where(
        or_(Dataset.owner_id == current_user.id, Dataset.id.in_(shared), Dataset.is_public),
        Dataset.deleted_at.is_(None),
    )


def dataset_for_read(dataset_id: str) -> Dataset:
    dataset = db.session.scalar(readable_datasets_query().where(Dataset.id == dataset_id))
    if dataset is None:
        raise NotFound(f"There is no dataset {dataset_id!r}.")
    return dataset


def dataset_for_write(dataset_id: str) -> Dataset:
    """Only the owner changes or deletes a dataset; readers are told it is read-only."""
    dataset = dataset_for_read(dataset_id)
    if dataset.owner_id != current_user.id:
        raise ReadOnly("This dataset is shared with you read-only; only its owner can change it.")
    return dataset


def owned_or_404(model, object_id: str):
    """A chart, report or job: its owner's alone, and not in the trash (nor its dataset)."""
    row = db.session.get(model, object_id)
    if row is None or row.owner_id != current_user.id or _trashed(row):
        raise NotFound(f"There is no {model.__name__.lower()} {object_id!r}.")
    return row


def _trashed(row) -> bool:
    if getattr(row, "deleted_at", None) is not None:
        return True
    dataset_id = getattr(row, "dataset_id", None)
    return dataset_id is not None and db.session.scalar(
        select(Dataset.deleted_at).where(Dataset.id == dataset_id)) is not None


def owned_reports_query():
    """The current user's reports, without those in the trash or on a trashed dataset."""
    return (select(Report).join(Dataset, Dataset.id == Report.dataset_id)
            .where(Report.owner_id == current_user.id, Report.deleted_at.is_(None),
                   Dataset.deleted_at.is_(None)))
