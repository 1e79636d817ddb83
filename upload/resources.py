"""One dict per resource, used twice: the API returns it and the page renders it."""

from __future__ import annotations

from store.models import Dataset


def dataset_dict(dataset: Dataset) -> dict:
    meta = dataset.meta or {}
    return {
        "id": dataset.id,
        "name": dataset.name,
        "sha256": dataset.sha256,
        "size": dataset.size,
        "format": dataset.format,
        "created": dataset.created_at.isoformat(),
        "owner": dataset.owner.username,
        "is_public": dataset.is_public,
        "sheets": [
            {key: value for key, value in sheet.items() if key != "parquet"}
            for sheet in meta.get("sheets", [])
        ],
        "cleaning_log": meta.get("cleaning_log", []),
        "options": dataset.options or {},
    }
