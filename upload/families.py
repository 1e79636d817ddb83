"""Families of releases: the same publication uploaded again and again (issue 14).

A family is one owner's; a dataset is a release of at most one family, with a label ("2020Q1",
editable, unique in its family) and the last period of its main sheet. Releases are ordered by
`release_sort_key` (label as a period, else last period, else label text), never by upload time.

Life cycle, decided here and nowhere else:
- a release's label clashes with another release of the family: Conflict, nothing changes;
- deleting a release (its dataset) removes it and its series corrections (foreign keys); the
  family stays, even empty, with its name and recipes, ready for the next upload;
- deleting a family keeps its datasets as standalone uploads.
Flask-free: the API, the pages and the ingest jobs call it alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

import analysis.vintages as compute
from analysis.vintages import (
    ReleaseSheet,
    SeriesMap,
    match_series,
    release_label_from,
    release_sort_key,
)
from errors import BadInput, Conflict, NotFound, Unprocessable
from store.db import db
from store.models import Dataset, Family, SeriesCorrection, User
from upload.resources import default_sheet
from upload.service import display_name, forget_upload, ingest_stored, load_sheet, parse_stored
from upload.store import FileStore

MAX_LABEL = 64
MAX_NAME = 200
PROPOSE_AT = 0.6  # release_similarity's score from which a family is proposed


# -- reading ---------------------------------------------------------------------------------
def family_of_owner(owner_id: int, family_id: str) -> Family:
    """The owner's family; anyone else's (or none) is a 404, so ids are never confirmed."""
    family = db.session.get(Family, family_id)
    if family is None or family.owner_id != owner_id:
        raise NotFound(f"There is no family {family_id!r}.")
    return family


def families_of(owner_id: int) -> list[Family]:
    return list(db.session.scalars(
        select(Family).where(Family.owner_id == owner_id).order_by(Family.created_at, Family.id)))


def ordered_releases(family: Family) -> list[Dataset]:
    """Oldest release first, by label or last period (not by upload time)."""
    return sorted(family.releases, key=lambda d: release_sort_key(d.release_label or d.name,
                                                                  d.last_period))


def release_fingerprint(family: Family) -> tuple:
    """What identifies the family's releases and corrections now, read without loading the
    releases' metadata: (id, sha256, parse key, label, last period) per release, and the
    corrections. A cache key for anything computed from the releases."""
    rows = db.session.execute(select(
        Dataset.id, Dataset.sha256, Dataset.parse_key, Dataset.release_label,
        Dataset.last_period).where(Dataset.family_id == family.id, Dataset.deleted_at.is_(None))
        .order_by(Dataset.id)).all()
    fixes = db.session.execute(select(
        SeriesCorrection.dataset_id, SeriesCorrection.sheet, SeriesCorrection.column,
        SeriesCorrection.series).where(SeriesCorrection.family_id == family.id).order_by(
        SeriesCorrection.id)).all()
    return tuple(tuple(r) for r in rows), tuple(tuple(f) for f in fixes)


def release_dict(dataset: Dataset) -> dict:
    return {"dataset": dataset.id, "label": dataset.release_label,
            "last_period": dataset.last_period, "name": dataset.name, "sha256": dataset.sha256}


def family_dict(family: Family) -> dict:
    releases = ordered_releases(family)
    return {"id": family.id, "name": family.name, "created": family.created_at.isoformat(),
            "releases": [release_dict(d) for d in releases], "sheets": family_sheets(releases)}


def family_sheets(releases: list[Dataset]) -> list[str]:
    """Indexed sheets (time series) of the releases, in the newest release's order first. A
    CSV's one sheet is named after its file ("2020Q1"): it is the newest CSV release's sheet."""
    names: list[str] = []
    for number, dataset in enumerate(reversed(releases)):
        if dataset.format == "csv" and number:
            continue
        for sheet in (dataset.meta or {}).get("sheets", []):
            if sheet.get("index") and sheet["name"] not in names:
                names.append(sheet["name"])
    return names


def sheet_of_release(dataset: Dataset, sheet: str) -> str | None:
    """The release's own name for the family's sheet: the same name, or a CSV's one sheet."""
    sheets = [s["name"] for s in (dataset.meta or {}).get("sheets", [])]
    if sheet in sheets:
        return sheet
    if dataset.format == "csv" and len(sheets) == 1:
        return sheets[0]
    return None


