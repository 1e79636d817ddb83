"""Equations: a form and `/api/v1/equations/*`, both calling analysis.equations (one path)."""

from __future__ import annotations

import base64
import copy
import json

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import Blueprint, Response, render_template, request, session
from markupsafe import Markup

import solver
from errors import BadInput, QuartileError
from web.charts import asset_urls
from web.lru_cache import LruCache

bp = Blueprint("equations", __name__)
api = APIBlueprint("equations_api", __name__, url_prefix="/api/v1/equations", tag="Equations")
HISTORY = 10
ERRORS = [400, 413, 422, 503]
# (endpoint, input) -> answer. sympy's answers are the same every time, so the same question
# asked again (a reload, many users on one example) needs no solver process. Errors are not
# kept: a time limit depends on the moment.
ANSWERS = LruCache(max_entries=1024)


def cached_answer(kind: str, json_data: dict, compute) -> dict:
    key = (kind, json.dumps(json_data, sort_keys=True, default=str))
    return copy.deepcopy(ANSWERS.get_or_compute(key, compute))


# -- API -------------------------------------------------------------------------------------
class ValueOut(Schema):
    text = String(required=True, metadata={"description": "sympy string form, e.g. -3/20"})
    latex = String(required=True)
    numeric = Float(allow_none=True, required=True)
    numeric_real = Float()
    numeric_imag = Float()
    mathml = String()


class EvaluateIn(Schema):
    expression = String(required=True)
    values = Dict(keys=String(), values=Float(), load_default=dict)


class EvaluateOut(Schema):
    value = Nested(ValueOut, required=True)
    note = String()
    input_latex = String()
    input_mathml = String()


class SolveIn(Schema):
    equations = List(String(), required=True, validate=Length(min=1, max=10))
    variables = List(String(), allow_none=True, load_default=None)
    domain = String(load_default="real", validate=OneOf(["real", "complex"]))
    start = Dict(keys=String(), values=Float(), load_default=None, allow_none=True,
                 metadata={"description": "Starting values for a numeric solve when there "
                                          "is no closed form."})


class NumericSolveIn(Schema):
    equations = List(String(), required=True, validate=Length(min=1, max=10))
    variables = List(String(), allow_none=True, load_default=None)
    start = Dict(keys=String(), values=Float(), load_default=dict)


class SolveOut(Schema):
    solutions = List(Dict(keys=String(), values=Nested(ValueOut)), required=True)
    variables = List(String())
    domain = String()
    free = List(String())
    note = String()
    method = String()
    input_latex = List(String())
    input_mathml = List(String())


class TransformIn(Schema):
    action = String(required=True, validate=OneOf(list(solver.service.ACTIONS)))
    expression = String(required=True)
    variable = String(allow_none=True, load_default=None)
    order = Integer(load_default=1, validate=Range(min=1, max=10))
    lower = String(allow_none=True, load_default=None)
    upper = String(allow_none=True, load_default=None)


class TransformOut(EvaluateOut):
    variable = String(allow_none=True)


class PlotIn(Schema):
    equations = List(String(), required=True, validate=Length(min=1, max=10))
    x_range = List(Float(), required=True, validate=Length(equal=2))
    width = Integer(load_default=800, validate=Range(min=200, max=2000))
    height = Integer(load_default=500, validate=Range(min=150, max=2000))
    # Checked by the service, not a OneOf validator: a wrong format is a 400 with its own
    # message on the page and in the API alike (a schema error would be a generic 422).
    format = String(
        load_default="png",
        metadata={
            "enum": list(solver.service.PLOT_FORMATS),
            "description": "png or svg: the image. plotly or bokeh: JSON {format, figure} "
            "for Plotly.react(div, figure.data, figure.layout) or "
            "Bokeh.embed.embed_item(figure, target_id), with the JavaScript from /assets/js/.",
        },
    )


PLOT_JSON = {
    "type": "object",
    "required": ["format", "figure"],
    "properties": {
        "format": {"type": "string", "enum": ["plotly", "bokeh"]},
        "figure": {
            "type": "object",
            "description": "A Plotly figure {data, layout}, or a bokeh.embed.json_item.",
        },
    },
}
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@api.post("/evaluate")
@api.input(EvaluateIn)
@api.output(EvaluateOut)
@api.doc(responses=ERRORS)
def evaluate(json_data):
    """Evaluate an expression at given values (exact when possible)."""
    return cached_answer("evaluate", json_data, lambda: solver.evaluate_expression(
        json_data["expression"], json_data["values"]))


