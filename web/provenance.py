"""Where a number came from: the provenance block every result, export and PDF carries.

For one dataset: its sha256, family and release label, the sheet, the parser version with the
parse options' key and a digest of the cleaning steps the sheet went through, the recipe (if the
result was made from one), Quartile's version and when it was computed. For a family analysis,
the same for each release it read. Two results with equal provenance (computed-at aside) come
from the same bytes, cleaned the same way, by the same code.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from store.models import Dataset
from upload.store import PARSER_VERSION
from web.lru_cache import LruCache
from web.version import VERSION

DIGESTS = LruCache(max_entries=4096)


def cleaning_digest(dataset: Dataset, sheet: str | None) -> str:
    """sha256 of the cleaning steps of `sheet` (and of the whole file's steps); a stored parse
    never changes, so the digest is kept by (bytes, parse, sheet)."""
    def digest() -> str:
        steps = [entry for entry in (dataset.meta or {}).get("cleaning_log", [])
                 if entry.get("sheet") in (None, sheet)]
        return hashlib.sha256(json.dumps(steps, sort_keys=True).encode()).hexdigest()

    return DIGESTS.get_or_compute((dataset.sha256, dataset.parse_key, sheet), digest)


def release_provenance(dataset: Dataset, sheet: str | None) -> dict:
    return {
        "dataset": dataset.id,
        "dataset_name": dataset.name,
        "sha256": dataset.sha256,
        "family": ({"id": dataset.family.id, "name": dataset.family.name}
                   if dataset.family is not None else None),
        "release": dataset.release_label,
        "parse_key": dataset.parse_key,
        "cleaning_digest": cleaning_digest(dataset, sheet),
    }


def provenance(dataset: Dataset, sheet: str | None, recipe_id: str | None = None,
               at: str | None = None) -> dict:
    """The provenance of a result computed on one dataset's sheet (`at`: when, default now)."""
    return {**release_provenance(dataset, sheet), **_common(sheet, recipe_id, at)}


def family_provenance(family, releases: list[Dataset], sheet: str | None,
                      recipe_id: str | None = None, at: str | None = None) -> dict:
    """The provenance of a result computed over several releases of a family."""
    return {"family": {"id": family.id, "name": family.name},
            "releases": [release_provenance(d, sheet) for d in releases],
            **_common(sheet, recipe_id, at)}


def computed_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _common(sheet: str | None, recipe_id: str | None, at: str | None) -> dict:
    return {"sheet": sheet, "parser_version": PARSER_VERSION, "recipe": recipe_id,
            "quartile_version": VERSION, "computed_at": at or computed_now()}


def provenance_lines(block: dict) -> list[str]:
    """The block as `key: value` lines, for CSV/Markdown/LaTeX comments and the PDF appendix."""
    lines = []
    releases = block.get("releases") or [block]
    for release in releases:
        family = release.get("family") or block.get("family")
        lines.append(f"dataset {release.get('dataset_name')} ({release.get('dataset')}), "
                     f"sha256 {release.get('sha256')}")
        if family:
            lines.append(f"  family {family['name']} ({family['id']}), release "
                         f"{release.get('release')}")
        lines.append(f"  parse {release.get('parse_key')}, cleaning steps digest "
                     f"{release.get('cleaning_digest')}")
    sheet = block.get("sheet") or "every sheet"  # a whole-dataset report names no one sheet
    lines.append(f"sheet {sheet}; parser version {block.get('parser_version')}; "
                 f"recipe {block.get('recipe') or 'none'}")
    lines.append(f"Quartile {block.get('quartile_version')}; computed at "
                 f"{block.get('computed_at')}")
    return lines


def flat_provenance(block: dict) -> dict:
    """The block with nested dicts flattened ("family.name") and lists joined, for a header
    or a two-column table."""
    flat = {}
    for key, value in block.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        elif isinstance(value, list):
            flat[key] = "; ".join(str(v) for v in value)
        else:
            flat[key] = value
    return flat
