"""Add a result to a report in one click.

"Add to report" on the Analyse page (and on a saved chart's page) posts the analysis kind and
the parameters it ran with; the result becomes a section of the user's draft report on that
dataset (created on first use), and the page goes to the draft, which lists its sections.
"Build the PDF" turns the draft into an ordinary report (`create_report`: the same checks,
cache and job as the Reports page) and drops the draft.

A draft is a `Report` row with status "draft": never built, listed with the user's reports,
moved to the trash like them. A result with a dedicated report section (OLS, growth, the
tests and the time-series kinds) gets that section; any other analysis gets an "analysis"
section: its tables and its chart (`result_report_section`).
"""

from __future__ import annotations

import json

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, String
from apiflask.validators import Length
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from analysis.registry import ANALYSES
from errors import BadInput, Conflict, NotFound
from rendition import latex
from rendition.charts.analysis_charts import has_chart, histogram_columns, render_analysis_chart
from store.db import db
from store.models import Dataset, Report
from web import report_build
from web.access import dataset_for_read, owned_or_404

bp = Blueprint("report_drafts", __name__)
api = APIBlueprint("report_drafts_api", __name__, url_prefix="/api/v1/reports", tag="Reports")
DRAFT = "draft"
TESTS = ("ttest", "anova", "chi2")
OLS_KEYS = ("sheet", "formula", "cov_type", "hac_lags", "cluster")


# -- sections ---------------------------------------------------------------------------------
def section_for(kind: str, params: dict, series: str | None = None) -> dict:
    """The report section of analysis `kind` run with `params` (as the Analyse page ran it)."""
    spec = ANALYSES.get(kind)
    if spec is None:
        raise NotFound(f"There is no analysis {kind!r}.")
    values = spec.validate(params)  # a BadInput naming the parameter, before any row
    given = {k: v for k, v in params.items() if v not in (None, "", [])}
    if kind == "ols":
        return {"type": "ols", **{k: given[k] for k in OLS_KEYS if k in given}}
    if kind == "growth":
        return {"type": "growth", "sheet": values["sheet"], "columns": values["columns"],
                "periods": values["periods"]}
    if kind in report_build.TIME_SERIES or kind in TESTS:
        section = {"type": kind, **given}
        if kind == "exuberance" and series:
            section["series"] = series
        return section
    return {"type": "analysis", "kind": kind, "params": given}


