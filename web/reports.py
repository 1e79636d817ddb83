"""PDF reports: a builder page, `/api/v1/reports`, and the `quartile report` command.

A report is described by its sections; its inputs (dataset bytes and parse, sections, Quartile
version) hash to a key, so an unchanged report is served from `files/reports/` instead of being
typeset again. Statistics come from the same `run_analysis` as the Analyse page and the API.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, List, String
from apiflask.validators import Length
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

import jobs
from analysis.covariance import COV_TYPES
from errors import Conflict, NotFound, QuartileError
from rendition.charts import ChartSpec
from store.db import db
from store.models import Chart, Dataset, Job, Report
from store.recipes import recipe_for, record_recipe
from upload import report_life
from upload.resources import default_sheet
from web import report_build, report_form
from web.access import (
    dataset_for_read,
    owned_or_404,
    owned_reports_query,
    readable_datasets_query,
)
from web.charts import chart_title
from web.http import preferred_wait
from web.report_build import files_dir
from web.trash import move_to_trash
from web.version import VERSION

bp = Blueprint("reports", __name__)
api = APIBlueprint("reports_api", __name__, url_prefix="/api/v1/reports", tag="Reports")
MAX_WAIT_SECONDS = 60.0  # `Prefer: wait` holds a server thread: no longer than this


# -- starting a build --------------------------------------------------------------------------
def create_report(dataset: Dataset, title: str, author: str, sections: list, *,
                  inline: bool = False) -> tuple[Report, int]:
    """(report, status): 200 for the unchanged report (or the same one being built), 202 for a
    new build queued as a job, 201 for one built inline (`inline=True`, the CLI)."""
    sections = report_build.validate_sections(sections)
    title = (title or default_title(dataset)).strip()[:300]
    author = (author or "").strip()[:200]
    key = report_build.inputs_hash(dataset, title, author, sections)
    existing = db.session.scalar(select(Report).where(
        Report.owner_id == current_user.id, Report.inputs_hash == key, Report.status == "done",
        Report.deleted_at.is_(None)))
    if existing is not None and report_life.has_pdf(files_dir(), existing):
        return existing, 200
    building = report_life.in_flight(current_user.id, key)
    if building is not None and report_life.follow_job(building).status != "failed":
        return building, 200
    # Numbers first: a wrong sheet, column or chart is the request's 4xx, before any row.
    report_build.check_sections(dataset, current_user.id, sections)
    if not inline:
        jobs.engine().ensure_available()  # a 503 now, not a report stuck in "queued"
    report = Report(owner_id=current_user.id, dataset_id=dataset.id, title=title,
                    spec={"author": author, "sections": sections}, inputs_hash=key,
                    status="queued")
    db.session.add(report)
    db.session.flush()
    record_recipe(current_user.id, "report", dataset, None,
                  {"title": title, "author": author, "sections": sections}, VERSION,
                  title=title, report_id=report.id)
    db.session.commit()
    if inline:
        report_build.build_inline(report, dataset)
        return report, 201
    try:
        job = jobs.submit("report", {"report": report.id}, current_user)
    except QuartileError as exc:
        report_life.mark_failed(report, exc.message)
        raise
    report.job_id = job.id
    db.session.commit()
    jobs.publish_change(current_user.id, "reports", report.id)
    return report, 202


def rebuild_report(recipe, target: Dataset, translation) -> dict:
    """A report's recipe on another release: its columns and charts follow the series mapping
    (a chart is re-made from its own recipe), and a "What changed" section lists the revisions
    of the series its numbers use, between the report's release and this one."""
    from web.recipes import run_recipe, translation_for

    family = target.family
    sections, used, sheets = [], [], []
    for section in recipe.params.get("sections", []):
        section = dict(section)
        if section.get("type") == "changes":
            continue  # made afresh below
        if section.get("sheet"):
            sheet_translation = translation_for(recipe, family, target, section["sheet"])
            section["sheet"] = sheet_translation.sheet
            sheets.append(section["sheet"])
            if isinstance(section.get("columns"), list):
                section["columns"] = sheet_translation.columns(section["columns"])
                sheet_translation.check(target, section["sheet"])
                used.extend(section["columns"])
                translation.renamed.update(sheet_translation.renamed)
        if section.get("type") == "chart":
            chart_recipe = recipe_for(recipe.owner_id, chart_id=str(section["chart"]))
            if chart_recipe is None:
                raise NotFound(f"The chart {section['chart']!r} of this report is gone.")
            chart = run_recipe(chart_recipe, target.id)
            section["chart"] = chart["id"]
            used.extend(chart["spec"]["y"])
            sheets.append(chart["spec"]["sheet"])
            translation.renamed.update(chart["translation"]["renamed"])
        sections.append(section)
    source = db.session.get(Dataset, recipe.dataset_id) if recipe.dataset_id else None
    if family is not None and source is not None and source.family_id == family.id \
            and source.id != target.id:
        sections.append({"type": "changes", "family": family.id,
                         "previous": source.release_label, "latest": target.release_label,
                         "sheet": sheets[0] if sheets else None, "series": sorted(set(used))})
    spec = recipe.params
    title = spec.get("title") or recipe.title
    if target.release_label:
        title = f"{title} ({target.release_label})"
    report, _ = create_report(target, title, spec.get("author", ""), sections)
    return report_dict(report)


