"""Analyses of a stored dataset: the "Analyse" page and `/api/v1/datasets/<id>/analyses/<kind>`.

Both go through `run_analysis`, which reads the stored Parquet sheets (never the original file)
and caches results by (dataset bytes, parse, analysis, parameters): asking twice is instant.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from apiflask import APIBlueprint, Schema
from apiflask.fields import Float, Integer, String
from flask import Response, current_app, request
from flask_login import current_user
from marshmallow import INCLUDE
from werkzeug.datastructures import MultiDict

from analysis.exuberance_cv import DEFAULT_REPS, check_limits, check_run, window_from
from analysis.registry import ANALYSES
from errors import BadInput, NotFound
from jobs import critical_values as critical_value_jobs
from jobs.lifecycle import job_dict
from rendition.charts.analysis_charts import (
    FORMATS,
    has_chart,
    render_analysis_chart,
)
from rendition.charts.analysis_plotly import render_analysis_plotly
from rendition.latex.tables import long_table
from store import critical_values
from store.models import Dataset
from upload import exports
from upload.service import load_sheet
from web.access import dataset_for_read
from web.equations import figure_json
from web.lru_cache import LruCache
from web.provenance import computed_now, flat_provenance, provenance

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
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    context = {"critical_values": critical_values.cached} if spec.uses_context else None
    result = spec.run(lambda name: load_sheet(files, dataset, name), values, context)
    timed = (result, computed_now())
    if not getattr(result, "missing", None):  # kept once its critical values are in
        CACHE.put(key, timed)
    return timed


def pending_jobs(result) -> list[dict]:
    """Start (or find) the jobs simulating the critical values a result still waits for."""
    out = []
    for need in getattr(result, "missing", ()):
        job = critical_value_jobs.start(need["t"], need["window"], need["lag"], need["reps"],
                                        current_user)
        if job is not None:
            out.append(job_dict(job))
    return out


def result_body(result, data: dict, provenance_block: dict) -> dict:
    """The API's JSON: the result's `data` (its to_dict) and its provenance, plus the
    critical-value jobs it waits for, if any."""
    body = {**data, "provenance": provenance_block}
    if getattr(result, "missing", None):
        body["critical_value_jobs"] = pending_jobs(result)
    return body


def predict_form_args(args: MultiDict) -> MultiDict:
    """The Predict form's one field per regressor (`at.Area=5000`) as the `predict` JSON the
    analysis takes; numbers as numbers, anything else (a factor's level) as text."""
    at = {k[3:]: v.strip() for k, v in args.items() if k.startswith("at.")}
    if not at:
        return args
    out = MultiDict([(k, v) for k, v in args.items(multi=True)
                     if not k.startswith("at.") and k != "predict"])
    out["predict"] = json.dumps([{k: _number_or_text(v) for k, v in at.items()}])
    return out


def _number_or_text(text: str) -> float | str:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text


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
def _export_response(result, fmt: str, kind: str, provenance_block: dict) -> Response:
    """CSV and Markdown through upload.exports (formula-like text neutralised, as for sheets);
    LaTeX here, escaped by long_table. The last table is the result's provenance."""
    tables = [*result.tables(), ("Provenance", provenance_table(provenance_block))]
    if fmt in exports.TABLE_MIMETYPES:
        return exports.send_tables(tables, kind, fmt)
    text = "\n".join(
        f"% {title}\n" + long_table(list(map(str, frame.columns)), frame.to_numpy().tolist(),
                                    [pd.api.types.is_numeric_dtype(d) for d in frame.dtypes],
                                    same_decimals=kind == "growth" and number < len(tables) - 1)
        for number, (title, frame) in enumerate(tables)
    )
    response = Response(text, mimetype=EXPORTS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}.{fmt}"'
    return response


def provenance_table(block: dict) -> pd.DataFrame:
    """The provenance block as (item, value) rows; nested dicts flattened ("family.name")."""
    return pd.DataFrame(list(flat_provenance(block).items()),
                        columns=["item", "value"]).astype(str)


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
    """The analyses on offer and their parameters (`fit` takes POST only)."""
    from web.fit import fit_spec  # web.fit → web.charts → upload: imported when used

    return {"analyses": [*(spec.to_dict() for spec in ANALYSES.values()), fit_spec()]}


@api.post("/datasets/<dataset_id>/analyses/<kind>")
@api.input(AnalysisParams)
@api.doc(responses=RESULT_DOC)
def analyse_post(dataset_id, kind, json_data):
    """Run an analysis with parameters in the JSON body."""
    dataset = dataset_for_read(dataset_id)
    result, computed_at = timed_analysis(dataset, kind, json_data)
    data = result.to_dict()
    return result_body(result, data, provenance(dataset, data.get("sheet"), at=computed_at))


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
        return result_body(result, data, block)
    return _export_response(result, fmt, kind, block)


@api.get("/datasets/<dataset_id>/analyses/<kind>/chart.<fmt>")
@api.doc(responses={200: {"description": "The chart (PNG or SVG), or chart.plotly: JSON "
                                         "{format: \"plotly\", figure: {data, layout}}",
                          "content": {"application/json": {},
                                      **{t: {} for t in FORMATS.values()}}},
                    400: "Bad parameters", 401: "Not logged in",
                    404: "No such dataset or analysis, or the analysis has no chart",
                    422: "The data cannot be analysed this way"})
def analysis_chart(dataset_id, kind, fmt):
    """The chart of an analysis (see GET /api/v1/analyses: exuberance, acf, hp_filter, stl,
    rolling_stats, growth, correlation, describe, price_index) with the same query parameters;
    `series` picks the series of an exuberance result or the column of a describe histogram;
    `width` and `height` in pixels."""
    if fmt not in (*FORMATS, "plotly"):
        raise NotFound(f"Charts are chart.png, chart.svg or chart.plotly, not chart.{fmt}.")
    if not has_chart(kind):
        raise NotFound(f"The analysis {kind!r} has no chart.")
    result = run_analysis(dataset_for_read(dataset_id), kind, params_from_query(kind,
                                                                                request.args))
    series = request.args.get("series") or None
    if fmt == "plotly":
        figure = render_analysis_plotly(result.to_dict(), series, _pixels("width", 900),
                                        _pixels("height", 600))
        return Response(figure_json({"format": "plotly", "figure": figure}),
                        mimetype="application/json")
    image = render_analysis_chart(result.to_dict(), fmt, series, _pixels("width", 900),
                                  _pixels("height", 600))
    return Response(image, mimetype=FORMATS[fmt])


def _pixels(name: str, default: int) -> int:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise BadInput(f"Parameter '{name}' must be a whole number of pixels, not {text!r}.")
    return int(text)


class CriticalValuesIn(Schema):
    t = Integer(required=True, metadata={"description": "Sample size T (20 to 2000)"})
    r0 = Float(load_default=None, allow_none=True,
               metadata={"description": "Minimum window fraction; 0.01 + 1.8/√T when null"})
    lag = Integer(load_default=1, metadata={"description": "ADF lag (0 to 12)"})
    replications = Integer(load_default=DEFAULT_REPS,
                           metadata={"description": "Monte-Carlo replications (100 to 100,000)"})


def _critical_key(data: dict) -> tuple[int, int, int, int]:
    t, lag, reps = data["t"], data["lag"], data["replications"]
    check_limits(t, reps, lag)
    window = window_from(t, data["r0"], lag)
    check_run(t, window, lag, reps)
    return t, window, lag, reps


@api.get("/critical-values/exuberance")
@api.input(CriticalValuesIn, location="query")
@api.doc(responses={200: "The critical values", 400: "Outside the limits (stated)",
                    401: "Not logged in", 404: "Not simulated yet: POST to start the job"})
def get_critical_values(query_data):
    """Stored SADF/GSADF/BSADF critical values at 90/95/99 % for (T, r0, lag, replications)."""
    stored = critical_values.cached(*_critical_key(query_data))
    if stored is None:
        raise NotFound("These critical values are not simulated yet; POST the same parameters "
                       "to /api/v1/critical-values/exuberance to start the job.")
    return stored.to_dict()


@api.post("/critical-values/exuberance")
@api.input(CriticalValuesIn)
@api.doc(responses={200: "Already stored: the critical values",
                    202: "A job simulating them (follow it at /api/v1/jobs/<id>)",
                    400: "Outside the limits (stated)", 401: "Not logged in",
                    503: "The job queue is down"})
def start_critical_values(json_data):
    """Simulate the critical values once for everyone (a background job with progress)."""
    key = _critical_key(json_data)
    job = critical_value_jobs.start(*key, current_user)
    if job is None:
        return critical_values.cached(*key).to_dict()
    return job_dict(job), 202


@api.get("/datasets/<dataset_id>/analyses/ols/chart/<which>.png")
@api.doc(responses={200: {"description": "The chart as PNG", "content": {"image/png": {}}},
                    **{k: v for k, v in RESULT_DOC.items() if k != 200}})
def regression_chart(dataset_id, which):
    """A regression's chart as PNG (`which` = fit or residuals); OLS parameters in the query."""
    from rendition.charts.regression import CHARTS, render_regression

    if which not in CHARTS:
        raise NotFound(f"There is no regression chart {which!r}. Available: "
                       f"{', '.join(CHARTS)}.")
    result = run_analysis(dataset_for_read(dataset_id), "ols",
                          params_from_query("ols", request.args))
    png = render_regression(result.fit, result.response, which, width=720, height=420)
    return Response(png, mimetype="image/png")
