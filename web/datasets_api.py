"""`/api/v1/datasets`: upload, list, read rows, download, share, re-parse, delete."""

from __future__ import annotations

from pathlib import Path

from apiflask import APIBlueprint
from flask import current_app, jsonify, send_file
from flask_login import current_user
from sqlalchemy import func, select

import jobs
from errors import BadInput, NotFound, QuartileError, Unprocessable
from store.db import db
from store.models import Dataset, DatasetShare, Job, User
from upload import exports, families, schemas
from upload.bundle import is_zip_bundle, store_uploads
from upload.by_period import PeriodRule, add_period_sheet
from upload.preview import page_of_rows
from upload.resources import dataset_dict
from upload.service import (
    forget_upload,
    ingest_upload,
    load_sheet,
    owned_copy,
    read_ahead,
    reparse,
)
from upload.store import FileStore
from web.access import dataset_for_read, dataset_for_write, readable_datasets_query
from web.audit import audit
from web.first_look import sheet_first_look
from web.provenance import flat_provenance, provenance
from web.trash import move_to_trash

bp = APIBlueprint("datasets_api", __name__, url_prefix="/api/v1/datasets", tag="Datasets")
ERRORS = [400, 401, 404, 413, 415, 422]


def files_dir() -> Path:
    return Path(current_app.config["FILES_DIR"])


@bp.post("")
@bp.input(schemas.UploadQuery, location="query")
@bp.input(schemas.UploadIn, location="files")
@bp.output(schemas.DatasetOut, status_code=201, description="Stored and parsed")
@bp.doc(
    responses={
        200: "The same bytes were uploaded before: the existing dataset",
        202: schemas.QUEUED_UPLOAD,
        **{code: "Error" for code in ERRORS},
        503: "The job queue is down (background=true only)",
    }
)
def upload(query_data, files_data):
    """Upload a spreadsheet (multipart field `file`): it is stored once and parsed once.

    Several `file` fields, or one `.zip` of workbooks, are releases of one family, ingested in
    one background job (202 `{"job": id}`); `family` and `release` make a single upload a
    release of a family."""
    uploads = files_data["file"]
    family_choice = (files_data.get("family") or "").strip() or None
    release = (files_data.get("release") or "").strip() or None
    if len(uploads) > 1 or is_zip_bundle(uploads[0].filename or ""):
        if release:
            raise BadInput("`release` labels one file; several files take their labels from "
                           "their names or last periods (relabel them afterwards).",
                           code="release_for_one_file")
        return queued_response(ingest_bundle(uploads, family_choice))
    upload_file = uploads[0]
    name = upload_file.filename or "upload"
    if family_choice is not None or release is not None:
        dataset, created = ingest_as_release(upload_file.stream, name, family_choice, release)
        return dataset_dict(dataset), 201 if created else 200
    if query_data["background"]:
        dataset, job = ingest_in_background(upload_file.stream, name)
        if job is not None:  # a Response of its own: not the dataset schema's shape
            return queued_response(job)
        return dataset_dict(dataset), 200
    dataset, created = ingest_upload(files_dir(), current_user, upload_file.stream, name)
    read_ahead(files_dir(), dataset)  # the first chart asked for next finds its sheet read
    return {**dataset_dict(dataset), "proposed_family": proposed_family(dataset)}, \
        201 if created else 200


def queued_response(job: Job):
    response = jsonify({**jobs.job_dict(job), "job": job.id})
    response.status_code = 202
    return response


def proposed_family(dataset: Dataset) -> dict | None:
    """The family this upload looks like a new release of (none when it is one already)."""
    return families.propose_family(files_dir(), current_user.id, dataset)


def ingest_as_release(stream, filename: str, family_choice: str | None,
                      release: str | None) -> tuple[Dataset, bool]:
    """One file as a release of a family of yours (`new`: a new one), parsed now. A label
    that the family has already: 409, nothing stored."""
    if family_choice is None:
        raise BadInput("`release` needs `family` (an id of yours, or `new`).",
                       code="release_without_family")
    if release is not None:
        release = families.clean_label(release)
    family = families.resolve_family(current_user.id, family_choice, [filename])
    if release is not None:
        families.check_label_free(family, release)
    sha256, size = FileStore(files_dir()).put_stream(stream)
    return families.ingest_release(files_dir(), current_user, sha256, size, filename, family,
                                   release)