def default_title(dataset: Dataset) -> str:
    """"Report on 2020Q1" for 2020Q1.xlsx: the file's name without its extension."""
    name = PurePath(dataset.name)
    return f"Report on {name.stem if name.suffix.lower() in _EXTENSIONS else dataset.name}"


_EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv", ".txt", ".json", ".parquet"}


def report_dict(report: Report) -> dict:
    """The report as the API returns it and its page renders it."""
    report_life.follow_job(report)
    return {
        "id": report.id,
        "status": report.status,
        "error": report.error,
        "title": report.title,
        "dataset": report.dataset_id,
        "created": report.created_at.isoformat(),
        "pdf": url_for("reports_api.report_pdf", report_id=report.id)
        if report.status == "done" else None,
        "job": report.job_id,
    }


# -- API --------------------------------------------------------------------------------------
class ReportIn(Schema):
    dataset = String(required=True, validate=Length(min=1, max=32))
    title = String(load_default="", validate=Length(max=300))
    author = String(load_default="", validate=Length(max=200))
    sections = List(Dict(), required=True, metadata={"description": (
        'Each one of {"type": "summary"}, {"type": "cleaning_log"}, {"type": "describe", '
        '"sheets": [str]}, {"type": "chart", "chart": id}, {"type": "ols", "sheet", "formula", '
        'optional "cov_type", "hac_lags", "cluster"}, '
        '{"type": "growth", "sheet", "columns": [str], "periods": int}, or a test '
        '{"type": "ttest"|"anova"|"chi2", ...its parameters}, or a time-series analysis with its '
        'chart {"type": "adf"|"kpss"|"acf"|"hp_filter"|"stl"|"rolling_stats"|"exuberance", '
        '"sheet", ...its parameters, "series": the exuberance series to draw}, or any other '
        'analysis with its tables and chart {"type": "analysis", "kind", "params": {...}}')})


class ReportOut(Schema):
    id = String(required=True)
    status = String(required=True, metadata={"description": (
        "queued|running|done|failed, or draft (made by Add to report on the Analyse page, "
        "built from its page)")})
    error = String(allow_none=True, required=True)
    title = String()
    dataset = String()
    created = String()
    pdf = String(allow_none=True)
    job = String(allow_none=True, metadata={"description": "The job building it: follow "
                                            "/api/v1/jobs/<job>/events for progress"})


class ReportList(Schema):
    reports = List(Dict(), required=True)


@api.post("")
@api.input(ReportIn)
@api.output(ReportOut, status_code=202, description="Queued: follow `status` (or the job "
            "`job` at /api/v1/jobs/<job>/events) until done, then fetch the PDF")
@api.doc(responses={200: "The same report was built before, or is being built: it is returned "
                         "as it is", 201: "Built (or failed) within the wait asked for with "
                         "`Prefer: wait=<seconds>`", 400: "Bad sections", 401: "",
                    404: "No such dataset", 422: "Bad data", 503: "The job queue is down"})