def last_period_of(meta: dict) -> str | None:
    """The end of the main sheet's period index (the release's newest quarter)."""
    sheets = (meta or {}).get("sheets", [])
    name = default_sheet(sheets)
    sheet = next((s for s in sheets if s["name"] == name), None)
    index = (sheet or {}).get("index")
    return str(index["end"])[:32] if index else None


def release_sheets(files_dir: Path, releases: list[Dataset], sheet: str) -> list[ReleaseSheet]:
    """The sheet as each release has it (releases without the sheet are left out)."""
    found = []
    for dataset in releases:
        own = sheet_of_release(dataset, sheet)
        if own is not None:
            found.append(ReleaseSheet(dataset.release_label or dataset.name,
                                      load_sheet(files_dir, dataset, own), sheet))
    if not found:
        raise NotFound(f"No release of this family has a sheet named {sheet!r}.")
    return found


def overrides_for(family: Family, sheet: str) -> dict[str, dict[str, str | None]]:
    """The user's corrections of the series mapping, as match_series takes them."""
    labels = {d.id: d.release_label for d in family.releases}
    rows = db.session.scalars(select(SeriesCorrection).where(
        SeriesCorrection.family_id == family.id, SeriesCorrection.sheet == sheet))
    result: dict[str, dict[str, str | None]] = {}
    for row in rows:
        if row.dataset_id in labels:
            result.setdefault(labels[row.dataset_id], {})[row.column] = row.series
    return result


def series_map(files_dir: Path, family: Family, sheet: str) -> SeriesMap:
    releases = release_sheets(files_dir, ordered_releases(family), sheet)
    return match_series(releases, overrides_for(family, sheet))


# -- changing --------------------------------------------------------------------------------
def create_family(owner_id: int, name: str) -> Family:
    family = Family(owner_id=owner_id, name=clean_name(name))
    db.session.add(family)
    db.session.flush()
    return family


def rename_family(family: Family, name: str) -> None:
    family.name = clean_name(name)
    db.session.commit()


def delete_family(family: Family) -> None:
    """The family goes; its datasets stay as standalone uploads, without labels."""
    for dataset in list(family.releases):
        dataset.family_id = None
        dataset.release_label = None
    db.session.flush()
    db.session.delete(family)
    db.session.commit()


def relabel(dataset: Dataset, label: str) -> None:
    label = clean_label(label)
    if dataset.family_id is None:
        raise BadInput(f"{dataset.name} is not a release of a family.", code="not_a_release")
    check_label_free(dataset.family, label, dataset)
    dataset.release_label = label
    db.session.commit()


def relabel_many(family: Family, labels: dict[str, str]) -> None:
    """New labels for several releases at once ({dataset id: label}): checked on the final
    state (so two releases may swap labels), all applied or none."""
    by_id = {d.id: d for d in family.releases}
    unknown = [i for i in labels if i not in by_id]
    if unknown:
        raise NotFound(f"The family {family.name!r} has no release {unknown[0]!r}.")
    final = {d.id: d.release_label for d in family.releases}
    final.update({i: clean_label(label) for i, label in labels.items()})
    seen: dict[str, str] = {}
    for dataset_id, label in final.items():
        if label in seen:
            first, second = sorted([by_id[seen[label]].name, by_id[dataset_id].name])
            raise Conflict(f"Two releases would be labelled {label!r} ({first} and {second}); "
                           "nothing was changed.", code="release_label_taken")
        seen[label] = dataset_id
    for dataset_id in labels:
        by_id[dataset_id].release_label = None
    db.session.flush()  # no moment with two equal labels (the unique constraint)
    for dataset_id in labels:
        by_id[dataset_id].release_label = final[dataset_id]
    db.session.commit()


