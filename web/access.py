"""Who may see what, for the logged-in user: store/access.py's queries bound to `current_user`.
Anything a user may not read answers 404, so ids are never confirmed."""

from __future__ import annotations

from flask_login import current_user

from errors import NotFound, QuartileError
from store import access
from store.models import Dataset


class ReadOnly(QuartileError):
    status, code = 403, "read_only"


def readable_datasets_query():
    """Datasets the current user owns, has been shared, or that are public."""
    return access.readable_datasets(current_user.id)


def dataset_for_read(dataset_id: str) -> Dataset:
    dataset = access.readable_dataset(current_user.id, dataset_id)
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
    row = access.owned_row(model, current_user.id, object_id)
    if row is None:
        raise NotFound(f"There is no {model.__name__.lower()} {object_id!r}.")
    return row


def owned_reports_query():
    """The current user's reports, without those in the trash or on a trashed dataset."""
    return access.owned_reports(current_user.id)
