"""Dataset pages: upload, library, a dataset's sheets, preview, log, sharing and deletion."""

from __future__ import annotations

import math
import numbers
import re
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup

from errors import BadInput, QuartileError
from store.db import db
from store.models import Dataset
from upload import families
from upload.bundle import is_zip_bundle
from upload.by_period import STATS, PeriodRule, add_period_sheet
from upload.clean import TYPES
from upload.dates import MONTH_CODES
from upload.preview import page_of_rows
from upload.resources import dataset_dict, default_sheet
from upload.service import ingest_upload, load_sheet, read_ahead, reparse, sheet_key
from web.access import dataset_for_read, dataset_for_write, readable_datasets_query
from web.datasets_api import ingest_bundle, ingest_in_background, set_public, share_with, unshare
from web.first_look import sheet_first_look
from web.lru_cache import LruCache
from web.trash import move_to_trash

bp = Blueprint("datasets", __name__)
PREVIEW_ROWS = 50
# Buttons other features add to a dataset page, shown once their blueprint is registered.
DATASET_ACTIONS = [
    ("analysis.page", "Analyse"),
    ("charts.builder", "Build a chart"),
    ("fit.page", "Fit a curve"),
    ("reports.library", "Make a report"),
    ("live.page", "Live chart"),
]


# The column-type choices of the parse settings form: (value, label).
TYPE_CHOICES = [
    ("number", "number"), ("text", "text"), ("category", "category"),
    ("date", "date (any written form)"), ("date_iso", "date, ISO (2016-12-03)"),
    ("date_dayfirst", "date, day first (3/12/2016 = 3 Dec)"),
    ("date_monthfirst", "date, month first (3/12/2016 = 12 Mar)"),
    ("date_month", "month (2016-12, Dec-16)"), ("date_quarter", "quarter (2016Q4)"),
    *((f"date_fy_{m}", f"financial year ending {m.title()} (2001-02)") for m in MONTH_CODES),
]


class CsrfForm(FlaskForm):
    """A form with no fields but the CSRF token; CSRFProtect checks every POST."""


def files_dir() -> Path:
    return Path(current_app.config["FILES_DIR"])


@bp.get("/upload")
def upload_page():
    """Drag-and-drop or pick files; each travels with a progress bar, then opens."""
    return render_template(
        "datasets/upload.html",
        limit_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        background_bytes=current_app.config["BACKGROUND_UPLOAD_BYTES"],
        families=[families.family_dict(f) for f in families.families_of(current_user.id)],
    )


@bp.post("/upload")
def upload_form():
    """The same upload without JavaScript: one or more files in field `file`."""
    files = [f for f in request.files.getlist("file") if f and f.filename]
    if not files:
        raise BadInput("Choose at least one file to upload.", code="no_file")
    family = request.form.get("family", "").strip()
    if family or any(is_zip_bundle(f.filename) for f in files):
        job = ingest_bundle(files, family or None)
        return redirect(url_for("jobs.detail", job_id=job.id))
    datasets, queued, problems = [], [], []
    for upload_file in files:
        try:
            if stream_size(upload_file.stream) >= current_app.config["BACKGROUND_UPLOAD_BYTES"]:
                dataset, job = ingest_in_background(upload_file.stream, upload_file.filename)
                if job is not None:
                    queued.append(job)
                    continue
            else:
                dataset, _ = ingest_upload(
                    files_dir(), current_user, upload_file.stream, upload_file.filename
                )
                read_ahead(files_dir(), dataset)  # for the page and chart that follow
            datasets.append(dataset)
        except QuartileError as exc:
            if len(files) == 1:
                raise
            problems.append(f"{upload_file.filename}: {exc.message}")
    for problem in problems:
        flash(problem, "error")
    if len(queued) == 1 and not datasets and not problems:
        return redirect(url_for("jobs.detail", job_id=queued[0].id))
    if queued:
        flash(f"{len(queued)} big file(s) are being parsed in the background.", "info")
        return redirect(url_for("jobs.library"))
    if len(datasets) == 1 and not problems:
        return redirect(url_for("datasets.detail", dataset_id=datasets[0].id))
    return redirect(url_for("datasets.library"))


def stream_size(stream) -> int:
    """Bytes in an uploaded file's stream (Werkzeug spools big ones to disk: seekable)."""
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