def result_report_section(dataset: Dataset, section: dict, draw: bool) -> list:
    """An "analysis" section: describe keeps its own tables and adds its histograms; any other
    result its tables as they are, with its chart when the analysis has one."""
    from web.analyses import run_analysis  # web.analyses → web.equations: imported when used

    kind = section["kind"]
    if kind not in ANALYSES:
        raise NotFound(f"There is no analysis {kind!r}.")
    result = run_analysis(dataset, kind, dict(section.get("params") or {}))
    data = result.to_dict()
    if not draw:
        return []
    if kind == "describe":
        rows = -(-len(histogram_columns(data)) // 4)
        built: list = [latex.DescribeSection(data)]
        if rows:
            built.append(latex.ChartSection(
                f"Distributions: {data['sheet']}", render_analysis_chart(
                    data, "png", width=1600, height=min(420 * rows, 3600), dpi=200)))
        return built
    chart = render_analysis_chart(data, "png", width=1500, height=900, dpi=200) \
        if has_chart(kind) else None
    tables = tuple(latex.ResultTable(
        str(title), tuple(map(str, frame.columns)), tuple(map(tuple, frame.to_numpy().tolist())),
        tuple(frame[c].dtype.kind in "fiu" for c in frame.columns))
        for title, frame in result.tables())
    title = f"{ANALYSES[kind].title}: {data.get('sheet') or dataset.name}"
    return [latex.ResultSection(title, tables, str(data.get("reading") or ""), chart)]


# -- drafts -----------------------------------------------------------------------------------
def draft_of(dataset: Dataset) -> Report:
    """The user's newest draft report on `dataset`, or a new one (flushed, not committed)."""
    from web.reports import default_title

    draft = db.session.scalar(select(Report).where(
        Report.owner_id == current_user.id, Report.dataset_id == dataset.id,
        Report.status == DRAFT, Report.deleted_at.is_(None)).order_by(
        Report.created_at.desc()).limit(1))
    if draft is None:
        draft = Report(owner_id=current_user.id, dataset_id=dataset.id,
                       title=default_title(dataset), spec={"author": "", "sections": []},
                       inputs_hash="", status=DRAFT)
        db.session.add(draft)
        db.session.flush()
    return draft


def add_section(dataset: Dataset, section: dict) -> tuple[Report, bool]:
    """(the draft, whether the section is new): the section's numbers are computed first, so
    a wrong sheet or column is the request's 4xx and the draft is left as it was."""
    report_build.validate_sections([section])
    report_build.check_sections(dataset, current_user.id, [section])
    draft = draft_of(dataset)
    sections = list((draft.spec or {}).get("sections", []))
    added = section not in sections
    if added:
        if len(sections) >= report_build.MAX_SECTIONS:
            raise BadInput(f"A report has at most {report_build.MAX_SECTIONS} sections; build "
                           "this draft first.", code="too_many_sections")
        sections.append(section)
    _set_sections(draft, dataset, sections)
    db.session.commit()
    return draft, added


def _set_sections(draft: Report, dataset: Dataset, sections: list[dict]) -> None:
    draft.spec = {**(draft.spec or {}), "sections": sections}  # a new dict: the ORM sees it
    draft.inputs_hash = report_build.inputs_hash(dataset, draft.title,
                                                 draft.spec.get("author", ""), sections)


def own_draft(report_id: str) -> Report:
    report = owned_or_404(Report, report_id)
    if report.status != DRAFT:
        raise Conflict("This report is no longer a draft.", code="not_a_draft")
    return report


def _posted_params() -> dict:
    try:
        params = json.loads(request.form.get("params") or "{}")
    except json.JSONDecodeError:
        raise BadInput("The result's parameters are not JSON.", code="bad_params") from None
    if not isinstance(params, dict):
        raise BadInput("The result's parameters are a JSON object.", code="bad_params")
    return params


# -- pages ------------------------------------------------------------------------------------
def add_result(dataset_id: str, kind: str | None, params: dict, series: str | None,
               chart: str | None) -> tuple[Report, bool]:
    """The page's and the API's one path: a saved chart by id, else analysis `kind`."""
    dataset = dataset_for_read(dataset_id)
    if chart:
        return add_section(dataset, {"type": "chart", "chart": chart})
    if not kind:
        raise BadInput("Say which result to add: the analysis `kind` (with its `params`) or "
                       "a saved `chart`.", code="missing_kind")
    if kind == "growth" and not params.get("columns"):  # "every numeric column", named
        from web.analyses import run_analysis

        series = run_analysis(dataset, kind, params).to_dict()["series"]
        params = {**params, "columns": list(series)}
    return add_section(dataset, section_for(kind or "", params, series or None))


@bp.post("/reports/drafts/sections")
def add_page():
    """"Add to report": the result (`analysis` + `params`, or a saved `chart`) of `dataset`
    becomes a section of the draft report; the page goes to the draft."""
    chart = request.form.get("chart") or None
    draft, added = add_result(request.form.get("dataset", ""), request.form.get("analysis"),
                              {} if chart else _posted_params(),
                              request.form.get("series"), chart)
    count = len(draft.spec["sections"])
    flash(("Added to" if added else "Already in") + f" the draft report “{draft.title}” "
          f"({count} section{'s' if count != 1 else ''}). Build the PDF when it is complete.",
          "success")
    return redirect(url_for("reports.detail", report_id=draft.id))


@bp.post("/reports/<report_id>/sections/<int:number>/remove")
def remove_page(report_id, number):
    """Take section `number` (from 1) out of a draft."""
    draft = own_draft(report_id)
    sections = list(draft.spec.get("sections", []))
    if not 1 <= number <= len(sections):
        raise NotFound(f"The draft has no section {number}.")
    del sections[number - 1]
    _set_sections(draft, db.session.get(Dataset, draft.dataset_id), sections)
    db.session.commit()
    return redirect(url_for("reports.detail", report_id=draft.id))


@bp.post("/reports/<report_id>/build")
def build_page(report_id):
    """Build a draft: it becomes an ordinary report (built as a job), and the draft goes."""
    from web.reports import create_report

    draft = own_draft(report_id)
    sections = draft.spec.get("sections", [])
    dataset = dataset_for_read(draft.dataset_id)
    report, _ = create_report(dataset, request.form.get("title") or draft.title,
                              draft.spec.get("author", ""), sections)
    db.session.delete(draft)
    db.session.commit()
    return redirect(url_for("reports.detail", report_id=report.id))


class DraftSectionIn(Schema):
    dataset = String(required=True, validate=Length(min=1, max=32))
    kind = String(load_default=None, metadata={"description": "The analysis (GET "
                                                "/api/v1/analyses), unless `chart` is given"})
    params = Dict(load_default=dict, metadata={"description": "Its parameters, as for "
                                               "POST /api/v1/datasets/<id>/analyses/<kind>"})
    series = String(load_default=None, metadata={"description": "The exuberance series to draw"})
    chart = String(load_default=None, metadata={"description": "A saved chart's id instead"})


@api.post("/drafts/sections")
@api.input(DraftSectionIn)
@api.doc(responses={200: "The draft report with its sections (`added`: false when the "
                         "section was in it already)",
                    400: "Bad parameters (named)", 401: "", 404: "No such dataset, sheet, "
                    "analysis or chart", 422: "The data cannot be analysed this way"})
def add_api(json_data):
    """Add a result (or a saved chart) to your draft report on its dataset, made if needed;
    build it with POST /api/v1/reports and its `sections`, or from its page."""
    from web.reports import report_dict

    draft, added = add_result(json_data["dataset"], json_data["kind"], json_data["params"],
                              json_data["series"], json_data["chart"])
    return {**report_dict(draft), "sections": draft.spec["sections"], "added": added}


@bp.app_context_processor
def analysis_titles() -> dict:
    return {"analysis_titles": {kind: spec.title for kind, spec in ANALYSES.items()}}
