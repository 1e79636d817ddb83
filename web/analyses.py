"""Analyses of a stored dataset: the "Analyse" page and `/api/v1/datasets/<id>/analyses/<kind>`.

Both go through `run_analysis`, which reads the stored Parquet sheets (never the original file)
and caches results by (dataset bytes, parse, analysis, parameters): asking twice is instant.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
from apiflask import APIBlueprint, Schema
from apiflask.fields import String
from flask import Blueprint, Response, current_app, render_template, request
from marshmallow import INCLUDE

from analysis.registry import ANALYSES
from errors import BadInput, NotFound, QuartileError
from rendition.latex.tables import format_number, long_table
from store.db import db
from store.models import Dataset
from upload.resources import default_sheet
from upload.service import load_sheet
from web.access import dataset_for_read, readable_datasets_query
from web.lru_cache import LruCache
from web.provenance import computed_now, flat_provenance, provenance

bp = Blueprint("analysis", __name__)
api = APIBlueprint("analyses_api", __name__, url_prefix="/api/v1", tag="Analyses")
CACHE_SIZE = 256
EXPORTS = {"csv": "text/csv", "md": "text/markdown", "tex": "application/x-tex"}
LIST_TYPES = {"columns", "numeric_columns"}


CACHE = LruCache(max_entries=CACHE_SIZE)  # result objects hold their tables for exports


def run_analysis(dataset: Dataset, kind: str, params: dict):
    """The result object of analysis `kind` on `dataset` (cached)."""
    return timed_analysis(dataset, kind, params)[0]


def timed_analysis(dataset: Dataset, kind: str, params: dict) -> tuple[object, str]:
    """(result, when it was computed): a cached result keeps its first computation's time, so
    its provenance says when the numbers were made, and asking twice answers the same."""
    spec = ANALYSES.get(kind)
    if spec is None:
        raise NotFound(f"There is no analysis {kind!r}. Available: {', '.join(sorted(ANALYSES))}.")
    values = spec.validate(params)
    key = (dataset.sha256, dataset.parse_key, kind, json.dumps(values, sort_keys=True,
                                                               default=str))
    files = Path(current_app.config["FILES_DIR"])
    return CACHE.get_or_compute(key, lambda: (spec.run(
        lambda name: load_sheet(files, dataset, name), values), computed_now()))


def params_from_query(kind: str, args) -> dict:
    """Query-string parameters in the types the registry expects (lists for column lists)."""
    spec = ANALYSES.get(kind)
    if spec is None:
        raise NotFound(f"There is no analysis {kind!r}.")
    params = {}
    for parameter in spec.parameters:
        if parameter.type in LIST_TYPES:
            values = [v for v in args.getlist(parameter.name) if v]
            if values:
                params[parameter.name] = values
        elif parameter.type == "values":
            text = args.get(parameter.name, "").strip()
            if text:
                try:
                    params[parameter.name] = json.loads(text)
                except json.JSONDecodeError:
                    raise BadInput(f"Parameter '{parameter.name}' must be JSON, e.g. "
                                   '[{"Area": 5000}].') from None
        elif args.get(parameter.name, "") != "":
            params[parameter.name] = args.get(parameter.name)
    return params


# -- exports ----------------------------------------------------------------------------------
def export(result, fmt: str, provenance_block: dict | None = None) -> str:
    """CSV, Markdown or LaTeX of the result's tables; the last table is its provenance."""
    tables = result.tables()
    if provenance_block is not None:
        tables = [*tables, ("Provenance", provenance_table(provenance_block))]
    if fmt == "csv":
        out = io.StringIO()
        for n, (title, frame) in enumerate(tables):
            if n:
                out.write("\n")
            out.write(f"# {title}\n")
            frame.to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
        return out.getvalue()
    if fmt == "md":
        return "\n".join(f"### {title}\n\n{markdown_table(frame)}\n" for title, frame in tables)
    return "\n".join(
        f"% {title}\n" + long_table(list(map(str, frame.columns)), frame.to_numpy().tolist(),
                                    [pd.api.types.is_numeric_dtype(d) for d in frame.dtypes])
        for title, frame in tables
    )


