"""The job kinds Quartile ships. The book's Laspeyres task first; report builds and big ingests
join here (or in their own module listed in `jobs.celery_app.TASK_MODULES`)."""

from __future__ import annotations

from analysis.price_index import price_index
from errors import NotFound
from jobs.registry import TaskContext, task
from store.db import db
from store.models import Dataset
from upload.service import load_sheet


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
    from web.report_build import build_for_job

    report = build_for_job(params["report"], ctx.progress)
    return {"report": report.id, "title": report.title, "dataset": report.dataset_id}
