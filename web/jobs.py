"""Jobs: `/api/v1/jobs` (list, start, read, cancel, follow over SSE), `/api/v1/events`, and pages.

Every job view builds `jobs.job_dict(job)`: the API returns it, the pages render it, and the SSE
stream sends it on each change. A job belongs to its owner alone: anyone else gets a 404.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

import jobs
from analysis.results import is_numeric, numeric_column
from errors import BadInput, QuartileError
from jobs import events, lifecycle
from jobs.settings import setting
from store.db import db
from store.models import Dataset, Job
from upload.resources import dataset_dict
from upload.service import load_sheet
from web.access import dataset_for_read, owned_or_404, readable_datasets_query

bp = Blueprint("jobs", __name__)
api = APIBlueprint("jobs_api", __name__, url_prefix="/api/v1", tag="Jobs")
POLL_SECONDS = 5.0  # an open job stream re-reads the row this often (missed events, lost workers)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
KIND_LABELS = {"price_index": "Price index", "report": "Report build", "ingest": "Big upload",
               "exuberance_cv": "Critical values (Monte Carlo)"}


# -- schemas ---------------------------------------------------------------------------------
class JobOut(Schema):
    id = String(required=True)
    kind = String(required=True)
    state = String(required=True, validate=OneOf(lifecycle.STATES))
    progress = Integer(required=True, validate=Range(min=0, max=100))
    message = String(required=True)
    result = Dict(required=True, allow_none=True, metadata={"description": "The task's result "
                  "once done: for price_index, laspeyres/paasche/fisher with formulas"})
    error = String(required=True, allow_none=True)
    params = Dict(required=True)
    created_at = String(required=True, allow_none=True)
    started_at = String(required=True, allow_none=True)
    finished_at = String(required=True, allow_none=True)


class JobInList(JobOut):
    """JobOut again: a class used both nested and at the top trips apispec's registry."""


class JobListOut(Schema):
    jobs = List(Nested(JobInList), required=True)
    total = Integer(required=True)


class JobListQuery(Schema):
    limit = Integer(load_default=50, validate=Range(min=1, max=200))
    offset = Integer(load_default=0, validate=Range(min=0, max=10**9))


class PriceIndexJobIn(Schema):
    kind = String(required=True, validate=OneOf(["price_index"]))
    dataset = String(required=True, validate=Length(min=1, max=64))
    sheet = String(required=True, validate=Length(min=1, max=255))
    p0 = String(required=True, validate=Length(min=1, max=255))
    q0 = String(required=True, validate=Length(min=1, max=255))
    p1 = String(required=True, validate=Length(min=1, max=255))
    q1 = String(load_default=None, allow_none=True, validate=Length(max=255),
                metadata={"description": "Current quantities: adds Paasche and Fisher"})


SSE_DOC = {"description": "Server-Sent Events", "content": {"text/event-stream": {
    "schema": {"type": "string"}}}}


@api.before_request
def queue_must_answer():
    """With Celery, every job endpoint needs Redis: answer 503 at once when it is down."""
    if request.endpoint != "jobs_api.user_events":
        jobs.engine().ensure_available()


# -- API -------------------------------------------------------------------------------------
@api.get("/jobs")
@api.input(JobListQuery, location="query")
@api.output(JobListOut)
@api.doc(responses=[401, 503])
def list_jobs(query_data):
    """Your jobs, newest first."""
    rows, total = own_jobs(query_data["limit"], query_data["offset"])
    return {"jobs": [lifecycle.job_dict(j) for j in rows], "total": total}


@api.post("/jobs")
@api.input(PriceIndexJobIn)
@api.output(JobOut, status_code=202, description="Queued; follow it at /api/v1/jobs/<id>/events")
@api.doc(responses=[400, 401, 404, 422, 503])
def create_job(json_data):
    """Start a job. Kinds: `price_index` (Laspeyres; Paasche and Fisher when `q1` is given)."""
    params = price_index_params(json_data)
    return lifecycle.job_dict(jobs.submit("price_index", params, current_user)), 202


@api.get("/jobs/<job_id>")
@api.output(JobOut)
@api.doc(responses=[401, 404, 503])
def get_job(job_id):
    """A job: state, progress 0–100 with a message, and its result or error."""
    return lifecycle.job_dict(own_job(job_id))


@api.delete("/jobs/<job_id>")
@api.output(JobOut)
@api.doc(responses=[401, 404, 409, 503])
def cancel_job(job_id):
    """Cancel a queued or running job (409 when it has already finished)."""
    own_job(job_id)
    return lifecycle.job_dict(jobs.cancel(job_id))