def provenance_table(block: dict) -> pd.DataFrame:
    """The provenance block as (item, value) rows; nested dicts flattened ("family.name")."""
    return pd.DataFrame(list(flat_provenance(block).items()),
                        columns=["item", "value"]).astype(str)


def markdown_table(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        text = format_number(value) if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(
        index=False)]
    return "\n".join([header, rule, *rows])


def _export_response(result, fmt: str, kind: str, provenance_block: dict) -> Response:
    text = export(result, fmt, provenance_block)
    response = Response(text, mimetype=EXPORTS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}.{fmt}"'
    return response


# -- API --------------------------------------------------------------------------------------
class AnalysisParams(Schema):
    """The analysis' parameters; see GET /api/v1/analyses for each kind's list."""

    class Meta:
        unknown = INCLUDE

    sheet = String(metadata={"description": "The sheet to analyse (cleaned name)."})


RESULT_DOC = {
    200: {"description": "The result; always carries 'kind' and 'sheet'",
          "content": {"application/json": {"schema": {
              "type": "object", "required": ["kind"],
              "properties": {"kind": {"type": "string"},
                             "sheet": {"type": ["string", "null"]}}}},
                      **{t: {} for t in EXPORTS.values()}}},
    400: "Bad parameters (the message names the parameter or column)",
    401: "Not logged in",
    404: "No such dataset, sheet or analysis",
    422: "The data cannot be analysed this way (the message says why)",
}


@api.get("/analyses")
@api.doc(responses={200: {"description": "Every analysis with its parameters",
                          "content": {"application/json": {"schema": {"type": "object"}}}}})
def list_analyses():
    """The analyses on offer and their parameters."""
    return {"analyses": [spec.to_dict() for spec in ANALYSES.values()]}


@api.post("/datasets/<dataset_id>/analyses/<kind>")
@api.input(AnalysisParams)
@api.doc(responses=RESULT_DOC)
def analyse_post(dataset_id, kind, json_data):
    """Run an analysis with parameters in the JSON body."""
    dataset = dataset_for_read(dataset_id)
    result, computed_at = timed_analysis(dataset, kind, json_data)
    data = result.to_dict()
    return {**data, "provenance": provenance(dataset, data.get("sheet"), at=computed_at)}


@api.get("/datasets/<dataset_id>/analyses/<kind>")
@api.doc(responses=RESULT_DOC)
def analyse_get(dataset_id, kind):
    """Run an analysis with parameters in the query; `format=csv|md|tex` downloads it."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", *EXPORTS):
        raise BadInput("format is json, csv, md or tex.", code="bad_format")
    dataset = dataset_for_read(dataset_id)
    result, computed_at = timed_analysis(dataset, kind, params_from_query(kind, request.args))
    data = result.to_dict()
    block = provenance(dataset, data.get("sheet"), at=computed_at)
    if fmt == "json":
        return {**data, "provenance": block}
    return _export_response(result, fmt, kind, block)


# -- page -------------------------------------------------------------------------------------
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
    result, error, status, query, saved = None, None, 200, "", "{}"
    if dataset is not None and request.args.get("run"):
        try:
            params = params_from_query(spec.kind, request.args)
            result = run_analysis(dataset, spec.kind, params)
            query = request.query_string.decode()
            saved = json.dumps(params, default=str)
        except QuartileError as exc:  # shown beside the form, with the error's status
            error, status = exc.message, exc.status
    return render_template(
        "analysis/page.html", datasets=datasets, dataset=dataset, spec=spec, analyses=ANALYSES,
        sheets=sheets, sheet=chosen_sheet, columns=columns, args=request.args, result=result,
        error=error, query=query, exports=list(EXPORTS), saved_params=saved,
    ), status