def ingest_in_background(stream, filename: str) -> tuple[Dataset | None, Job | None]:
    """Store the bytes now and parse them in an `ingest` job: (existing dataset, None) when
    the owner uploaded these bytes before, else (None, the queued job)."""
    jobs.engine().ensure_available()  # a 503 before the bytes are stored
    sha256, size = FileStore(files_dir()).put_stream(stream)
    existing = owned_copy(current_user.id, sha256)
    if existing is not None:
        return existing, None
    params = {"sha256": sha256, "size": size, "filename": filename, "options": None}
    try:
        return None, jobs.submit("ingest", params, current_user)
    except QuartileError:
        forget_upload(files_dir(), sha256)
        raise


def ingest_bundle(uploads, family_choice: str | None) -> Job:
    """Store several files (or a zip's workbooks) and queue one `ingest_batch` job that parses
    them in parallel and files them as releases of one family (a new one by default)."""
    jobs.engine().ensure_available()  # a 503 before the bytes are stored
    family = families.resolve_family(current_user.id, family_choice or "new",
                                     [u.filename or "upload" for u in uploads])
    bundle = store_uploads(FileStore(files_dir()),
                           [(u.filename or "upload", u.stream) for u in uploads],
                           current_app.config["MAX_CONTENT_LENGTH"])
    if not bundle.members:
        db.session.rollback()  # the new family too
        raise Unprocessable("No file of the upload could be read: " + "; ".join(
            f"{s.name}: {s.reason}" for s in bundle.skipped[:20]) + ".", code="nothing_to_ingest")
    db.session.commit()  # the family exists before the job looks for it
    params = {"family": family.id, **bundle.to_dict()}
    try:
        return jobs.submit("ingest_batch", params, current_user)
    except QuartileError:
        for member in bundle.members:
            forget_upload(files_dir(), member.sha256)
        raise


@bp.get("/<dataset_id>")
@bp.output(schemas.DatasetOut)
@bp.doc(responses=[401, 404])
def get_dataset(dataset_id):
    """A dataset: sheets, columns, period index and cleaning log."""
    return dataset_dict(dataset_for_read(dataset_id))


@bp.patch("/<dataset_id>")
@bp.input(schemas.DatasetPatch)
@bp.output(schemas.DatasetOut)
@bp.doc(responses=[401, 403, 404])
def patch_dataset(dataset_id, json_data):
    """Make a dataset public (read-only for everyone) or private again."""
    dataset = dataset_for_write(dataset_id)
    set_public(dataset, json_data["is_public"])
    return dataset_dict(dataset)


@bp.delete("/<dataset_id>")
@bp.output({}, status_code=204)
@bp.doc(responses=[401, 403, 404])
def remove_dataset(dataset_id):
    """Move a dataset to your trash, with its charts and reports (restore it from
    /api/v1/trash until QUARTILE_TRASH_DAYS have passed; then it is deleted for good)."""
    move_to_trash(dataset_for_write(dataset_id), "dataset")
    return ""


@bp.get("/<dataset_id>/sheets/<path:sheet>/rows")
@bp.input(schemas.RowsQuery, location="query")
@bp.output(schemas.RowsOut)
@bp.doc(responses=[401, 404])
def sheet_rows(dataset_id, sheet, query_data):
    """A page of a cleaned sheet's rows (`offset`, `limit` ≤ 5000)."""
    frame = load_sheet(files_dir(), dataset_for_read(dataset_id), sheet)
    return page_of_rows(frame, query_data["offset"], query_data["limit"])


@bp.get("/<dataset_id>/sheets/<path:sheet>/first-look")
@bp.output(schemas.FirstLookOut)
@bp.doc(responses=[401, 404])
def first_look(dataset_id, sheet):
    """A sheet's first look: alerts, each linking to the analysis that shows it.

    Missing values, constant or nearly constant columns, pairs with |r| ≥ 0.9, far-out
    outliers, and on period sheets the series that stop early, start late or have gaps."""
    return sheet_first_look(dataset_for_read(dataset_id), sheet)


@bp.get("/<dataset_id>/original")
@bp.doc(
    responses={
        200: {
            "description": "The uploaded file, as uploaded",
            "content": {"application/octet-stream": {}},
        },
        401: "",
        404: "",
    }
)
def download_original(dataset_id):
    """The original upload, byte for byte."""
    dataset = dataset_for_read(dataset_id)
    try:
        path = FileStore(files_dir()).blob_path(dataset.sha256)
    except FileNotFoundError:
        raise NotFound(f"The original file of {dataset.name!r} is no longer stored.") from None
    return send_file(
        path, as_attachment=True, download_name=dataset.name, mimetype="application/octet-stream"
    )