@api.get("/jobs/<job_id>/events")
@api.doc(responses={200: SSE_DOC, 401: "Not logged in", 404: "No such job of yours",
                    503: "The job queue or the event stream is down"})
def job_events(job_id):
    """Follow a job: a `job` event (the job's JSON) on each change, ending after the final
    state; a comment line every ~15 s while nothing happens."""
    own_job(job_id)
    subscription = events.subscribe([events.job_topic(job_id)])
    return event_stream(job_stream(job_id, subscription, heartbeat_seconds()),
                        subscription.close)


@api.get("/events")
@api.doc(hide=True)  # endless by design, which a fuzzer would wait on: documented in the README
def user_events():
    """Your changes as they happen: a `change` event {"what", "id"} when one of your datasets,
    jobs or reports changes. Open it with EventSource; it never ends on its own."""
    subscription = events.subscribe([events.user_topic(current_user.id)],
                                    timeout=heartbeat_seconds())
    return event_stream(change_stream(subscription), subscription.close)


# -- streams ---------------------------------------------------------------------------------
def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def event_stream(chunks: Iterator[str], cleanup: Callable[[], None]) -> Response:
    """An SSE response. `cleanup` runs when the response is closed, also when the generator
    never started (a HEAD request, a client gone before the first byte)."""
    response = Response(stream_with_context(chunks), mimetype="text/event-stream",
                        headers=SSE_HEADERS)
    response.call_on_close(cleanup)
    return response


def heartbeat_seconds() -> float:
    return float(setting(current_app.config, "SSE_HEARTBEAT_SECONDS"))


def job_stream(job_id: str, subscription: events.Subscription,
               heartbeat: float) -> Iterator[str]:
    """The job now, then each change, until a final state. Events carry the job's dict; the row
    is re-read when none arrives for a while, so a missed event or a lost worker still ends the
    stream."""
    wait = min(heartbeat, POLL_SECONDS)
    try:
        yield "retry: 2000\n\n"
        data, sent, written = fresh_job(job_id), None, time.monotonic()
        while data is not None:
            if data != sent:
                yield sse("job", data)
                sent, written = data, time.monotonic()
                if data["state"] in lifecycle.FINAL:
                    return
            event = subscription.get(wait)
            if event is not None:
                data = event.data
            else:
                data = fresh_job(job_id)
                if time.monotonic() - written >= heartbeat:
                    yield ": keep-alive\n\n"
                    written = time.monotonic()
    except QuartileError as exc:  # Redis went away mid-stream
        yield sse("unavailable", exc.to_dict())
    finally:
        subscription.close()


def change_stream(subscription: events.Subscription) -> Iterator[str]:
    try:
        yield "retry: 3000\n\n: connected\n\n"
        for event in subscription:
            yield ": keep-alive\n\n" if event is None else sse("change", event.data)
    except QuartileError as exc:
        yield sse("unavailable", exc.to_dict())
    finally:
        subscription.close()


def fresh_job(job_id: str) -> dict | None:
    """The job's JSON read anew (streams are long: no read is held open); None once gone."""
    return jobs.reread(job_id, lifecycle.job_dict)


# -- shared by the API and the pages ---------------------------------------------------------
def own_job(job_id: str) -> Job:
    jobs.engine().ensure_available()  # pages too: a 503 that names Redis, not a half page
    job = owned_or_404(Job, job_id)
    jobs.watch([job])
    return job


def own_jobs(limit: int, offset: int) -> tuple[list[Job], int]:
    jobs.engine().ensure_available()
    mine = select(Job).where(Job.owner_id == current_user.id)
    total = db.session.scalar(select(func.count()).select_from(mine.subquery()))
    rows = db.session.scalars(
        mine.order_by(Job.created_at.desc(), Job.id).offset(offset).limit(limit)
    ).all()
    return jobs.watch(list(rows)), total


def price_index_params(data: dict) -> dict:
    """Check the dataset, sheet and columns before queueing: 404/400 naming what is wrong."""
    dataset = dataset_for_read(data["dataset"])
    frame = load_sheet(Path(current_app.config["FILES_DIR"]), dataset, data["sheet"])
    q1 = data.get("q1") or None
    for name in (data["p0"], data["q0"], data["p1"]) + ((q1,) if q1 else ()):
        numeric_column(frame, data["sheet"], name)
    return {"dataset": dataset.id, "sheet": data["sheet"], "p0": data["p0"], "q0": data["q0"],
            "p1": data["p1"], "q1": q1}


