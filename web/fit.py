"""Fit a model to a sheet's columns: `POST /api/v1/datasets/<id>/analyses/fit` and a page.

Not an entry of the analysis registry: its body has nested objects (start values, bounds),
it runs in the equation solver's sandboxed workers rather than in the web process, and it
may answer with an image. Its URL sits beside the registry's analyses all the same (a fixed
path segment wins over `<kind>` in the router). Both the API and the page call
solver.fit_input.fit_sheet (one path).
"""

from __future__ import annotations

import base64
import keyword
import re
from pathlib import Path

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, Float, Integer, List, Raw, String
from flask import Blueprint, Response, current_app, render_template, request
from marshmallow import INCLUDE

from analysis.equations.tokens import CONSTANT_NAMES, FUNCTION_ARITIES
from errors import BadInput, QuartileError
from rendition.fit_plot_interactive import render_fit_bokeh, render_fit_plotly
from solver.fit_input import fit_sheet
from store.db import db
from store.models import Dataset
from upload.resources import default_sheet
from upload.service import load_sheet
from web.access import dataset_for_read, readable_datasets_query
from web.charts import asset_urls
from web.equations import figure_json

bp = Blueprint("fit", __name__)
api = APIBlueprint("fit_api", __name__, url_prefix="/api/v1", tag="Analyses")
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
INTERACTIVE = {"plotly": render_fit_plotly, "bokeh": render_fit_bokeh}


class FitIn(Schema):
    """A model to fit; see the field descriptions. Unknown fields are refused by the fit."""

    class Meta:
        unknown = INCLUDE

    sheet = String(required=True, metadata={"description": "The sheet (cleaned name)."})
    model = String(required=True, metadata={
        "description": "response = formula, e.g. \"US = a*exp(b*t)\". Columns are data, `t` "
                       "the period index in years since the sheet's first period, odd column "
                       "names in `backquotes`, every other name a parameter."})
    start = Dict(keys=String(), values=Float(), metadata={
        "description": "Start values; missing ones come from a linear or log-linear fit "
                       "where the model allows, else 1."})
    bounds = Dict(keys=String(), values=List(Float(allow_none=True)),
                  metadata={"description": "{name: [low, high]}, null for no bound."})
    x = String(metadata={"description": "The data variable to solve and plot along "
                                        "(default t, or the one column on the right)."})
    weights = String(metadata={"description": "A column of weights (1/variance)."})
    solve = String(metadata={"description": "An equation in the response and x, e.g. "
                                            "\"US = 2*US(2000Q1)\" (US(2000Q1): the fitted "
                                            "value at 2000Q1)."})
    solve_for = String(metadata={"description": "With 'value': solve response = value for "
                                                "this variable (x)."})
    value = Float(metadata={"description": "The response value to solve for."})
    derived = List(String(), metadata={"description": "Expressions in the parameters, e.g. "
                                                      "\"log(2)/b\" (the doubling time)."})
    at = Raw(metadata={"description": "Periods (or x values) at which to give the fitted "
                                      "value and its derivative (growth rate)."})
    plot = String(metadata={"enum": ["png", "svg", "plotly", "bokeh"], "description":
                            "Answer with the plot instead: an image, or JSON {format, figure}."})
    width = Integer(metadata={"description": "Plot width in pixels (200–2000)."})
    height = Integer(metadata={"description": "Plot height in pixels (150–2000)."})


FIT_DOC = {
    200: {"description": "The fit (JSON), or the plot when 'plot' is given",
          "content": {"application/json": {"schema": {"type": "object"}},
                      "image/png": {}, "image/svg+xml": {}}},
    400: "Bad model or parameters (the message says which)",
    401: "Not logged in",
    404: "No such dataset or sheet",
    422: "The model cannot be fitted (no convergence, overflow, too few rows)",
    503: "The solver's workers are busy",
}


FIT_TITLE = "Fit a model to data (nonlinear least squares; solve and plot with it)"
# The registry's parameter types where a field is one of them; else its JSON kind.
FIELD_TYPES = {"sheet": "sheet", "model": "formula", "weights": "numeric_column",
               "plot": "choice"}
JSON_TYPES = {String: "string", Float: "number", Integer: "int", Dict: "object", List: "list",
              Raw: "string or list"}


def fit_spec() -> dict:
    """The fit as GET /api/v1/analyses lists an analysis: kind, title and parameters (from
    FitIn, so the list and the endpoint cannot disagree); it takes POST only."""
    parameters = []
    for name, field in FitIn().fields.items():
        parameters.append({
            "name": name, "type": FIELD_TYPES.get(name, JSON_TYPES[type(field)]),
            "required": field.required, "default": None,
            "choices": field.metadata.get("enum"),
            "help": field.metadata.get("description", "")})
    return {"kind": "fit", "title": FIT_TITLE, "parameters": parameters, "methods": ["POST"]}


def run_fit(dataset: Dataset, body: dict) -> tuple[dict, bytes | dict | None]:
    sheet = body.get("sheet")
    if not isinstance(sheet, str) or not sheet:
        raise BadInput("Parameter 'sheet' is required for a fit.", code="no_sheet")
    frame = load_sheet(Path(current_app.config["FILES_DIR"]), dataset, sheet)
    return fit_sheet(frame, sheet, body)