def create(json_data):
    """Build a PDF report from sections; an unchanged report is returned without rebuilding.
    With `Prefer: wait=<seconds>` (up to 60) the answer waits that long for the build: 201
    with the finished report (status done or failed), or 202 while it is still building."""
    dataset = dataset_for_read(json_data["dataset"])
    report, status = create_report(dataset, json_data["title"], json_data["author"],
                                   json_data["sections"])
    seconds = preferred_wait(MAX_WAIT_SECONDS)
    if status == 202 and seconds > 0 and report.job_id:
        jobs.wait(report.job_id, seconds)
        report = owned_or_404(Report, report.id)
        status = 201 if report.status in ("done", "failed") else 202
    return report_dict(report), status


@api.get("")
@api.output(ReportList)
def list_reports():
    """Your reports, newest first."""
    rows = db.session.scalars(owned_reports_query()
                              .order_by(Report.created_at.desc()).limit(200))
    return {"reports": [report_dict(r) for r in rows]}


@api.get("/<report_id>")
@api.output(ReportOut)
@api.doc(responses=[401, 404])
def get_report(report_id):
    """A report's status (and its error, when it failed)."""
    return report_dict(owned_or_404(Report, report_id))


@api.delete("/<report_id>")
@api.output({}, status_code=204)
@api.doc(responses=[401, 404])
def delete(report_id):
    """Move a report to your trash (a build in progress is cancelled; the PDF is kept until
    the trash is purged)."""
    move_to_trash(owned_or_404(Report, report_id), "report")
    return ""


@api.get("/<report_id>.pdf")
@api.doc(responses={200: {"description": "The PDF", "content": {"application/pdf": {}}},
                    401: "", 404: "", 409: "Not built yet, or failed"})
def report_pdf(report_id):
    """The PDF once it is built (409 before that); `?view=1` opens it in the browser."""
    report = owned_or_404(Report, report_id)
    try:
        if report.status != "done":
            raise FileNotFoundError(report.id)
        path = report_life.pdf_file(files_dir(), report)
    except FileNotFoundError:
        raise Conflict(f"The report is {report.status}; the PDF is not ready"
                       + (f": {report.error}" if report.error else "."),
                       code="not_ready") from None
    return send_file(path, mimetype="application/pdf",
                     as_attachment=not request.args.get("view"),
                     download_name=f"{_safe_stem(report.title)}.pdf")


def _safe_stem(text: str) -> str:
    from upload.exports import download_stem

    return download_stem(text)


# -- pages ------------------------------------------------------------------------------------
@bp.route("/reports", methods=["GET", "POST"])
def library():
    """Your reports, and the builder: pick a dataset and sections."""
    datasets = db.session.scalars(readable_datasets_query().order_by(
        Dataset.created_at.desc()).limit(200)).all()
    dataset_id = request.values.get("dataset") or (datasets[0].id if datasets else None)
    dataset = dataset_for_read(dataset_id) if dataset_id else None
    error, status = None, 200
    if request.method == "POST" and dataset is not None:
        try:
            report, _ = create_report(dataset, request.form.get("title", ""),
                                      request.form.get("author", ""),
                                      report_form.sections_from_form(request.form))
            return redirect(url_for("reports.detail", report_id=report.id))
        except QuartileError as exc:
            error, status = exc.message, exc.status
    reports = [report_life.follow_job(r) for r in db.session.scalars(
        owned_reports_query().order_by(Report.created_at.desc()).limit(100))]
    charts = [] if dataset is None else [
        {"id": c.id, "title": chart_title(ChartSpec.from_dict(c.spec)), "kind": c.spec["kind"]}
        for c in db.session.scalars(select(Chart).where(
            Chart.owner_id == current_user.id, Chart.dataset_id == dataset.id,
            Chart.deleted_at.is_(None)).order_by(Chart.created_at))]
    sheets = (dataset.meta or {}).get("sheets", []) if dataset else []
    data_sheet = default_sheet(sheets)
    indexed = [s["name"] for s in sheets if s.get("index")]
    return render_template("reports/library.html", datasets=datasets, dataset=dataset,
                           sheets=sheets, charts=charts, reports=reports, error=error,
                           form=request.form, data_sheet=data_sheet,
                           default_title=default_title(dataset) if dataset else "",
                           formula_hints={s["name"]: formula_hint(s) for s in sheets},
                           describe_options=[(s["name"], f'{s["name"]} ({s.get("n_rows")} × '
                                              f'{s.get("n_cols")})') for s in sheets],
                           growth_hint=growth_hint(sheets),
                           year_periods={s["name"]: report_build.year_periods(s) for s in sheets},
                           describe_default=request.form.getlist("describe")
                           or indexed or [data_sheet],
                           time_series=report_form.time_series_fields(sheets),
                           cov_types=COV_TYPES, fit_sheet=indexed[0] if indexed else data_sheet,
                           columns_of={s["name"]: [c["name"] for c in s.get("columns", [])]
                                       for s in sheets}), status


