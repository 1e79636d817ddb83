"""Building a report: check its sections, compute the numbers, typeset, keep the PDF.

A report's inputs (dataset bytes and parse, title, author, sections, Quartile version) hash to
a key: an unchanged report is served from the stored `reports/<key>.pdf`, never typeset twice
(upload/report_life.py keeps the PDF and the report's status).

The request checks everything a person can get wrong (sections, sheets, columns, formulas,
charts) by computing the numbers, so a mistake is its 4xx before any row exists; the `report`
job then builds the document again (the analyses come from `run_analysis`'s cache) and runs
pdflatex, reporting progress section by section. The CLI runs the same steps inline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from errors import BadInput, Conflict, NotFound, QuartileError
from jobs import Cancelled, publish_change
from jobs.registry import TaskContext, task
from rendition import latex
from rendition.charts.analysis_charts import has_chart, render_analysis_chart
from store.db import db
from store.models import Chart, Dataset, Report
from upload import report_life
from upload.resources import dataset_dict
from upload.service import load_sheet
from web.analyses import run_analysis
from web.provenance import provenance, provenance_lines
from web.version import VERSION

TIME_SERIES = ("adf", "kpss", "acf", "hp_filter", "stl", "rolling_stats", "exuberance")
SECTION_TYPES = ("summary", "cleaning_log", "describe", "chart", "ols", "growth", "ttest",
                 "anova", "chi2", "fit", "changes", "analysis", *TIME_SERIES)
MAX_SECTIONS = 40
REQUIRED = {"describe": ("sheets",), "chart": ("chart",), "ols": ("sheet", "formula"),
            "growth": ("sheet", "columns"), "fit": ("sheet", "model"), "changes": ("family",),
            "analysis": ("kind",),
            **{kind: ("sheet",) for kind in TIME_SERIES}}
FIT_FIELDS = ("sheet", "model", "start", "bounds", "x", "weights", "solve", "solve_for", "value",
              "derived", "at")
Progress = Callable[[float, str], None]
YEAR_ON_YEAR = {"Q": 4, "M": 12}  # periods in a year, by the index's frequency letter


# -- checking ---------------------------------------------------------------------------------
def validate_sections(sections: list) -> list[dict]:
    """The sections' shape: a list of typed dicts with their required keys (BadInput if not)."""
    if not isinstance(sections, list) or not sections:
        raise BadInput("Choose at least one section for the report.", code="no_sections")
    if len(sections) > MAX_SECTIONS:
        raise BadInput(f"A report has at most {MAX_SECTIONS} sections.", code="too_many_sections")
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or section.get("type") not in SECTION_TYPES:
            raise BadInput(f"Section {number} needs a type, one of {', '.join(SECTION_TYPES)}.",
                           code="bad_section")
        kind = section["type"]
        missing = [key for key in REQUIRED.get(kind, ()) if not section.get(key)]
        if missing:
            raise BadInput(f"Section {number} ({kind}) needs {', '.join(missing)}.",
                           code="bad_section")
    return sections