@api.post("/solve")
@api.input(SolveIn)
@api.output(SolveOut)
@api.doc(responses=ERRORS)
def solve(json_data):
    """Solve one equation or a system; `=` may be omitted (means = 0)."""
    return cached_answer("solve", json_data, lambda: solver.solve_equations(
        json_data["equations"], json_data["variables"], json_data["domain"]))


@api.post("/nsolve")
@api.input(NumericSolveIn)
@api.output(SolveOut)
@api.doc(responses=ERRORS)
def nsolve(json_data):
    """Solve numerically from a starting point, when there is no closed form."""
    return cached_answer("nsolve", json_data, lambda: solver.numeric_solve(
        json_data["equations"], json_data["variables"], json_data["start"]))


@api.post("/transform")
@api.input(TransformIn)
@api.output(TransformOut)
@api.doc(responses=ERRORS)
def transform(json_data):
    """Simplify, expand, factor, differentiate or integrate an expression."""
    return cached_answer("transform", json_data,
                         lambda: solver.transform_expression(**json_data))


@api.post("/plot")
@api.input(PlotIn)
@api.doc(
    responses={
        200: {
            "description": "The plot: an image (png, svg), or JSON for Plotly or Bokeh",
            "content": {
                "image/png": {},
                "image/svg+xml": {},
                "application/json": {"schema": PLOT_JSON},
            },
        },
        **{code: "Error" for code in ERRORS},
    }
)
def plot(json_data):
    """Plot explicit or implicit curves in x and y; crossings of two curves are marked."""
    chosen = json_data["format"]
    figure = solver.plot_equations(
        json_data["equations"],
        json_data["x_range"],
        json_data["width"],
        json_data["height"],
        chosen,
    )
    if chosen in IMAGE_TYPES:
        return Response(figure, mimetype=IMAGE_TYPES[chosen])
    return Response(figure_json({"format": chosen, "figure": figure}), mimetype="application/json")


# -- page ------------------------------------------------------------------------------------
EXAMPLES = [
    {"label": "Linear system (book)", "action": "solve", "equations": "5*x-3*y-9\n15*x+3*y+12"},
    {
        "label": "Nonlinear system (book)",
        "action": "solve",
        "equations": "x**2-10*y+10\n10*x+5*y-3",
    },
    {
        "label": "Plot that system",
        "action": "plot",
        "equations": "x^2-10y+10\n10x+5y-3",
        "x_min": "-25",
        "x_max": "5",
    },
    {
        "label": "Evaluate at x, y",
        "action": "evaluate",
        "equations": "x^2 + 3x*y - y^2",
        "values": "x=2, y=0.5",
    },
    {"label": "Derivative", "action": "differentiate", "equations": "x^3 sin(x)"},
    {
        "label": "Definite integral",
        "action": "integrate",
        "equations": "exp(-x^2)",
        "lower": "-oo",
        "upper": "oo",
    },
    {"label": "Complex roots", "action": "solve", "equations": "x^2 + 1 = 0", "domain": "complex"},
    {"label": "No closed form", "action": "nsolve", "equations": "cos(x) = x", "start": "x=1"},
]
EXAMPLES = [
    {"label": e["label"], "params": {k: v for k, v in e.items() if k != "label"}} for e in EXAMPLES
]
PAGE_ACTIONS = [
    "solve",
    "evaluate",
    "simplify",
    "expand",
    "factor",
    "differentiate",
    "integrate",
    "nsolve",
    "plot",
]
PLOT_RENDERERS = {
    "png": "Image (PNG)",
    "plotly": "Interactive (Plotly)",
    "bokeh": "Interactive (Bokeh)",
}