def formula_hint(sheet: dict) -> str:
    """An example formula made of the sheet's own columns ("e.g. Price ~ Area + Stories")."""
    def name(column: dict) -> str:
        text = column["name"]
        return text if text.isidentifier() else f"`{text}`"

    numeric = [c for c in sheet.get("columns", [])
               if str(c.get("dtype", "")).startswith(("float", "int"))]
    if len(numeric) < 2:
        return "e.g. y ~ x"
    return "e.g. " + name(numeric[0]) + " ~ " + " + ".join(name(c) for c in numeric[1:3])


def growth_hint(sheets: list[dict]) -> str:
    """Two columns of the first sheet with a period index, as a hint ("e.g. Canada, France")."""
    columns = next((s.get("columns", []) for s in sheets if s.get("index")), [])
    return "e.g. " + ", ".join(c["name"] for c in columns[:2]) if columns else ""


@bp.get("/reports/<report_id>")
def detail(report_id):
    """A report: its status, sections and the download."""
    report = owned_or_404(Report, report_id)
    data = report_dict(report)
    job = None
    if data["status"] in ("queued", "running") and report.job_id:
        row = db.session.get(Job, report.job_id)
        job = jobs.job_dict(row) if row is not None else None
    charts = [db.session.get(Chart, str(s.get("chart"))) for s in report.spec["sections"]
              if s.get("type") == "chart"]
    return render_template("reports/detail.html", report=report, data=data, job=job,
                           dataset=db.session.get(Dataset, report.dataset_id),
                           labels={"report": "Report build"}, section_names=SECTION_NAMES,
                           chart_titles={c.id: chart_title(ChartSpec.from_dict(c.spec))
                                         for c in charts if c is not None},
                           recipe=recipe_for(current_user.id, report_id=report.id))


SECTION_NAMES = {"summary": "Dataset summary", "cleaning_log": "Cleaning log",
                 "describe": "Describe", "ols": "Regression", "growth": "Growth",
                 "chart": "Chart", "hp_filter": "Hodrick–Prescott filter",
                 "adf": "ADF unit-root test", "kpss": "KPSS stationarity test",
                 "acf": "Autocorrelation", "stl": "STL decomposition",
                 "rolling_stats": "Rolling statistics", "exuberance": "Exuberance test",
                 "fit": "Curve fit", "ttest": "t-test", "anova": "ANOVA", "chi2": "Chi-square test"}


@bp.post("/reports/<report_id>/delete")
def delete_form(report_id):
    """Move to the trash from the report's page (the form carries the CSRF token)."""
    report = owned_or_404(Report, report_id)
    dataset_id = report.dataset_id
    move_to_trash(report, "report")
    flash("The report is in the trash: restore it from the Trash page.", "info")
    return redirect(url_for("reports.library", dataset=dataset_id))


def init_cli(group) -> None:
    import click

    @group.command("report")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                  help="Where to write the PDF.")
    @click.option("--owner", help="Owner of the dataset (default: the local user if auth is off).")
    @click.option("--title", default="", help="The report's title.")
    def report_command(file: str, output: str, owner: str | None, title: str) -> None:
        """Ingest FILE and write a default report (summary, log, describe, growth) to -o."""
        from flask_login import login_user

        from upload.service import ingest_upload
        from web.cli import fail, owner_for_cli

        try:
            user = owner_for_cli(owner)
            with open(file, "rb") as stream:
                dataset, _ = ingest_upload(Path(current_app.config["FILES_DIR"]), user, stream,
                                           Path(file).name)
            with current_app.test_request_context():
                login_user(user)
                report, _ = create_report(dataset, title, "",
                                          report_build.default_sections(dataset), inline=True)
                pdf = report_life.pdf_file(files_dir(), report) \
                    if report.status == "done" else None
        except QuartileError as exc:
            fail(exc)
        if pdf is None:
            raise click.ClickException(f"The report failed: {report.error}")
        Path(output).write_bytes(pdf.read_bytes())
        click.echo(f"Wrote {output} ({report.title}).")