def inputs_hash(dataset: Dataset, title: str, author: str, sections: list[dict]) -> str:
    key = json.dumps({"sha": dataset.sha256, "parse": dataset.parse_key, "title": title,
                      "author": author, "sections": sections, "version": VERSION},
                     sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()


def check_sections(dataset: Dataset, owner_id: int, sections: list[dict]) -> None:
    """Compute every section's numbers (cached for the build) without drawing or typesetting:
    a wrong sheet, column, formula or chart raises its QuartileError now."""
    for section in sections:
        _build_section(dataset, owner_id, section, draw=False)


# -- building ---------------------------------------------------------------------------------
def build_document(dataset: Dataset, owner_id: int, title: str, author: str,
                   sections: list[dict], progress: Progress | None = None
                   ) -> latex.ReportDocument:
    """Compute every section's numbers and draw its charts; `progress(percent, message)` is told
    after each section, from 5 to 60 % (typesetting takes the rest)."""
    built = []
    for number, section in enumerate(sections, start=1):
        if progress is not None:
            progress(5 + 55 * (number - 1) / len(sections),
                     f"Section {number} of {len(sections)}: {section['type'].replace('_', ' ')}")
        built.extend(_build_section(dataset, owner_id, section, draw=True))
    built.append(latex.ProvenanceSection(tuple(provenance_lines(provenance(dataset, None)))))
    return latex.ReportDocument(title=title, author=author, generated_at=datetime.now(UTC),
                                quartile_version=VERSION, dataset=dataset_dict(dataset),
                                sections=built)


def _build_section(dataset: Dataset, owner_id: int, section: dict, draw: bool) -> list:
    kind = section["type"]
    if kind == "summary":
        return [latex.SummarySection(dataset_dict(dataset))]
    if kind == "cleaning_log":
        return [latex.CleaningLogSection((dataset.meta or {}).get("cleaning_log", []))]
    if kind == "describe":
        sheets = section["sheets"] if isinstance(section["sheets"], list) else [section["sheets"]]
        return [latex.DescribeSection(run_analysis(dataset, "describe", {"sheet": s}).to_dict())
                for s in sheets]
    if kind == "ols":
        params = {k: section[k] for k in ("sheet", "formula", "cov_type", "hac_lags", "cluster")
                  if section.get(k) not in (None, "")}
        fitted = run_analysis(dataset, "ols", params)
        return [latex.OlsSection(fitted.to_dict(), images=_regression_images(fitted, draw))]
    if kind == "growth":
        params = {"sheet": section["sheet"], "columns": section["columns"],
                  "periods": section.get("periods", 4)}
        result = run_analysis(dataset, "growth", params).to_dict()
        result.setdefault("periods", params["periods"])
        chart = render_analysis_chart(result, "png", width=1500, height=850, dpi=200) \
            if draw else None
        return [latex.GrowthSection(result, chart=chart)]
    if kind == "fit":  # the numbers, and the plot when drawing
        from web.fit import run_fit  # web.fit → web.charts → upload: imported when used

        body = {key: section[key] for key in FIT_FIELDS if key in section}
        result, image = run_fit(dataset, {**body, "plot": "png"} if draw else body)
        return [latex.FitSection(result, image if draw else None)]
    if kind == "changes":
        return [_changes_section(owner_id, section)]
    if kind in ("ttest", "anova", "chi2"):
        params = {k: v for k, v in section.items() if k != "type"}
        return [latex.TestSection(run_analysis(dataset, kind, params).to_dict())]
    if kind in TIME_SERIES:
        return [_time_series_section(dataset, section, draw)]
    if kind == "analysis":  # any other result, added from the Analyse page
        from web.report_drafts import result_report_section

        return result_report_section(dataset, section, draw)
    return [_chart_section(dataset, owner_id, section["chart"], draw)]


def _regression_images(result, draw: bool) -> tuple[bytes, ...]:
    """Fitted vs actual and residuals vs fitted, drawn for print (none when only checking)."""
    if not draw:
        return ()
    from rendition.charts.regression import CHARTS, render_regression

    return tuple(render_regression(result.fit, result.response, which, width=1500, height=850)
                 for which in CHARTS)


def _time_series_section(dataset: Dataset, section: dict, draw: bool):
    """A time-series analysis with its chart; `series` picks an exuberance series to draw."""
    kind = section["type"]
    params = {k: v for k, v in section.items() if k not in ("type", "series")}
    result = run_analysis(dataset, kind, params)
    if getattr(result, "missing", None):
        raise Conflict("The exuberance test's critical values are not simulated yet: run the "
                       "analysis once (it starts the simulation), then build the report.")
    data = result.to_dict()
    chart = render_analysis_chart(data, "png", section.get("series")) \
        if draw and has_chart(kind) else None
    return latex.TimeSeriesSection(data, chart)


def _changes_section(owner_id: int, section: dict):
    """What changed between two releases of a family, for the series the report uses."""
    from upload.families import family_of_owner
    from web.families import run_family_analysis

    family = family_of_owner(owner_id, str(section["family"]))
    params = {k: section[k] for k in ("sheet", "previous", "latest", "threshold_pct")
              if section.get(k) is not None}
    result, _, _, _ = run_family_analysis(family, "changes", params)
    series = section.get("series") or []
    return latex.ChangesSection(result.to_dict(), tuple(str(s) for s in series))


def _chart_section(dataset: Dataset, owner_id: int, chart_id: str, draw: bool):
    from rendition.charts import ChartSpec, render_png, validate
    from web.charts import chart_title

    chart = db.session.get(Chart, str(chart_id))
    if chart is None or chart.owner_id != owner_id or chart.deleted_at is not None:
        raise NotFound(f"There is no chart {chart_id!r}.")
    if chart.dataset_id != dataset.id:
        raise BadInput(f"Chart {chart_id!r} belongs to another dataset.", code="wrong_dataset")
    spec = ChartSpec.from_dict(chart.spec)
    frames = {name: load_sheet(files_dir(), dataset, name) for name in spec.sheet_names()}
    if not draw:
        validate(spec, frames)
        return None
    png = render_png(spec, frames, width=1500, height=850, dpi=200)
    title = chart_title(spec)
    return latex.ChartSection(title=title, image=png, image_format="png")


def typeset(report: Report, document: latex.ReportDocument) -> None:
    """Run pdflatex into the object store's `reports/<key>.pdf` (unless it is there) and mark
    the report done. A LaTeX failure raises its QuartileError; the caller records it."""
    formats = latex_formats(current_app.config)
    owner = f"owner-{report.owner_id}"  # .aux seeds hold section titles: one owner's only
    standby = bool(current_app.config.get("LATEX_STANDBY", True))
    report_life.save_pdf(files_dir(), report, lambda: latex.render_report_pdf(
        document, formats=formats, namespace=owner, standby=standby))


def build_inline(report: Report, dataset: Dataset) -> None:
    """Build now, in this process (the CLI); a failure is kept on the report as its error."""
    spec = report.spec or {}
    try:
        document = build_document(dataset, report.owner_id, report.title,
                                  spec.get("author", ""), spec.get("sections", []))
        typeset(report, document)
    except QuartileError as exc:
        report_life.mark_failed(report, exc.message)


def build_for_job(report_id: str, progress: Progress) -> Report:
    """The `report` job's work: sections (5-60 %), then pdflatex (60-100 %)."""
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("This report has been deleted.")
    dataset = db.session.get(Dataset, report.dataset_id)
    if dataset is None:
        raise NotFound("The dataset of this report has been deleted.")
    report.status = "running"
    db.session.commit()
    spec = report.spec or {}
    try:
        document = build_document(dataset, report.owner_id, report.title, spec.get("author", ""),
                                  spec.get("sections", []), progress=progress)
        progress(60, "Typesetting with pdflatex")
        typeset(report, document)
    except (Cancelled, QuartileError) as exc:
        db.session.rollback()
        still_there = db.session.get(Report, report_id, populate_existing=True)
        if still_there is not None:  # deleted meanwhile: nothing left to mark
            report_life.mark_failed(still_there, "The build was cancelled."
                                    if isinstance(exc, Cancelled) else exc.message)
        raise
    publish_change(report.owner_id, "reports", report.id)
    return report


@task("report")
def report_task(ctx: TaskContext, params: dict) -> dict:
    """The `report` job: build the PDF report the request created (params: {"report": id}).

    Registered when the app loads this module (every app does: create_app registers the reports
    blueprint), so a Celery worker, which builds its app before it runs a job, knows it too."""
    report = build_for_job(params["report"], ctx.progress)
    return {"report": report.id, "title": report.title, "dataset": report.dataset_id}


def files_dir() -> Path:
    return Path(current_app.config["FILES_DIR"])


def latex_formats(config: Mapping) -> latex.FormatCache:
    """Where this machine keeps the report preamble precompiled (warm-up builds it): by
    default beside the read cache (store/storage.py), which is local to the machine too."""
    cache = config.get("CACHE_DIR") or Path(config["FILES_DIR"]) / "cache"
    directory = config.get("LATEX_FORMAT_DIR") or Path(cache) / "latex-formats"
    return latex.FormatCache(Path(directory).resolve())


def year_periods(sheet: dict) -> int:
    """Periods in a year on a sheet (from its index's frequency): 4, 12, or 1 otherwise."""
    return YEAR_ON_YEAR.get(((sheet.get("index") or {}).get("freq") or "")[:1], 1)


def default_sections(dataset: Dataset) -> list[dict]:
    """Summary, cleaning log, describe of every sheet, year-on-year growth of indexed sheets
    (4 quarters, 12 months, 1 year or anything else)."""
    sheets = (dataset.meta or {}).get("sheets", [])
    sections = [{"type": "summary"}, {"type": "cleaning_log"},
                {"type": "describe", "sheets": [s["name"] for s in sheets]}]
    for sheet in sheets:
        if sheet.get("index") and sheet["index"].get("kind") in ("period", "datetime"):
            numeric = [c["name"] for c in sheet["columns"]
                       if c["dtype"].startswith(("float", "int"))]
            if numeric:
                periods = year_periods(sheet)
                sections.append({"type": "growth", "sheet": sheet["name"],
                                 "columns": numeric[:6], "periods": periods})
    return sections