@bp.get("/datasets")
def library():
    """Your datasets and those shared with you, newest first, searchable by name."""
    search = request.args.get("q", "").strip()[:200]
    query = readable_datasets_query().order_by(Dataset.created_at.desc())
    if search:
        query = query.where(Dataset.name.ilike(f"%{search}%"))
    datasets = [dataset_dict(d) for d in db.session.scalars(query.limit(500))]
    return render_template("datasets/library.html", datasets=datasets, search=search)


@bp.app_template_filter("column_kind")
def column_kind(dtype: str) -> str:
    """What a column holds in a word a reader knows ("integer", not "int64"); the chart
    builder's kindOf (static/js/charts.js) says the same, with "number" for both numbers."""
    dtype = str(dtype)
    if re.match(r"(u?int|Int|UInt)", dtype):
        return "integer"
    if re.match(r"(float|Float|decimal)", dtype):
        return "number"
    if re.match(r"(datetime|date)", dtype):
        return "date"
    if dtype.startswith("period"):
        return "period"
    return "yes/no" if dtype.startswith("bool") else "text"


def preview_cells(rows: list[list]) -> list[list[tuple[bool, str | None]]]:
    """Each preview cell as (numeric, text; None when missing), formatted here once rather than
    cell by cell in Jinja, which was most of the page's time: floats to 6 significant digits,
    whole numbers whole, midnight timestamps as their date. A column with a value of 10,000 or
    more groups the thousands of all its values (13,300,000 and 7,420, as the first look
    writes them); years and small counts stay ungrouped."""
    grouped = {j for row in rows for j, value in enumerate(row)
               if isinstance(value, int | float) and not isinstance(value, bool)
               and abs(value) >= 1e4}
    return [[_preview_cell(value, j in grouped) for j, value in enumerate(row)] for row in rows]


def _preview_cell(value, grouped: bool = False) -> tuple[bool, str | None]:
    if value is None:
        return False, None
    if isinstance(value, float):
        if grouped and math.isfinite(value) and abs(value) < 1e15:
            whole = value.is_integer() or abs(value) >= 1e6  # never 1.33e+07 in a price column
            return True, f"{value:,.0f}" if whole else f"{value:,.6g}"
        return True, f"{value:.6g}"
    if isinstance(value, str):
        return False, value[:10] if value.endswith("T00:00:00") else value
    if grouped and isinstance(value, int) and not isinstance(value, bool):
        return True, f"{value:,}"
    return isinstance(value, numbers.Number), str(value)


_PREVIEW_PAGES = LruCache(max_entries=256)


def preview_page(dataset: Dataset, sheet: dict, offset: int) -> dict:
    """{"table": the preview table's HTML, "shown": rows on the page, "total": rows}. Rendered
    once per page of a stored sheet and kept: the stored Parquet file never changes, and the
    table's 650-odd cells were most of the page's time."""
    def render() -> dict:
        page = page_of_rows(load_sheet(files_dir(), dataset, sheet["name"]), offset,
                            PREVIEW_ROWS)
        cells = preview_cells(page["rows"])
        page.update(cells=cells, shown=len(cells),
                    numeric=[any(row[j][0] for row in cells)  # headers to the right
                             for j in range(len(page["columns"]))])
        table = Markup(render_template("datasets/_preview_table.html", preview=page,
                                       sheet=sheet, offset=offset))
        return {"table": table, "shown": page["shown"], "total": page["total"]}

    key = (sheet_key(files_dir(), dataset, sheet["name"]), offset)
    return _PREVIEW_PAGES.get_or_compute(key, render)


@bp.get("/datasets/<dataset_id>")
def detail(dataset_id):
    """Sheet tabs, the sheet's first look (alerts), a paged preview, column types, the
    cleaning log and downloads."""
    dataset = dataset_for_read(dataset_id)
    data = dataset_dict(dataset)
    sheets = data["sheets"]
    sheet = request.args.get("sheet") or default_sheet(sheets)
    offset = max(0, request.args.get("offset", 0, type=int))
    preview, current, look = None, None, None
    if sheet is not None:
        current = next((s for s in sheets if s["name"] == sheet), None)
        if current is None:
            raise BadInput(
                f"This dataset has no sheet named {sheet!r}.", code="unknown_sheet", status=404
            )
        preview = preview_page(dataset, current, offset)
        look = sheet_first_look(dataset, sheet)
    views = current_app.view_functions
    suggestions = []
    if "charts.builder" in views and sheet is not None:
        from web.charts import default_chart_specs

        suggestions = default_chart_specs(dataset)[:4]
    return render_template(
        "datasets/detail.html",
        dataset=data,
        sheet=current,
        preview=preview,
        offset=offset,
        page_size=PREVIEW_ROWS,
        is_owner=dataset.owner_id == current_user.id,
        shares=[s.user.username for s in dataset.shares],
        actions=[(e, label) for e, label in DATASET_ACTIONS if e in views],
        form=CsrfForm(),
        suggestions=suggestions,
        first_look=look,
        type_choices=TYPE_CHOICES,
        period_columns=_period_columns(current),
        proposed=families.propose_family(files_dir(), current_user.id, dataset)
        if dataset.owner_id == current_user.id else None,
    )