@bp.route("/equations", methods=["GET", "POST"])
def page():
    """The equation form: works without JavaScript; answers are typeset as MathML."""
    form = {
        **{
            "action": "solve",
            "equations": "",
            "variables": "",
            "values": "",
            "domain": "real",
            "x_min": "-10",
            "x_max": "10",
            "lower": "",
            "upper": "",
            "start": "",
            "renderer": "png",
        },
        **request.values.to_dict(),
    }
    result, error, status, plot = None, None, 200, None
    if request.method == "POST":
        try:
            result, plot = _run(form)
            _remember(form)
        except QuartileError as exc:
            error, status = exc.message, exc.status
    return render_template(
        "equations/page.html",
        form=form,
        result=result,
        error=error,
        plot=plot,
        assets=asset_urls() if plot and "figure" in plot else {},
        renderers=PLOT_RENDERERS,
        examples=EXAMPLES,
        actions=PAGE_ACTIONS,
        history=session.get("equation_history", []),
        mathml=_math_element,
    ), status


def _math_element(markup: str, name: str | None = None) -> Markup | str:
    """A block of the answer's MathML, left-aligned, as `name = value` when it has a name.

    `markup` is printed by sympy from objects our parser built; `name` is one of its identifiers.
    Block-level math is centred by browsers, so each value is an inline `math` in its own line.
    """
    if not markup:
        return ""
    named = Markup("<mi>{}</mi><mo>=</mo>").format(name) if name else ""
    return Markup('<div class="math-line"><math>{}{}</math></div>').format(named, Markup(markup))


def _run(form: dict) -> tuple[dict | None, dict | None]:
    """(answer, plot): the plot is {"renderer", "src"} for an image, {"renderer", "figure"}
    for Plotly or Bokeh, drawn by static/js/equations.js."""
    action = form["action"]
    lines = [line.strip() for line in form["equations"].splitlines() if line.strip()]
    if not lines:
        raise BadInput("Type an expression or equation first.", code="empty")
    variables = [v.strip() for v in form["variables"].split(",") if v.strip()] or None
    if action == "solve":
        return solver.solve_equations(lines, variables, form["domain"]), None
    if action == "nsolve":
        return solver.numeric_solve(lines, variables, _assignments(form["start"])), None
    if action == "evaluate":
        return solver.evaluate_expression(lines[0], _assignments(form["values"])), None
    if action == "plot":
        return None, _plot(lines, form)
    if action in solver.service.ACTIONS:
        return solver.transform_expression(
            action,
            lines[0],
            variables[0] if variables else None,
            lower=form["lower"].strip() or None,
            upper=form["upper"].strip() or None,
        ), None
    raise BadInput(f"Unknown action {action!r}.", code="unknown_action")


def _plot(lines: list[str], form: dict) -> dict:
    renderer = form["renderer"]
    if renderer not in PLOT_RENDERERS:
        raise BadInput(
            f"Unknown renderer {renderer[:40]!r}. Choose one of {', '.join(PLOT_RENDERERS)}.",
            code="bad_format",
        )
    x_range = [_number(form["x_min"]), _number(form["x_max"])]
    figure = solver.plot_equations(lines, x_range, format=renderer)
    if renderer == "png":
        src = "data:image/png;base64," + base64.b64encode(figure).decode()
        return {"renderer": renderer, "src": src}
    return {"renderer": renderer, "figure": figure_json(figure)}


def figure_json(obj: dict) -> str:
    """JSON in the order it was built: a Bokeh item defines each model where it first appears
    and refers to it by id after that, so sorted keys (Flask's jsonify, Jinja's tojson) would
    put references before definitions and BokehJS would refuse the item."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _assignments(text: str) -> dict[str, float]:
    """ "x=1, y=2.5" → {"x": 1.0, "y": 2.5}."""
    values = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, number = part.partition("=")
        if not _:
            raise BadInput(f"Write values as name=number, not {part!r}.", code="bad_values")
        values[name.strip()] = _number(number)
    return values


def _number(text: str) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        raise BadInput(f"{text!r} is not a number.", code="not_a_number") from None


def _remember(form: dict) -> None:
    entry = {
        key: str(form.get(key, ""))[:300]
        for key in (
            "action",
            "equations",
            "variables",
            "values",
            "domain",
            "x_min",
            "x_max",
            "lower",
            "upper",
            "start",
            "renderer",
        )
        if key != "renderer" or form["action"] == "plot"
    }
    history = [h for h in session.get("equation_history", []) if h != entry]
    session["equation_history"] = [entry, *history][:HISTORY]