@bp.get("/<dataset_id>/sheets/<path:sheet>/export/<any(csv, xlsx, parquet):fmt>")
@bp.doc(
    responses={
        200: {
            "description": "The cleaned sheet",
            "content": {t: {} for t in exports.MIMETYPES.values()},
        },
        401: "",
        404: "",
    }
)
def export_sheet(dataset_id, sheet, fmt):
    """A cleaned sheet as CSV, XLSX or Parquet (formula-like cells neutralised in CSV/XLSX)."""
    dataset = dataset_for_read(dataset_id)
    frame = load_sheet(files_dir(), dataset, sheet)
    return exports.send_frame(frame, f"{Path(dataset.name).stem}-{sheet}", fmt,
                              flat_provenance(provenance(dataset, sheet)))


@bp.post("/<dataset_id>/reparse")
@bp.input(schemas.ReparseIn)
@bp.output(schemas.DatasetOut)
@bp.doc(responses=[401, 403, 404, 422])
def reparse_dataset(dataset_id, json_data):
    """Parse again with overrides: the header row (1-based) and column types per sheet."""
    dataset = dataset_for_write(dataset_id)
    return dataset_dict(reparse(files_dir(), dataset, {"sheets": json_data["sheets"]}))


@bp.post("/<dataset_id>/sheets/<path:sheet>/by-period")
@bp.input(schemas.ByPeriodIn)
@bp.output(schemas.DerivedSheetOut, status_code=201, description="The derived sheet, as listed")
@bp.doc(responses=[400, 401, 403, 404, 422])
def by_period(dataset_id, sheet, json_data):
    """Count, median and mean of a value column by month, quarter or year (per group): a new
    sheet over a period index that growth, charts and reports accept."""
    dataset = dataset_for_write(dataset_id)
    frame = load_sheet(files_dir(), dataset, sheet)
    rule = PeriodRule(sheet, json_data["date"], json_data["value"], json_data["freq"],
                      tuple(json_data["stats"]), json_data["group"])
    entry = add_period_sheet(files_dir(), dataset, rule, frame)
    return {key: value for key, value in entry.items() if key != "parquet"}


@bp.post("/<dataset_id>/shares")
@bp.input(schemas.ShareIn)
@bp.output(schemas.DatasetOut)
@bp.doc(responses=[400, 401, 403, 404])
def share_dataset(dataset_id, json_data):
    """Share a dataset read-only with a named user."""
    dataset = dataset_for_write(dataset_id)
    share_with(dataset, json_data["username"])
    return dataset_dict(dataset)


@bp.delete("/<dataset_id>/shares/<username>")
@bp.output({}, status_code=204)
@bp.doc(responses=[401, 403, 404])
def unshare_dataset(dataset_id, username):
    """Stop sharing a dataset with a user."""
    unshare(dataset_for_write(dataset_id), username)
    return ""


# Listed last: DatasetOut must be registered as a top-level schema before it is nested.
@bp.get("")
@bp.input(schemas.DatasetListQuery, location="query")
@bp.output(schemas.DatasetListOut)
@bp.doc(responses=[401])
def list_datasets(query_data):
    """Datasets you can read, newest first; `q` searches names."""
    query = readable_datasets_query()
    if query_data["q"]:
        query = query.where(Dataset.name.ilike(f"%{_like_escape(query_data['q'])}%", escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Dataset.created_at.desc(), Dataset.id)
        .offset(query_data["offset"])
        .limit(query_data["limit"])
    ).all()
    return {"datasets": [dataset_dict(d) for d in rows], "total": total}


def share_with(dataset: Dataset, username: str) -> None:
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise BadInput(f"There is no user named {username!r}.", code="unknown_user")
    if user.id == dataset.owner_id:
        raise BadInput("You own this dataset already.", code="own_dataset")
    if not any(s.user_id == user.id for s in dataset.shares):
        dataset.shares.append(DatasetShare(user_id=user.id))
        db.session.commit()
        audit("dataset_shared", detail=f"dataset {dataset.id} with {user.username!r}")


def unshare(dataset: Dataset, username: str) -> None:
    for share in list(dataset.shares):
        if share.user.username == username:
            db.session.delete(share)
            audit("dataset_unshared", detail=f"dataset {dataset.id} with {username!r}")
    db.session.commit()


def set_public(dataset: Dataset, public: bool) -> None:
    if dataset.is_public != public:
        audit("dataset_public" if public else "dataset_private", detail=f"dataset {dataset.id}")
    dataset.is_public = public
    db.session.commit()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
