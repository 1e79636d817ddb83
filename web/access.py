"""Who may see what. Anything a user may not read answers 404, so ids are never confirmed."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import or_, select

from errors import NotFound, QuartileError
from store.db import db
from store.models import Dataset, DatasetShare


class ReadOnly(QuartileError):
    status, code = 403, "read_only"


def readable_datasets_query():
    """Datasets the current user owns, has been shared, or that are public."""
    shared = select(DatasetShare.dataset_id).where(DatasetShare.user_id == current_user.id)
    return select(Dataset).where(
        or_(Dataset.owner_id == current_user.id, Dataset.id.in_(shared), Dataset.is_public)
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
    """A chart, report or job: its owner's alone."""
    row = db.session.get(model, object_id)
    if row is None or row.owner_id != current_user.id:
        raise NotFound(f"There is no {model.__name__.lower()} {object_id!r}.")
    return row