def check_label_free(family: Family, label: str, allowed: Dataset | None = None) -> None:
    """Conflict when another release of the family has `label`. One light query: releases
    carry their whole parse metadata, too heavy to load for each release a bulk ingest adds."""
    holder = db.session.execute(select(Dataset.id, Dataset.name, Dataset.deleted_at).where(
        Dataset.family_id == family.id, Dataset.release_label == label)).first()
    if holder is not None and (allowed is None or holder.id != allowed.id):
        where = " in your trash" if holder.deleted_at is not None else ""
        raise Conflict(
            f"The family {family.name!r} already has a release labelled {label!r} "
            f"({holder.name}{where}); nothing was changed. Give this release another label.",
            code="release_label_taken")


def add_release(family: Family, dataset: Dataset, label: str) -> None:
    """Make `dataset` a release of `family` (Conflict when its label is taken)."""
    label = clean_label(label)
    if dataset.family_id not in (None, family.id):
        raise Conflict(f"{dataset.name} is already a release of another family.",
                       code="in_another_family")
    check_label_free(family, label, dataset)
    dataset.family_id = family.id
    dataset.release_label = label
    dataset.last_period = dataset.last_period or last_period_of(dataset.meta)
    db.session.commit()


def set_correction(family: Family, dataset: Dataset, sheet: str, column: str,
                   series: str | None) -> None:
    """The user says: this column of this release is `series` (None: a series of its own)."""
    if dataset.family_id != family.id:
        raise NotFound(f"The family {family.name!r} has no release {dataset.id!r}.")
    own = sheet_of_release(dataset, sheet)
    columns = next((s["columns"] for s in (dataset.meta or {}).get("sheets", [])
                    if s["name"] == own), None)
    if columns is None:
        raise NotFound(f"The release {dataset.release_label!r} has no sheet named {sheet!r}.")
    if column not in {c["name"] for c in columns}:
        raise BadInput(f"The sheet {sheet!r} of release {dataset.release_label!r} has no "
                       f"column named {column!r}.", code="unknown_column")
    row = db.session.scalar(select(SeriesCorrection).where(
        SeriesCorrection.dataset_id == dataset.id, SeriesCorrection.sheet == sheet,
        SeriesCorrection.column == column))
    if row is None:
        row = SeriesCorrection(family_id=family.id, dataset_id=dataset.id, sheet=sheet,
                               column=column)
        db.session.add(row)
    row.series = series.strip()[:300] if series and series.strip() else None
    db.session.commit()


def clean_label(label: str | None) -> str:
    text = " ".join((label or "").split())
    if not text:
        raise BadInput("A release label cannot be empty (e.g. 2020Q1).", code="bad_label")
    if len(text) > MAX_LABEL:
        raise BadInput(f"A release label has at most {MAX_LABEL} characters.", code="bad_label")
    return text


def clean_name(name: str | None) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise BadInput("A family needs a name.", code="bad_name")
    return text[:MAX_NAME]


# -- uploads ---------------------------------------------------------------------------------
def resolve_family(owner_id: int, choice: str | None, filenames: list[str]) -> Family | None:
    """The upload form's `family`: an id of yours, `new` (named after the files) or none."""
    if not choice:
        return None
    if choice == "new":
        return create_family(owner_id, new_family_name(filenames))
    return family_of_owner(owner_id, choice)


def new_family_name(filenames: list[str]) -> str:
    """A zip's name; else what the files' names share ("hpi_2020Q1", "hpi_2020Q2" → "hpi");
    else the date: names like "2020Q1.xlsx" say only which release they are."""
    import os
    from datetime import date

    stems = [display_name(f).rsplit(".", 1)[0] for f in filenames]
    if len(stems) == 1 and not filenames[0].lower().endswith(".zip"):
        shared = stems[0]
    else:
        shared = os.path.commonprefix(stems) if len(stems) > 1 else stems[0]
    shared = shared.strip(" _-.0123456789")
    if len(shared) >= 3:
        return shared
    return f"Releases uploaded {date.today().isoformat()}"


