"""Charts: the builder and chart pages, and `/api/v1/charts` (spec → id → PNG/SVG/Bokeh/Plotly).

The page and the API share one path: `ChartSpec.from_dict` checks the shape, `check_spec` checks
it against the real sheets (messages name the column), `render_chart` draws once and caches.
The Bokeh and Plotly JavaScript is served from the installed packages under /assets/js/, so
pages work with the network off.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from errors import BadInput, NotFound
from rendition.charts import (
    KIND_FIELDS,
    OPTION_NAMES,
    ChartSpec,
    chart_assets,
    default_charts,
    sheet_meta,
)
from rendition.charts.defaults import builder_hints
from rendition.charts.spec import AGGREGATES
from store.db import db
from store.models import Chart, Dataset
from store.recipes import recipe_for, record_recipe
from upload.resources import default_sheet
from upload.service import load_sheet
from web.access import dataset_for_read, owned_or_404, readable_datasets_query
from web.chart_render import (
    FORMATS,
    cache_key,
    check_spec,
    files_dir,
    render_chart,
    standalone_html,
)
from web.chart_schemas import (
    ChartCreated,
    ChartIn,
    ChartListOut,
    ChartOut,
    DefaultChartsOut,
    DefaultsQuery,
    HtmlQuery,
    ListQuery,
    PreviewQuery,
    SizeQuery,
)
from web.datasets import CsrfForm
from web.lru_cache import LruCache
from web.trash import move_to_trash
from web.version import VERSION

bp = Blueprint("charts", __name__)
api = APIBlueprint("charts_api", __name__, url_prefix="/api/v1/charts", tag="Charts")

KIND_LABELS = {
    "line": "Line",
    "bar": "Bar",
    "pie": "Pie",
    "scatter": "Scatter with fit line",
    "hist": "Histogram",
    "box": "Box plot",
    "heatmap": "Correlation heatmap",
    "small_multiples": "Small multiples",
    "compare_sheets": "Compare sheets",
}
RENDERERS = {"png": "PNG", "svg": "SVG", "bokeh": "Bokeh", "plotly": "Plotly"}
ERRORS = {400: "Bad spec (the message names the field, sheet or column)", 401: "Not logged in",
          404: "No such dataset or chart", 422: "The data cannot be drawn this way"}
MAX_DEFAULT_SHEETS = 20  # default charts look at the first sheets only
ASSET_MAX_AGE = 365 * 24 * 3600  # the file names carry the library version
SHEET_META = LruCache(max_entries=512)  # (sha256, parse key, sheet) -> sheet_meta(frame)


# -- one dict per chart -----------------------------------------------------------------------
def spec_from_body(body: dict) -> ChartSpec:
    """The API body (schema-checked) → a spec; null options dropped so equal specs hash alike."""
    data = dict(body)
    data["options"] = {k: v for k, v in (body.get("options") or {}).items() if v is not None}
    return ChartSpec.from_dict(data)


def chart_title(spec: ChartSpec) -> str:
    """A heading for lists and pages (the image's own title may be longer)."""
    if spec.option("title"):
        return spec.option("title")
    names = ", ".join(spec.y[:3]) + (f" and {len(spec.y) - 3} more" if len(spec.y) > 3 else "")
    label = KIND_LABELS[spec.kind]
    if spec.kind == "compare_sheets":
        return f"{' vs '.join(spec.sheet_names())}: {names}"
    if spec.kind in ("bar", "pie") and not spec.y:
        return f"{label}: count by {spec.x or spec.group or 'row'} ({spec.sheet})"
    if spec.kind == "scatter":
        return f"{names} against {spec.x} ({spec.sheet})"
    return f"{label}: {names or spec.x or spec.group} ({spec.sheet})"


def chart_links(chart_id: str) -> dict:
    links = {"self": url_for("charts_api.get_chart", chart_id=chart_id),
             "page": url_for("charts.detail", chart_id=chart_id),
             "html": url_for("charts_api.chart_html", chart_id=chart_id)}
    for fmt in FORMATS:
        links[fmt] = url_for(f"charts_api.chart_{fmt}", chart_id=chart_id)
    return links


def chart_dict(chart: Chart, dataset: Dataset) -> dict:
    spec = ChartSpec.from_dict(chart.spec)
    return {"id": chart.id, "spec": spec.to_dict(), "spec_hash": chart.spec_hash,
            "title": chart_title(spec), "dataset_name": dataset.name,
            "created": chart.created_at.isoformat(), "links": chart_links(chart.id)}


def chart_for_read(chart_id: str) -> tuple[Chart, Dataset, ChartSpec]:
    """Your chart and its dataset (404 if either is not yours to read any more)."""
    chart = owned_or_404(Chart, chart_id)
    dataset = dataset_for_read(chart.dataset_id)
    return chart, dataset, ChartSpec.from_dict(chart.spec)


def save_chart(body: dict) -> tuple[Chart, bool]:
    """Validate against the real sheets, then store; the same spec again returns the same chart."""
    dataset = dataset_for_read(body["dataset"])
    spec = spec_from_body({**body, "dataset": dataset.id})
    check_spec(dataset, spec)
    existing = db.session.scalar(select(Chart).where(
        Chart.owner_id == current_user.id, Chart.spec_hash == spec.spec_hash()))
    if existing is not None:
        if existing.deleted_at is not None:  # saved again: out of the trash
            existing.deleted_at = None
            db.session.commit()
        return existing, False
    chart = Chart(owner_id=current_user.id, dataset_id=dataset.id, spec=spec.to_dict(),
                  spec_hash=spec.spec_hash())
    db.session.add(chart)
    db.session.flush()
    recipe_spec = {k: v for k, v in spec.to_dict().items() if k != "dataset"}
    record_recipe(current_user.id, "chart", dataset, spec.sheet, recipe_spec, VERSION,
                  title=chart_title(spec), chart_id=chart.id)
    db.session.commit()
    return chart, True


def default_chart_specs(dataset: Dataset) -> list[dict]:
    """Sensible first charts for a dataset page: title, spec, builder and PNG links.

    Reads the cleaned sheets for column types, distinct counts and sizes, once per stored
    parse (which never changes): the page and each of its thumbnails ask again, and counting
    the distinct values of a million rows takes a second.
    """
    listed = (dataset.meta or {}).get("sheets", [])
    turned = {s.get("turned_from") for s in listed}  # a wide sheet is charted through its copy
    sheets = [s["name"] for s in listed if s["name"] not in turned][:MAX_DEFAULT_SHEETS]
    meta = sheet_metas(dataset, sheets)
    return [
        {"index": i, "title": chart_title(spec), "spec": spec.to_dict(),
         "builder_url": url_for("charts.builder", dataset=dataset.id, default=i),
         "png_url": url_for("charts_api.default_png", dataset_id=dataset.id, index=i)}
        for i, spec in enumerate(default_charts(meta, dataset.id))
    ]


def sheet_metas(dataset: Dataset, names: list[str]) -> dict[str, dict]:
    """Column types, distinct counts, sizes and the most correlated pair of each sheet, cached
    per stored parse."""
    return {name: SHEET_META.get_or_compute(
                (dataset.sha256, dataset.parse_key, name),
                lambda name=name: sheet_meta(load_sheet(files_dir(), dataset, name)))
            for name in names}


def _default_spec(dataset: Dataset, index: int) -> ChartSpec:
    specs = default_chart_specs(dataset)
    if not 0 <= index < len(specs):
        raise NotFound(f"The dataset {dataset.name!r} has {len(specs)} default charts; "
                       f"there is no number {index}.")
    return ChartSpec.from_dict(specs[index]["spec"])


def _chart_response(dataset: Dataset, spec: ChartSpec, fmt: str, width=None, height=None,
                    *, conditional: bool = True) -> Response:
    body = render_chart(dataset, spec, fmt, width, height)
    response = make_response(body)
    response.mimetype = FORMATS[fmt].mimetype
    if conditional:
        # Private and revalidated: a re-parse of the dataset changes the chart, so the ETag
        # (the cache key) is the freshness test.
        response.set_etag(cache_key(dataset, spec, fmt, width, height))
        response.cache_control.private = True
        response.cache_control.no_cache = True
        response = response.make_conditional(request)
    else:
        response.cache_control.no_store = True
    return response


# -- API --------------------------------------------------------------------------------------
def _binary_doc(mimetype: str, what: str) -> dict:
    return {200: {"description": what, "content": {mimetype: {}}}, 304: "Not modified",
            **ERRORS}


_JSON_DOC = {"content": {"application/json": {"schema": {"type": "object"}}}}


@api.post("")
@api.input(ChartIn)
@api.output(ChartCreated, status_code=201, description="Saved (or found: same spec, same owner)")
@api.doc(responses=ERRORS)
def create_chart(json_data):
    """Save a chart spec after checking it against the dataset's sheets; answers its id."""
    chart, created = save_chart(json_data)
    return {"id": chart.id, "created": created, "url": url_for("charts.detail",
                                                               chart_id=chart.id)}, 201


@api.post("/preview")
@api.input(ChartIn)
@api.input(PreviewQuery, location="query")
@api.doc(responses={200: {"description": "The chart, not saved", "content": {
    "image/png": {}, "image/svg+xml": {}, **_JSON_DOC["content"]}}, **ERRORS})
def preview(json_data, query_data):
    """Render a spec without saving it (`format` png, svg, bokeh or plotly)."""
    dataset = dataset_for_read(json_data["dataset"])
    spec = spec_from_body({**json_data, "dataset": dataset.id})
    return _chart_response(dataset, spec, query_data["format"], query_data["width"],
                           query_data["height"], conditional=False)


@api.get("/defaults")
@api.input(DefaultsQuery, location="query")
@api.output(DefaultChartsOut)
@api.doc(responses=[401, 404])
def defaults(query_data):
    """Suggested first charts for a dataset, chosen from its column names and types."""
    return {"charts": default_chart_specs(dataset_for_read(query_data["dataset"]))}


@api.get("/defaults/<dataset_id>/<int:index>.png")
@api.input(SizeQuery, location="query")
@api.doc(responses=_binary_doc("image/png", "Default chart number `index` as PNG"))
def default_png(dataset_id, index, query_data):
    """A suggested chart as PNG, for an <img> on the dataset page (not saved)."""
    dataset = dataset_for_read(dataset_id)
    return _chart_response(dataset, _default_spec(dataset, index), "png",
                           query_data["width"], query_data["height"])


@api.get("/<chart_id>")
@api.output(ChartOut)
@api.doc(responses=[401, 404])
def get_chart(chart_id):
    """A saved chart: its spec and the links to every rendering."""
    chart, dataset, _ = chart_for_read(chart_id)
    return chart_dict(chart, dataset)


@api.delete("/<chart_id>")
@api.output({}, status_code=204)
@api.doc(responses=[401, 404])
def delete_chart(chart_id):
    """Move a saved chart to your trash (its permanent URL answers 404 until restored)."""
    chart, _, _ = chart_for_read(chart_id)
    move_to_trash(chart, "chart")
    return ""


@api.get("/<chart_id>.png")
@api.input(SizeQuery, location="query")
@api.doc(responses=_binary_doc("image/png", "The chart as PNG (exactly width × height)"))
def chart_png(chart_id, query_data):
    """The chart as a PNG image; `width`/`height` in pixels override the spec's size."""
    _, dataset, spec = chart_for_read(chart_id)
    return _chart_response(dataset, spec, "png", query_data["width"], query_data["height"])


@api.get("/<chart_id>.svg")
@api.input(SizeQuery, location="query")
@api.doc(responses=_binary_doc("image/svg+xml", "The chart as SVG"))
def chart_svg(chart_id, query_data):
    """The chart as SVG (text drawn as paths); `width`/`height` as for PNG."""
    _, dataset, spec = chart_for_read(chart_id)
    return _chart_response(dataset, spec, "svg", query_data["width"], query_data["height"])


@api.get("/<chart_id>.bokeh.json")
@api.doc(responses={200: {"description": "bokeh.embed.json_item output", **_JSON_DOC},
                    304: "Not modified", 401: "Not logged in", 404: "No such chart"})
def chart_bokeh(chart_id):
    """The chart for `Bokeh.embed.embed_item(item, target_id)` (BokehJS from /assets/js/)."""
    _, dataset, spec = chart_for_read(chart_id)
    return _chart_response(dataset, spec, "bokeh")


@api.get("/<chart_id>.plotly.json")
@api.doc(responses={200: {"description": "A Plotly figure {data, layout}", **_JSON_DOC},
                    304: "Not modified", 401: "Not logged in", 404: "No such chart"})
def chart_plotly(chart_id):
    """The chart for `Plotly.newPlot(div, data, layout)` (plotly.js from /assets/js/)."""
    _, dataset, spec = chart_for_read(chart_id)
    return _chart_response(dataset, spec, "plotly")


@api.get("/<chart_id>.html")
@api.input(HtmlQuery, location="query")
@api.doc(responses={200: {"description": "A standalone HTML page", "content": {
    "text/html": {}}}, 401: "Not logged in", 404: "No such chart"})
def chart_html(chart_id, query_data):
    """A complete HTML page with the chart and its JavaScript inlined (works offline)."""
    _, dataset, spec = chart_for_read(chart_id)
    text = standalone_html(dataset, spec, chart_title(spec), query_data["renderer"])
    response = Response(text, mimetype="text/html")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="chart-{chart_id}-{query_data["renderer"]}.html"')
    response.cache_control.no_store = True
    return response


@api.get("")
@api.input(ListQuery, location="query")
@api.output(ChartListOut)
@api.doc(responses=[401])
def list_charts(query_data):
    """Your saved charts, newest first (`dataset` filters by dataset id)."""
    charts, total = my_charts(query_data["dataset"], query_data["limit"], query_data["offset"])
    return {"charts": charts, "total": total}


def my_charts(dataset_id: str | None = None, limit: int = 100, offset: int = 0):
    readable = readable_datasets_query().subquery()
    query = (select(Chart, Dataset).join(Dataset, Dataset.id == Chart.dataset_id)
             .where(Chart.owner_id == current_user.id, Chart.deleted_at.is_(None),
                    Dataset.id.in_(select(readable.c.id))))
    if dataset_id:
        query = query.where(Chart.dataset_id == dataset_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(Chart.created_at.desc(), Chart.id)
                              .offset(offset).limit(limit)).all()
    return [chart_dict(chart, dataset) for chart, dataset in rows], total


# -- pages ------------------------------------------------------------------------------------
@bp.get("/assets/js/<name>")
def asset(name):
    """BokehJS and plotly.js from the installed packages; versioned names, cached for a year."""
    path = chart_assets().files.get(name)
    if path is None:
        raise NotFound(f"There is no script {name!r}.")
    response = send_file(path, mimetype="text/javascript", max_age=ASSET_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def asset_urls() -> dict[str, str]:
    urls = {}
    for name in chart_assets().files:
        library = name.split("-", 1)[0]
        urls[library] = url_for("charts.asset", name=name)
    return urls


def _initial_spec(dataset: Dataset | None) -> dict:
    """What the builder opens with: a saved chart, a default chart, or query arguments."""
    if request.args.get("chart"):
        return chart_for_read(request.args["chart"])[2].to_dict()
    if dataset is not None and request.args.get("default", "").isdigit():
        return _default_spec(dataset, int(request.args["default"])).to_dict()
    args = request.args
    return {"sheet": args.get("sheet"), "kind": args.get("kind", "line"), "x": args.get("x"),
            "y": args.getlist("y"), "group": args.get("group"),
            "sheets": args.getlist("sheets") or None, "options": {}}


@bp.get("/charts/new")
def builder():
    """Pick dataset, sheet, kind, columns and renderer; the preview follows every change."""
    datasets = db.session.scalars(readable_datasets_query().order_by(
        Dataset.created_at.desc()).limit(200)).all()
    chosen = request.args.get("dataset")
    if not chosen and request.args.get("chart"):
        chosen = chart_for_read(request.args["chart"])[0].dataset_id
    dataset = dataset_for_read(chosen) if chosen else (datasets[0] if datasets else None)
    if dataset is not None and dataset not in datasets:
        datasets.insert(0, dataset)
    initial = _initial_spec(dataset) if dataset is not None else {}
    sheets = (dataset.meta or {}).get("sheets", []) if dataset is not None else []
    renderer = request.args.get("renderer", "png")
    hints = {name: builder_hints(meta) for name, meta in sheet_metas(
        dataset, [s["name"] for s in sheets][:MAX_DEFAULT_SHEETS]).items()} if sheets else {}
    return render_template(
        "charts/builder.html", datasets=datasets, dataset=dataset, initial=initial, hints=hints,
        renderer=renderer if renderer in RENDERERS else "png", kinds=KIND_LABELS,
        kind_fields=KIND_FIELDS, renderers=RENDERERS, options=OPTION_NAMES,
        aggregates=AGGREGATES, assets=asset_urls(), default_sheet=default_sheet(sheets),
    )


@bp.get("/charts", endpoint="list")
def list_page():
    """Your saved charts with thumbnails."""
    charts, total = my_charts(limit=500)
    return render_template("charts/list.html", charts=charts, total=total)


@bp.get("/charts/<chart_id>")
def detail(chart_id):
    """One chart: drawn by the chosen renderer, downloads and its permanent URL."""
    chart, dataset, spec = chart_for_read(chart_id)
    renderer = request.args.get("renderer", "png")
    if renderer not in RENDERERS:
        raise BadInput(f"Unknown renderer {renderer!r}; choose one of "
                       f"{', '.join(RENDERERS)}.", code="unknown_renderer")
    data = chart_dict(chart, dataset)
    return render_template(
        "charts/detail.html", chart=data, spec=spec, renderer=renderer, renderers=RENDERERS,
        kind_label=KIND_LABELS[spec.kind], assets=asset_urls(), form=CsrfForm(),
        width=spec.option("width", 900), height=spec.option("height", 500),
        permanent_url=url_for("charts.detail", chart_id=chart.id, _external=True),
        recipe=recipe_for(current_user.id, chart_id=chart.id) if dataset.family_id else None,
    )


@bp.post("/charts/<chart_id>/delete")
def delete(chart_id):
    """Move to the trash after the button on the chart page."""
    chart, _, _ = chart_for_read(chart_id)
    move_to_trash(chart, "chart")
    flash("The chart is in the trash: restore it from the Trash page.", "info")
    return redirect(url_for("charts.list"))
