"""The job kinds Quartile ships: the book's Laspeyres task, big ingests and the exuberance tests'
critical values. More kinds go here, or in their own module listed in
`jobs.celery_app.TASK_MODULES`. The `report` kind lives with the report build
(web/report_build.py), which the app registers: jobs/ never imports web/."""

from __future__ import annotations

from pathlib import Path

from analysis.price_index import price_index
from errors import NotFound, QuartileError
from jobs.events import publish_change
from jobs.registry import Cancelled, TaskContext, task
from store.db import db
from store.models import Dataset
from upload.service import forget_upload, ingest_stored, load_sheet
from upload.store import FileStore


@task("price_index")
def price_index_task(ctx: TaskContext, params: dict) -> dict:
    """Laspeyres (and Paasche and Fisher when `q1` is given) over one sheet's columns.

    params: {"dataset", "sheet", "p0", "q0", "p1", "q1": str | None}, checked by the API before
    the job was queued; checked again here because the dataset may have gone meanwhile.
    """
    ctx.progress(5, "Loading the sheet")
    dataset = db.session.get(Dataset, params["dataset"])
    if dataset is None:
        raise NotFound("The dataset of this job has been deleted.")
    frame = load_sheet(ctx.files_dir, dataset, params["sheet"])
    db.session.commit()  # end the read: the computation may take a while
    ctx.progress(40, f"Computing the indices over {len(frame)} rows")
    result = price_index(frame, params["sheet"], params["p0"], params["q0"], params["p1"],
                         params.get("q1") or None)
    ctx.progress(90, "Saving the result")
    return {**result.to_dict(), "dataset": dataset.id, "dataset_name": dataset.name}


def forget_ingest_bytes(params: dict) -> None:
    """An ingest job that never finished (cancelled before it ran, its server or worker gone)
    leaves its stored upload to nobody: drop it, unless a dataset uses the same bytes."""
    from flask import current_app

    forget_upload(Path(current_app.config["FILES_DIR"]), params["sha256"])


@task("ingest", cleanup=forget_ingest_bytes)
def ingest_task(ctx: TaskContext, params: dict) -> dict:
    """Parse a big upload whose bytes the request stored; create its dataset.

    params: {"sha256", "size", "filename", "options"}. Parsing runs in the limited worker pool
    and cannot be interrupted; a cancel that lands meanwhile is honoured before the row exists.
    """
    if not FileStore(ctx.files_dir).has_blob(params["sha256"]):
        raise NotFound("The uploaded file is no longer stored; upload it again.")
    owner = ctx.owner()
    if owner is None:
        raise NotFound("The account that uploaded this file no longer exists.")
    ctx.progress(10, f"Parsing {params['filename']}")
    dataset, created = ingest_stored(
        ctx.files_dir, owner, params["sha256"], int(params["size"]), params["filename"],
        params.get("options") or None,
        before_saving=lambda: ctx.progress(90, "Saving the dataset"))
    publish_change(owner.id, "datasets", dataset.id)
    return {"dataset": dataset.id, "name": dataset.name, "created": created,
            "sheets": len((dataset.meta or {}).get("sheets", []))}


@task("exuberance_cv")
def exuberance_cv_task(ctx: TaskContext, params: dict) -> dict:
    """Simulate the critical values of the exuberance tests for one key and store them for all.

    params: {"t", "window", "lag", "reps", "seed"}, checked against the limits before queueing.
    A key stored meanwhile (another job, another node) is not simulated again.
    """
    from jobs.critical_values import run_simulation

    return run_simulation(params, ctx.progress)


def forget_batch_bytes(params: dict) -> None:
    """A bulk ingest that never ran: drop each stored member no dataset uses."""
    from flask import current_app

    for member in params.get("members", []):
        forget_upload(Path(current_app.config["FILES_DIR"]), member["sha256"])


@task("ingest_batch", cleanup=forget_batch_bytes)
def ingest_batch_task(ctx: TaskContext, params: dict) -> dict:
    """Ingest several stored uploads as releases of one family (issue 14's bulk upload).

    params: {"family": id, "members": [{"filename", "sha256", "size"}], "skipped": [{"name",
    "reason"}]} (members of a zip the request refused). Parses run in parallel, as many as the
    parser pool has workers; then each becomes a dataset in the family, in order. A member that
    fails (unreadable, or a release label the family has already) is reported by name in
    `problems` and leaves nothing behind; the others go on.
    """
    from upload.families import family_of_owner

    owner = ctx.owner()
    if owner is None:
        raise NotFound("The account that uploaded these files no longer exists.")
    family = family_of_owner(owner.id, params["family"])
    members = params["members"]
    total = len(members)
    db.session.commit()  # end the read: parsing takes a while
    try:
        ctx.progress(2, f"Parsing {total} files")
        return _ingest_members(ctx, owner, family, params)
    except Cancelled:  # what was saved stays; the bytes of the rest go
        db.session.rollback()
        for member in members:
            forget_upload(ctx.files_dir, member["sha256"])
        raise


def _ingest_members(ctx: TaskContext, owner, family, params: dict) -> dict:
    from upload.families import ingest_release, parse_in_parallel
    from upload.pipeline import POOL

    members = params["members"]
    total = len(members)
    failures = parse_in_parallel(ctx.files_dir, members, POOL.size, lambda done: ctx.progress(
        2 + 88 * done / total, f"Parsed {done} of {total} files"))
    problems = [dict(s) for s in params.get("skipped", [])]
    datasets = []
    for number, member in enumerate(members, 1):
        ctx.check_cancelled()
        failure = failures.get(member["sha256"])
        try:
            if failure is not None:
                raise failure
            dataset, created = ingest_release(ctx.files_dir, owner, member["sha256"],
                                              int(member["size"]), member["filename"],
                                              family, None)
        except QuartileError as exc:
            db.session.rollback()
            forget_upload(ctx.files_dir, member["sha256"])
            problems.append({"name": member["filename"], "reason": exc.message})
            continue
        datasets.append({"dataset": dataset.id, "name": dataset.name, "created": created,
                         "label": dataset.release_label})
        ctx.progress(90 + 9 * number / total, f"Saved {number} of {total}")
    publish_change(owner.id, "datasets", family.id)
    return {"family": family.id, "family_name": family.name, "datasets": datasets,
            "problems": problems}