def _period_columns(sheet: dict | None) -> dict | None:
    """The by-period form's choices on this sheet, or None when it has no dates or numbers."""
    if not sheet:
        return None
    columns = sheet["columns"]
    dates = [c["name"] for c in columns if c["dtype"].startswith(("datetime64", "period"))]
    index = sheet.get("index") or {}
    if index.get("kind") == "datetime":
        dates.insert(0, index["name"])
    numbers = [c["name"] for c in columns if c["dtype"].startswith(("int", "float"))]
    groups = [c["name"] for c in columns if c["dtype"] in ("str", "string", "category", "object")]
    if not dates or not numbers:
        return None
    return {"dates": dates, "numbers": numbers, "groups": groups}


@bp.get("/datasets/<dataset_id>/delete")
def confirm_delete(dataset_id):
    """Ask before deleting."""
    dataset = dataset_for_write(dataset_id)
    return render_template("datasets/delete.html", dataset=dataset_dict(dataset), form=CsrfForm())


@bp.post("/datasets/<dataset_id>/delete")
def delete(dataset_id):
    """Move to the trash after confirmation."""
    dataset = dataset_for_write(dataset_id)
    move_to_trash(dataset, "dataset")
    flash(f"Moved {dataset.name} to the trash: restore it from the Trash page within "
          f"{current_app.config['TRASH_DAYS']:g} days.", "info")
    return redirect(url_for("datasets.library"))


@bp.post("/datasets/<dataset_id>/sharing")
def sharing(dataset_id):
    """Make public or private, share with or stop sharing with a user."""
    dataset = dataset_for_write(dataset_id)
    action = request.form.get("action")
    if action == "public":
        set_public(dataset, request.form.get("public") == "1")
    elif action == "share":
        share_with(dataset, request.form.get("username", ""))
    elif action == "unshare":
        unshare(dataset, request.form.get("username", ""))
    else:
        raise BadInput("Unknown sharing action.", code="unknown_action")
    return redirect(url_for("datasets.detail", dataset_id=dataset.id) + "#sharing")


@bp.post("/datasets/<dataset_id>/reparse")
def reparse_form(dataset_id):
    """Override one sheet's header row and column types, then parse again."""
    dataset = dataset_for_write(dataset_id)
    sheet = request.form.get("sheet", "")
    override = {}
    header_row = request.form.get("header_row", "").strip()
    if header_row:
        if not header_row.isdigit() or not 1 <= int(header_row) <= 1000:
            raise BadInput("The header row is a row number from 1 to 1000.", code="bad_header_row")
        override["header_row"] = int(header_row)
    types = {
        key[len("type:") :]: value
        for key, value in request.form.items()
        if key.startswith("type:") and value in TYPES
    }
    if types:
        override["types"] = types
    options = {"sheets": {**(dataset.options or {}).get("sheets", {}), sheet: override}}
    reparse(files_dir(), dataset, options)
    flash("Parsed again with your settings.", "success")
    return redirect(url_for("datasets.detail", dataset_id=dataset.id))


@bp.post("/datasets/<dataset_id>/by-period")
def by_period_form(dataset_id):
    """Count, median and mean of a value by month, quarter or year: opens the new sheet."""
    dataset = dataset_for_write(dataset_id)
    sheet = request.form.get("sheet", "")
    stats = tuple(s for s in STATS if request.form.get(f"stat:{s}"))
    rule = PeriodRule(sheet, request.form.get("date", ""), request.form.get("value", ""),
                      request.form.get("freq", "M"), stats, request.form.get("group") or None)
    entry = add_period_sheet(files_dir(), dataset, rule, load_sheet(files_dir(), dataset, sheet))
    flash(f"Built {entry['name']}: {entry['derived_from']['detail']}", "success")
    return redirect(url_for("datasets.detail", dataset_id=dataset.id, sheet=entry["name"]))