# -- pages -----------------------------------------------------------------------------------
@bp.get("/jobs")
def library():
    """Your jobs with live progress bars."""
    rows, total = own_jobs(100, 0)
    return render_template("jobs/library.html", jobs=[lifecycle.job_dict(j) for j in rows],
                           total=total, labels=KIND_LABELS)


@bp.get("/jobs/<job_id>")
def detail(job_id):
    """One job: its progress bar follows the SSE stream; the result appears when done."""
    job = lifecycle.job_dict(own_job(job_id))
    return render_template("jobs/detail.html", job=job, labels=KIND_LABELS)


@bp.get("/jobs/<job_id>/progress")
def progress_fragment(job_id):
    """The progress block alone, for a page that has just started the job."""
    return render_template("jobs/_progress_block.html", job=lifecycle.job_dict(own_job(job_id)),
                           labels=KIND_LABELS)


@bp.get("/jobs/<job_id>/result")
def result_fragment(job_id):
    """The result block alone, for a page that watched the job finish."""
    return render_template("jobs/_result.html", job=lifecycle.job_dict(own_job(job_id)))


@bp.post("/jobs/<job_id>/cancel")
def cancel_form(job_id):
    """Cancel without JavaScript."""
    own_job(job_id)
    jobs.cancel(job_id)
    return redirect(url_for("jobs.detail", job_id=job_id))


@bp.route("/jobs/price-index", methods=["GET", "POST"])
def price_index_page():
    """Pick a dataset, a sheet and its price/quantity columns; start a price-index job."""
    jobs.engine().ensure_available()
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in ("dataset", "sheet", "p0", "q0",
                                                             "p1", "q1")}
        if not all(form[k] for k in ("dataset", "sheet", "p0", "q0", "p1")):
            raise BadInput("Choose a dataset, a sheet and the p0, q0 and p1 columns.")
        job = jobs.submit("price_index", price_index_params(form), current_user)
        return redirect(url_for("jobs.detail", job_id=job.id))
    return render_template("jobs/price_index.html", **price_index_choices(
        request.args.get("dataset") or None, request.args.get("sheet") or None))


def price_index_choices(dataset_id: str | None, sheet: str | None) -> dict:
    """The datasets, the chosen one's sheets, and the chosen sheet's numeric columns, with
    columns named like p0/q0/p1/q1 preselected."""
    datasets = db.session.scalars(
        readable_datasets_query().order_by(Dataset.created_at.desc()).limit(500)
    ).all()
    if dataset_id is None and datasets:
        dataset_id = datasets[0].id
    chosen = dataset_for_read(dataset_id) if dataset_id else None
    sheets = dataset_dict(chosen)["sheets"] if chosen else []
    names = [s["name"] for s in sheets]
    if sheet is not None and sheet not in names:
        raise BadInput(f"This dataset has no sheet named {sheet!r}.", code="unknown_sheet",
                       status=404)
    sheet = sheet or first_sheet_with_numbers(chosen, names, minimum=3)
    columns = numeric_columns(chosen, sheet) if sheet else []
    return {"datasets": [{"id": d.id, "name": d.name} for d in datasets],
            "dataset": chosen.id if chosen else None, "sheets": names, "sheet": sheet,
            "columns": columns, "guess": guess_roles(columns)}


def numeric_columns(dataset: Dataset, sheet: str) -> list[str]:
    """The columns of a sheet that hold numbers: what the forms offer (names, never typed)."""
    frame = load_sheet(Path(current_app.config["FILES_DIR"]), dataset, sheet)
    return [str(c) for c in frame.columns if is_numeric(frame[c])]


def first_sheet_with_numbers(dataset: Dataset | None, names: list[str],
                             minimum: int = 1) -> str | None:
    """The first sheet with at least `minimum` numeric columns (else the first sheet)."""
    for name in names:
        if len(numeric_columns(dataset, name)) >= minimum:
            return name
    return names[0] if names else None


def guess_roles(columns: list[str]) -> dict:
    lowered = {c.lower().replace("_", "").replace(" ", ""): c for c in columns}
    guess = {role: lowered.get(role) for role in ("p0", "q0", "p1", "q1")}
    fallback = iter(c for c in columns if c not in guess.values())
    for role in ("p0", "q0", "p1"):
        guess[role] = guess[role] or next(fallback, None)
    return guess