def ingest_release(files_dir: Path, owner: User, sha256: str, size: int, filename: str,
                   family: Family | None, label: str | None) -> tuple[Dataset, bool]:
    """Parse stored bytes and create the dataset as a release of `family` (if given).

    The label is checked before the dataset row exists: a clash is a Conflict that leaves
    nothing behind (the bytes are forgotten unless another dataset uses them).
    """
    store = FileStore(files_dir)
    existing = db.session.scalar(select(Dataset).where(Dataset.owner_id == owner.id,
                                                       Dataset.sha256 == sha256))
    meta = existing.meta if existing is not None else _parse(store, sha256, filename)
    last_period = last_period_of(meta)
    if family is not None:
        chosen = clean_label(label or release_label_from(display_name(filename), last_period))
        if existing is None or existing.family_id != family.id:
            try:
                check_label_free(family, chosen, existing)
            except Conflict:
                db.session.rollback()
                if existing is None:
                    forget_upload(files_dir, sha256)
                raise
    dataset, created = (existing, False) if existing is not None else ingest_stored(
        files_dir, owner, sha256, size, filename)
    dataset.last_period = dataset.last_period or last_period
    if family is not None and dataset.family_id != family.id:
        add_release(family, dataset, chosen)
    db.session.commit()
    return dataset, created


def _parse(store: FileStore, sha256: str, filename: str) -> dict:
    try:
        return parse_stored(store, sha256, display_name(filename), None)
    except BaseException:
        db.session.rollback()
        forget_upload(store.root, sha256)
        raise


def parse_in_parallel(files_dir: Path, members: list[dict], workers: int,
                      on_done: Callable[[int], None]) -> dict[str, Exception]:
    """Parse many stored uploads at once, `workers` at a time (the parser pool's size), so a
    zip of 36 releases takes about 36 / workers single parses. Returns the failures by sha256;
    the parses themselves are kept on disk for `ingest_release` to find."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from errors import QuartileError

    store = FileStore(files_dir)
    failures: dict[str, Exception] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    futures = {pool.submit(parse_stored, store, m["sha256"], display_name(m["filename"]),
                           None): m for m in members}
    try:
        for done, future in enumerate(as_completed(futures), 1):
            try:
                future.result()
            except QuartileError as exc:
                failures[futures[future]["sha256"]] = exc
            on_done(done)  # may raise (a cancelled job): the parses not started are dropped
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return failures


def propose_family(files_dir: Path, owner_id: int, dataset: Dataset) -> dict | None:
    """The owner's family this upload most looks like a new release of (score ≥ 0.6), or None.

    Compares the dataset's indexed sheets with each family's newest release
    (`release_similarity`: sheet names, frequency, overlapping columns and values)."""
    if dataset.family_id is not None:
        return None
    if not any(s.get("index") for s in (dataset.meta or {}).get("sheets", [])):
        return None  # no sheet a release could match
    latest_releases = [(family, releases[-1]) for family in families_of(owner_id)
                       if (releases := ordered_releases(family))]
    if not latest_releases:
        return None  # decided without reading a sheet: most uploads have no family to join
    candidate = _indexed_frames(files_dir, dataset)
    best = None
    for family, latest_release in latest_releases:
        latest = _indexed_frames(files_dir, latest_release)
        similarity = compute.release_similarity(_csv_as(candidate, dataset, latest), latest)
        if similarity.score >= PROPOSE_AT and (best is None or similarity.score > best[1].score):
            best = (family, similarity)
    if best is None:
        return None
    family, similarity = best
    return {"id": family.id, "name": family.name,
            "label": release_label_from(dataset.name, dataset.last_period
                                        or last_period_of(dataset.meta)),
            "similarity": similarity.to_dict()}


def _csv_as(candidate: dict, dataset: Dataset, latest: dict) -> dict:
    """A CSV's one sheet is named after its file: compare it as the family's one sheet."""
    if dataset.format == "csv" and len(candidate) == 1 and len(latest) == 1:
        return {next(iter(latest)): next(iter(candidate.values()))}
    return candidate


def _indexed_frames(files_dir: Path, dataset: Dataset) -> dict:
    return {s["name"]: load_sheet(files_dir, dataset, s["name"])
            for s in (dataset.meta or {}).get("sheets", []) if s.get("index")}


def require_releases(family: Family) -> list[Dataset]:
    releases = ordered_releases(family)
    if not releases:
        raise Unprocessable(f"The family {family.name!r} has no releases yet; upload one.",
                            code="no_releases")
    return releases

