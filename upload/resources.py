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
        "family": ({"id": dataset.family.id, "name": dataset.family.name}
                   if dataset.family is not None else None),
        "release": dataset.release_label,
        "last_period": dataset.last_period,
    }


def default_sheet(sheets: list[dict]) -> str | None:
    """Open on the data, not on a notes sheet: the first indexed sheet, else the largest."""
    if not sheets:
        return None
    indexed = [s for s in sheets if s.get("index")]
    if indexed:
        return indexed[0]["name"]
    return max(sheets, key=lambda s: s["n_rows"] * s["n_cols"])["name"]
