"""PDF reports: a builder page, `/api/v1/reports`, and the `quartile report` command.

A report is described by its sections; its inputs (dataset bytes and parse, sections, Quartile
version) hash to a key, so an unchanged report is served from `files/reports/` instead of being
typeset again. Statistics come from the same `run_analysis` as the Analyse page and the API.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, List, String
from apiflask.validators import Length
from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from errors import BadInput, Conflict, QuartileError
from rendition import latex
from store.db import db
from store.models import Chart, Dataset, Report
from upload.resources import dataset_dict
from upload.service import load_sheet
from web.access import dataset_for_read, owned_or_404, readable_datasets_query
from web.analyses import run_analysis
from web.version import VERSION

bp = Blueprint("reports", __name__)
api = APIBlueprint("reports_api", __name__, url_prefix="/api/v1/reports", tag="Reports")
SECTION_TYPES = ("summary", "cleaning_log", "describe", "chart", "ols", "growth", "ttest",
                 "anova", "chi2")
MAX_SECTIONS = 40


# -- building ---------------------------------------------------------------------------------
def validate_sections(sections: list) -> list[dict]:
    if not isinstance(sections, list) or not sections:
        raise BadInput("Choose at least one section for the report.", code="no_sections")
    if len(sections) > MAX_SECTIONS:
        raise BadInput(f"A report has at most {MAX_SECTIONS} sections.", code="too_many_sections")
    clean = []
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or section.get("type") not in SECTION_TYPES:
            raise BadInput(f"Section {number} needs a type, one of {', '.join(SECTION_TYPES)}.",
                           code="bad_section")
        kind = section["type"]
        required = {"describe": ("sheets",), "chart": ("chart",), "ols": ("sheet", "formula"),
                    "growth": ("sheet", "columns")}.get(kind, ())
        missing = [key for key in required if not section.get(key)]
        if missing:
            raise BadInput(f"Section {number} ({kind}) needs {', '.join(missing)}.",
                           code="bad_section")
        clean.append(section)
    return clean


def inputs_hash(dataset: Dataset, title: str, author: str, sections: list[dict]) -> str:
    key = json.dumps({"sha": dataset.sha256, "parse": dataset.parse_key, "title": title,
                      "author": author, "sections": sections, "version": VERSION},
                     sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()


def build_document(dataset: Dataset, title: str, author: str, sections: list[dict]
                   ) -> latex.ReportDocument:
    """Compute every section's numbers, then describe the document for rendition."""
    built = []
    for section in sections:
        built.extend(_build_section(dataset, section))
    meta = dataset_dict(dataset)
    return latex.ReportDocument(title=title, author=author, generated_at=datetime.now(UTC),
                                quartile_version=VERSION, dataset=meta, sections=built)


def _build_section(dataset: Dataset, section: dict) -> list:
    kind = section["type"]
    if kind == "summary":
        return [latex.SummarySection(dataset_dict(dataset))]
    if kind == "cleaning_log":
        return [latex.CleaningLogSection((dataset.meta or {}).get("cleaning_log", []))]
    if kind == "describe":
        sheets = section["sheets"]
        sheets = sheets if isinstance(sheets, list) else [sheets]
        return [latex.DescribeSection(run_analysis(dataset, "describe", {"sheet": s}).to_dict())
                for s in sheets]
    if kind == "ols":
        result = run_analysis(dataset, "ols", {"sheet": section["sheet"],
                                               "formula": section["formula"]}).to_dict()
        return [latex.OlsSection(result)]
    if kind == "growth":
        params = {"sheet": section["sheet"], "columns": section["columns"],
                  "periods": section.get("periods", 4)}
        result = run_analysis(dataset, "growth", params).to_dict()
        result.setdefault("periods", params["periods"])
        return [latex.GrowthSection(result)]
    if kind in ("ttest", "anova", "chi2"):
        params = {k: v for k, v in section.items() if k != "type"}
        return [latex.TestSection(run_analysis(dataset, kind, params).to_dict())]
    return [_chart_section(dataset, section["chart"])]


