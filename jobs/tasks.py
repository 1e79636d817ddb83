"""The job kinds Quartile ships: the book's Laspeyres task, report builds, big ingests and the
exuberance tests' critical values. More kinds go here, or in their own module listed in
`jobs.celery_app.TASK_MODULES`."""

from __future__ import annotations

from pathlib import Path

from analysis.price_index import price_index
from errors import NotFound
from jobs.events import publish_change
from jobs.registry import TaskContext, task
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


@task("report")
def report_task(ctx: TaskContext, params: dict) -> dict:
    """Build a PDF report whose row the request created (params: {"report": id})."""
    from web.report_build import build_for_job  # the web layer loads only when a report runs

    report = build_for_job(params["report"], ctx.progress)
    return {"report": report.id, "title": report.title, "dataset": report.dataset_id}


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
    if not FileStore(ctx.files_dir).blob_path(params["sha256"]).exists():
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