@api.post("/datasets/<dataset_id>/analyses/fit")
@api.input(FitIn)
@api.doc(responses=FIT_DOC)
def fit_post(dataset_id, json_data):
    """Fit a model you write to the sheet's columns; solve, derive and plot with it."""
    body = request.get_json(silent=True) or json_data  # raw: `at` may be a text or a list
    result, plot = run_fit(dataset_for_read(dataset_id), body)
    chosen = body.get("plot")
    if chosen in IMAGE_TYPES:
        return Response(plot, mimetype=IMAGE_TYPES[chosen])
    if chosen in INTERACTIVE:
        figure = INTERACTIVE[chosen](plot, body.get("width", 800), body.get("height", 500))
        return Response(figure_json({"format": chosen, "figure": figure}),
                        mimetype="application/json")
    return result


# -- page ------------------------------------------------------------------------------------
FORM = {"dataset": "", "sheet": "", "model": "", "start": "", "solve": "", "derived": "",
        "at": "", "renderer": "png"}
RENDERERS = {"png": "Image (PNG)", "plotly": "Interactive (Plotly)",
             "bokeh": "Interactive (Bokeh)"}
EXAMPLES = [
    {"label": "Exponential trend of US house prices", "model": "US = a*exp(b*t)",
     "solve": "US = 2*US(2000Q1)", "derived": "log(2)/b", "at": "2020Q1"},
    {"label": "Logistic curve", "model": "US = K/(1 + exp(-r*(t - m)))",
     "start": "K=200, r=0.1, m=30"},
    {"label": "Odd column name", "model": "`S. Korea` = a*t^b"},
]
EXAMPLES = [{"label": e["label"], "params": {k: v for k, v in e.items() if k != "label"}}
            for e in EXAMPLES]


@bp.get("/equations/fit")
def page():
    """Fit to data: dataset, sheet, model, start values, solve; a typed model and a plot."""
    form = {**FORM, **{k: v for k, v in request.args.items() if k in FORM}}
    datasets = db.session.scalars(readable_datasets_query().order_by(
        Dataset.created_at.desc()).limit(200)).all()
    dataset = dataset_for_read(form["dataset"]) if form["dataset"] else (
        datasets[0] if datasets else None)
    sheets = [s for s in ((dataset.meta or {}).get("sheets", []) if dataset else [])]
    names = [s["name"] for s in sheets]
    if form["sheet"] not in names:
        form["sheet"] = default_sheet(sheets) or ""
    columns = next((s["columns"] for s in sheets if s["name"] == form["sheet"]), [])
    result, plot, error, status = None, None, None, 200
    if dataset is not None and request.args.get("run"):
        try:
            result, plot = _run(dataset, form)
        except QuartileError as exc:
            error, status = exc.message, exc.status
    return render_template(
        "equations/fit.html", form=form, datasets=datasets, dataset=dataset, sheets=names,
        columns=[_column_name(c) for c in columns], result=result, plot=plot, error=error,
        renderers=RENDERERS, examples=EXAMPLES,
        assets=asset_urls() if plot and "figure" in plot else {},
    ), status


def _run(dataset: Dataset, form: dict) -> tuple[dict, dict]:
    if not form["model"].strip():
        raise BadInput("Type a model first, such as US = a*exp(b*t).", code="no_model")
    renderer = form["renderer"] if form["renderer"] in RENDERERS else "png"
    body = {"sheet": form["sheet"], "model": form["model"], "plot": renderer}
    if form["start"].strip():
        body["start"] = assignments(form["start"])
    if form["solve"].strip():
        body["solve"] = form["solve"].strip()
    derived = [d.strip() for d in form["derived"].split(";") if d.strip()]
    if derived:
        body["derived"] = derived
    at = [a.strip() for a in form["at"].split(",") if a.strip()]
    if at:
        body["at"] = at
    result, figure = run_fit(dataset, body)
    if renderer == "png":
        return result, {"renderer": "png",
                        "src": "data:image/png;base64," + base64.b64encode(figure).decode()}
    return result, {"renderer": renderer,
                    "figure": figure_json(INTERACTIVE[renderer](figure, 800, 500))}


def assignments(text: str) -> dict[str, float]:
    """ "a=60, b=0.01" → {"a": 60.0, "b": 0.01}."""
    values = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, equals, number = part.partition("=")
        try:
            if not equals:
                raise ValueError
            values[name.strip()] = float(number)
        except ValueError:
            raise BadInput(f"Write start values as name=number, not {part!r}.",
                           code="bad_values") from None
    return values


def _column_name(column) -> str:
    """How a column is written in a model: as it is, or in backquotes when it is odd."""
    name = column["name"] if isinstance(column, dict) else str(column)
    plain = (re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,29}", name) and not keyword.iskeyword(name)
             and name not in FUNCTION_ARITIES and name not in CONSTANT_NAMES)
    return name if plain else f"`{name}`"