def _chart_section(dataset: Dataset, chart_id: str):
    from rendition.charts import ChartSpec, render_png

    chart = owned_or_404(Chart, chart_id)
    if chart.dataset_id != dataset.id:
        raise BadInput(f"Chart {chart_id!r} belongs to another dataset.", code="wrong_dataset")
    spec = ChartSpec.from_dict(chart.spec)
    files = Path(current_app.config["FILES_DIR"])
    frames = {name: load_sheet(files, dataset, name) for name in spec.sheet_names()}
    png = render_png(spec, frames, width=1500, height=850, dpi=200)
    title = (chart.spec.get("options") or {}).get("title") or f"{spec.kind} chart"
    return latex.ChartSection(title=title, image=png, image_format="png")


def create_report(dataset: Dataset, title: str, author: str, sections: list) -> tuple[Report,
                                                                                          bool]:
    """(report, created). An unchanged report is returned as it is, without typesetting."""
    sections = validate_sections(sections)
    title = (title or f"Report on {dataset.name}").strip()[:300]
    author = (author or "").strip()[:200]
    key = inputs_hash(dataset, title, author, sections)
    existing = db.session.scalar(select(Report).where(
        Report.owner_id == current_user.id, Report.inputs_hash == key, Report.status == "done"))
    if existing is not None and existing.pdf_path and _pdf_path(existing).exists():
        return existing, False
    # Numbers first: a wrong sheet or column is the request's 4xx, before any row exists.
    document = build_document(dataset, title, author, sections)
    report = Report(owner_id=current_user.id, dataset_id=dataset.id, title=title,
                    spec={"author": author, "sections": sections}, inputs_hash=key,
                    status="running")
    db.session.add(report)
    db.session.commit()
    build_report(report, document)
    return report, True


def build_report(report: Report, document: latex.ReportDocument) -> None:
    """Typeset now; a LaTeX failure is kept on the report as its error."""
    target = _reports_dir() / f"{report.inputs_hash}.pdf"
    try:
        if not target.exists():
            pdf = latex.render_report_pdf(document)
            temp = target.with_suffix(".part")
            temp.write_bytes(pdf)
            temp.replace(target)
        report.pdf_path = target.name
        report.status, report.error = "done", None
    except QuartileError as exc:
        report.status, report.error = "failed", exc.message
    db.session.commit()


def _reports_dir() -> Path:
    path = Path(current_app.config["FILES_DIR"]) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pdf_path(report: Report) -> Path:
    return _reports_dir() / (report.pdf_path or "")


def report_dict(report: Report) -> dict:
    return {
        "id": report.id,
        "status": report.status,
        "error": report.error,
        "title": report.title,
        "dataset": report.dataset_id,
        "created": report.created_at.isoformat(),
        "pdf": url_for("reports_api.report_pdf", report_id=report.id)
        if report.status == "done" else None,
    }


# -- API --------------------------------------------------------------------------------------
class ReportIn(Schema):
    dataset = String(required=True, validate=Length(min=1, max=32))
    title = String(load_default="", validate=Length(max=300))
    author = String(load_default="", validate=Length(max=200))
    sections = List(Dict(), required=True, metadata={"description": (
        'Each one of {"type": "summary"}, {"type": "cleaning_log"}, {"type": "describe", '
        '"sheets": [str]}, {"type": "chart", "chart": id}, {"type": "ols", "sheet", "formula"}, '
        '{"type": "growth", "sheet", "columns": [str], "periods": int}, or a test '
        '{"type": "ttest"|"anova"|"chi2", ...its parameters}')})


class ReportOut(Schema):
    id = String(required=True)
    status = String(required=True, metadata={"description": "queued|running|done|failed"})
    error = String(allow_none=True, required=True)
    title = String()
    dataset = String()
    created = String()
    pdf = String(allow_none=True)


class ReportList(Schema):
    reports = List(Dict(), required=True)


@api.post("")
@api.input(ReportIn)
@api.output(ReportOut, status_code=201)
@api.doc(responses={200: "The same report was built before: it is returned as it is",
                    400: "Bad sections", 401: "", 404: "No such dataset", 422: "Bad data"})
def create(json_data):
    """Build a PDF report from sections; an unchanged report is returned without rebuilding."""
    dataset = dataset_for_read(json_data["dataset"])
    report, created = create_report(dataset, json_data["title"], json_data["author"],
                                    json_data["sections"])
    return report_dict(report), 201 if created else 200


