"""The Analyse page: pick a dataset, an analysis and its parameters from lists; the result as
readable tables beside its chart (a histogram per column for describe), with its exports, Save
and Add to report. The growth table is folded when long and paged with `offset`/`limit`.

The numbers come from `web.analyses.run_analysis`, as the API's do.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, render_template, request
from werkzeug.datastructures import MultiDict

from analysis import labels
from analysis.ols import COV_LABELS
from analysis.registry import ANALYSES
from analysis.timeseries import PER_YEAR
from errors import BadInput, QuartileError
from rendition.charts.analysis_charts import has_chart, histogram_columns
from rendition.latex.tables import column_format, format_number
from store.db import db
from store.models import Dataset
from upload.resources import default_sheet
from web.access import dataset_for_read, readable_datasets_query
from web.analyses import EXPORTS, params_from_query, pending_jobs, predict_form_args, run_analysis

bp = Blueprint("analysis", __name__)
TABLE_PAGE = 40  # rows of a long table shown at once
FOLD_OVER = 20  # a longer growth table starts folded


@bp.app_template_filter("p_value")
def p_value(value) -> str:
    """A p-value as journals print it: '< 0.0001' below that, else four significant digits."""
    if isinstance(value, int | float) and value == value and value < 1e-4:
        return "< 0.0001"
    return cell(value)


@bp.app_template_filter("stars")
def stars(value) -> str:
    return labels.stars(value)


@bp.app_context_processor
def statistics_labels() -> dict:
    return {"cov_labels": COV_LABELS, "significance_legend": labels.SIGNIFICANCE_LEGEND,
            "ols_model_labels": labels.OLS_MODEL,
            "ols_diagnostic_labels": labels.OLS_DIAGNOSTICS, "histogram_columns": histogram_columns,
            "column_formats": column_formats}


@bp.app_template_filter("cell")
def cell(value) -> str:
    """A table cell for people: rounded numbers, a dash for missing."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e12:
            return f"{int(value):,}"  # counts and degrees of freedom
        return format_number(value)
    return str(value)


def column_formats(frame) -> list:
    """A formatter per column that gives every number of a numeric column the same decimals
    (growth rates: -0.64, 5.89, 13.85), as the PDF's growth tables do; `cell` for the rest."""
    return [column_format(frame[c].tolist()) if frame[c].dtype.kind in "fiu" else cell
            for c in frame.columns]


@bp.get("/analyse")
def page():
    """Pick dataset, analysis, sheet and columns from lists; results as readable tables."""
    datasets = db.session.scalars(readable_datasets_query().order_by(
        Dataset.created_at.desc()).limit(200)).all()
    dataset_id = request.args.get("dataset") or (datasets[0].id if datasets else None)
    dataset = dataset_for_read(dataset_id) if dataset_id else None
    kind = request.args.get("kind", "describe")
    spec = ANALYSES.get(kind) or ANALYSES["describe"]
    sheets = (dataset.meta or {}).get("sheets", []) if dataset else []
    chosen_sheet = request.args.get("sheet") or default_sheet(sheets)
    columns = next((s["columns"] for s in sheets if s["name"] == chosen_sheet), [])
    result, error, status, query, waiting, saved = None, None, 200, "", [], "{}"
    defaults = page_defaults(spec.kind, next((s for s in sheets if s["name"] == chosen_sheet),
                                             {}))
    offset, limit = 0, TABLE_PAGE
    if dataset is not None and request.args.get("run"):
        try:
            offset, limit = table_rows(request.args)
            args = MultiDict(predict_form_args(request.args))
            for key, value in defaults.items():
                args.setdefault(key, str(value))
            params = params_from_query(spec.kind, args)
            result = run_analysis(dataset, spec.kind, params)
            query = urlencode([(k, v) for k, v in args.items(multi=True)
                               if k not in ("series", "offset", "limit")])
            waiting = pending_jobs(result)
            saved = json.dumps(params, default=str)
        except QuartileError as exc:  # shown beside the form, with the error's status
            error, status = exc.message, exc.status
    return render_template(
        "analysis/page.html", datasets=datasets, dataset=dataset, spec=spec, analyses=ANALYSES,
        sheets=sheets, sheet=chosen_sheet, columns=columns, args=request.args, result=result,
        error=error, query=query, exports=list(EXPORTS), waiting=waiting,
        chart=has_chart(spec.kind) and result is not None,
        chart_series=request.args.get("series", ""), saved_params=saved,
        page_defaults=defaults, rows_offset=offset, rows_limit=limit,
        rows_paged="offset" in request.args, fold_over=FOLD_OVER,
    ), status


def table_rows(args) -> tuple[int, int]:
    """(offset, limit) of the rows of a long table to show, from the query."""
    values = []
    for name, default, top in (("offset", 0, 10**9), ("limit", TABLE_PAGE, 500)):
        text = args.get(name, "").strip() or str(default)
        if not text.isdigit() or int(text) > top or (name == "limit" and int(text) == 0):
            raise BadInput(f"'{name}' is a whole number of rows"
                           + (f" from 1 to {top}." if name == "limit" else "."))
        values.append(int(text))
    return values[0], values[1]


def page_defaults(kind: str, sheet: dict) -> dict:
    """Form defaults from the data: growth compares with a year before on quarters and months."""
    freq = ((sheet.get("index") or {}).get("freq") or "").lstrip("B")
    per_year = PER_YEAR.get(freq[:1])
    return {"periods": per_year} if kind == "growth" and per_year else {}