@api.get("")
@api.output(ReportList)
def list_reports():
    """Your reports, newest first."""
    rows = db.session.scalars(select(Report).where(Report.owner_id == current_user.id)
                              .order_by(Report.created_at.desc()).limit(200))
    return {"reports": [report_dict(r) for r in rows]}


@api.get("/<report_id>")
@api.output(ReportOut)
@api.doc(responses=[401, 404])
def get_report(report_id):
    """A report's status (and its error, when it failed)."""
    return report_dict(owned_or_404(Report, report_id))


@api.get("/<report_id>.pdf")
@api.doc(responses={200: {"description": "The PDF", "content": {"application/pdf": {}}},
                    401: "", 404: "", 409: "Not built yet, or failed"})
def report_pdf(report_id):
    """The PDF once it is built (409 before that)."""
    report = owned_or_404(Report, report_id)
    if report.status != "done" or not _pdf_path(report).exists():
        raise Conflict(f"The report is {report.status}; the PDF is not ready"
                       + (f": {report.error}" if report.error else "."), code="not_ready")
    return send_file(_pdf_path(report), mimetype="application/pdf", as_attachment=True,
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
                                      request.form.get("author", ""), sections_from_form())
            return redirect(url_for("reports.detail", report_id=report.id))
        except QuartileError as exc:
            error, status = exc.message, exc.status
    reports = db.session.scalars(select(Report).where(Report.owner_id == current_user.id)
                                 .order_by(Report.created_at.desc()).limit(100)).all()
    charts = [] if dataset is None else db.session.scalars(select(Chart).where(
        Chart.owner_id == current_user.id, Chart.dataset_id == dataset.id)).all()
    sheets = (dataset.meta or {}).get("sheets", []) if dataset else []
    return render_template("reports/library.html", datasets=datasets, dataset=dataset,
                           sheets=sheets, charts=charts, reports=reports, error=error,
                           form=request.form), status


def sections_from_form() -> list[dict]:
    form = request.form
    sections: list[dict] = []
    if form.get("summary"):
        sections.append({"type": "summary"})
    if form.get("cleaning_log"):
        sections.append({"type": "cleaning_log"})
    describe = form.getlist("describe")
    if describe:
        sections.append({"type": "describe", "sheets": describe})
    if form.get("ols_formula", "").strip():
        sections.append({"type": "ols", "sheet": form.get("ols_sheet", ""),
                         "formula": form["ols_formula"].strip()})
    growth_columns = [c.strip() for c in form.get("growth_columns", "").split(",") if c.strip()]
    if growth_columns:
        sections.append({"type": "growth", "sheet": form.get("growth_sheet", ""),
                         "columns": growth_columns,
                         "periods": int(form.get("growth_periods") or 4)})
    for chart_id in form.getlist("chart"):
        sections.append({"type": "chart", "chart": chart_id})
    return sections


@bp.get("/reports/<report_id>")
def detail(report_id):
    """A report: its status, sections and the download."""
    report = owned_or_404(Report, report_id)
    return render_template("reports/detail.html", report=report, data=report_dict(report))


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
                report, _ = create_report(dataset, title, "", default_sections(dataset))
                pdf = _pdf_path(report) if report.status == "done" else None
        except QuartileError as exc:
            fail(exc)
        if pdf is None:
            raise click.ClickException(f"The report failed: {report.error}")
        Path(output).write_bytes(pdf.read_bytes())
        click.echo(f"Wrote {output} ({report.title}).")


def default_sections(dataset: Dataset) -> list[dict]:
    """Summary, cleaning log, describe of every sheet, y/y growth of indexed sheets."""
    sheets = (dataset.meta or {}).get("sheets", [])
    sections = [{"type": "summary"}, {"type": "cleaning_log"},
                {"type": "describe", "sheets": [s["name"] for s in sheets]}]
    for sheet in sheets:
        if sheet.get("index") and sheet["index"].get("kind") in ("period", "datetime"):
            numeric = [c["name"] for c in sheet["columns"] if c["dtype"].startswith(("float",
                                                                                        "int"))]
            if numeric:
                periods = 4 if (sheet["index"].get("freq") or "").startswith("Q") else 1
                sections.append({"type": "growth", "sheet": sheet["name"],
                                 "columns": numeric[:6], "periods": periods})
    return sections
