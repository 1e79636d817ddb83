"""`/api/v1/families`: releases of one publication, their series mapping, vintage analyses and
their charts (issue 14). Thin: the life cycle is `upload.families`, the numbers are
`analysis.vintages`, the drawings `rendition.charts`.

Results are cached by the releases' bytes, parses and labels, the sheet, the user's corrections
and the parameters: a family whose releases did not change answers from memory.
"""

from __future__ import annotations

import json
from pathlib import Path

from apiflask import APIBlueprint
from flask import Response, current_app
from flask_login import current_user

import analysis.vintages as compute
from errors import BadInput, NotFound
from store.db import db
from store.models import Dataset, Family
from upload import families as lifecycle
from web.access import dataset_for_write
from web.family_schemas import (
    CHART_KINDS,
    KINDS,
    ChartQuery,
    CorrectionIn,
    FamilyAnalysisIn,
    FamilyDetailOut,
    FamilyIn,
    FamilyOut,
    FamilyPatch,
    ReleaseIn,
    SheetQuery,
)
from web.lru_cache import LruCache
from web.provenance import computed_now, family_provenance

api = APIBlueprint("families_api", __name__, url_prefix="/api/v1/families", tag="Families")
CACHE = LruCache(max_entries=256)
ERRORS = {400: "Bad parameters (the message names the parameter, release or series)",
          401: "Not logged in", 404: "No such family (or not yours), sheet or release",
          409: "A release label the family has already", 422: "Cannot be computed (why)"}
CHART_MIMETYPES = {"png": "image/png", "svg": "image/svg+xml", "json": "application/json"}


def files_dir() -> Path:
    return Path(current_app.config["FILES_DIR"])


def family_for(family_id: str) -> Family:
    return lifecycle.family_of_owner(current_user.id, family_id)


# -- one dict per family ----------------------------------------------------------------------
def family_detail(family: Family, sheet: str | None = None) -> dict:
    """The family with its series mapping on `sheet` (default: the first time-series sheet)."""
    data = lifecycle.family_dict(family)
    sheet = sheet or (data["sheets"][0] if data["sheets"] else None)
    if sheet is not None and sheet not in data["sheets"]:
        raise NotFound(f"No release of {family.name!r} has a time-series sheet named {sheet!r}. "
                       f"Sheets: {', '.join(map(repr, data['sheets']))}.")
    series = series_map(family, sheet).to_dict()["series"] if sheet else []
    return {**data, "sheet": sheet, "series": series}


def releases_key(releases: list[Dataset]) -> tuple:
    return tuple((d.sha256, d.parse_key, d.release_label) for d in releases)


def series_map(family: Family, sheet: str):
    releases = lifecycle.ordered_releases(family)
    overrides = lifecycle.overrides_for(family, sheet)
    key = ("map", releases_key(releases), sheet, json.dumps(overrides, sort_keys=True))
    return CACHE.get_or_compute(key, lambda: lifecycle.series_map(files_dir(), family, sheet))


def run_family_analysis(family: Family, kind: str, params: dict,
                        until: Dataset | None = None
                        ) -> tuple[object, list[Dataset], str, str]:
    """(result, releases read, sheet, computed at) of a vintage analysis (cached, with the time
    it was first computed); `until` stops at that release."""
    if kind not in KINDS:
        raise NotFound(f"There is no family analysis {kind!r}. Available: {', '.join(KINDS)}.")
    releases = lifecycle.require_releases(family)
    if until is not None:
        releases = releases[:releases.index(until) + 1]
    sheets = lifecycle.family_sheets(releases)
    sheet = params.get("sheet") or (sheets[0] if sheets else None)
    if sheet is None:
        raise BadInput(f"The releases of {family.name!r} have no time-series sheet.",
                       code="no_time_series")
    overrides = lifecycle.overrides_for(family, sheet)
    values = {k: v for k, v in params.items() if k != "sheet" and v is not None}
    key = (kind, releases_key(releases), sheet, json.dumps(overrides, sort_keys=True),
           json.dumps(values, sort_keys=True, default=str))

    def run():
        sheets_ = lifecycle.release_sheets(files_dir(), releases, sheet)
        mapping = compute.match_series(sheets_, overrides)
        return _COMPUTE[kind](sheets_, mapping, values), computed_now()

    result, computed_at = CACHE.get_or_compute(key, run)
    return result, releases, sheet, computed_at


def _vintages(sheets, mapping, values):
    if not values.get("series"):
        raise BadInput("vintages needs `series`, the series to follow across releases.",
                       code="missing_series")
    return compute.vintages(sheets, mapping, values["series"])


def _revisions(sheets, mapping, values):
    return compute.revisions(sheets, mapping, values.get("series"), int(values.get("horizons", 12)))


def _changes(sheets, mapping, values):
    return compute.changes(sheets, mapping, values.get("previous"), values.get("latest"),
                   float(values.get("threshold_pct", 1.0)))


_COMPUTE = {"vintages": _vintages, "revisions": _revisions, "changes": _changes}


def analysis_dict(family: Family, kind: str, params: dict, recipe_id: str | None = None,
                  until: Dataset | None = None) -> dict:
    """The result's JSON with its provenance. Kept whole (by the releases' fingerprint, which
    one light query reads): a repeated request loads no release metadata at all."""
    key = ("dict", lifecycle.release_fingerprint(family), family.name, kind,
           json.dumps(params, sort_keys=True, default=str), recipe_id,
           until.id if until is not None else None)

    def build() -> dict:
        result, releases, sheet, computed_at = run_family_analysis(family, kind, params, until)
        return {**result.to_dict(), "kind": kind,
                "provenance": family_provenance(family, releases, sheet, recipe_id,
                                                computed_at)}

    return CACHE.get_or_compute(key, build)


def render_family_chart(family: Family, chart: str, fmt: str, sheet: str | None,
                        series: str) -> bytes:
    """PNG or SVG bytes, or a Plotly figure as JSON bytes (`fmt` "json")."""
    from rendition.charts import vintage_charts as mpl
    from rendition.charts import vintage_plotly as plotly

    params = {"sheet": sheet, "series": series}
    kind = "vintages" if chart == "fan" else "revisions"
    result, releases, sheet, _ = run_family_analysis(family, kind, params)
    key = ("chart", chart, fmt, releases_key(releases), sheet, series)
    if fmt == "json":
        draw = {"fan": lambda: plotly.vintage_fan_plotly(result),
                "heatmap": lambda: plotly.revision_heatmap_plotly(result, series),
                "horizons": lambda: plotly.revisions_by_horizon_plotly(result, series)}[chart]
        return CACHE.get_or_compute(key, lambda: json.dumps(draw()).encode())
    draw = {"fan": lambda: mpl.render_vintage_fan(result, fmt),
            "heatmap": lambda: mpl.render_revision_heatmap(result, series, fmt),
            "horizons": lambda: mpl.render_revisions_by_horizon(result, series, fmt)}[chart]
    return CACHE.get_or_compute(key, draw)


# -- API --------------------------------------------------------------------------------------
@api.get("")
@api.output(FamilyOut(many=True))
@api.doc(responses=[401])
def list_families():
    """Your families of releases, each with its releases in order."""
    return [lifecycle.family_dict(f) for f in lifecycle.families_of(current_user.id)]


@api.post("")
@api.input(FamilyIn)
@api.output(FamilyOut, status_code=201)
@api.doc(responses=[400, 401])
def create_family(json_data):
    """A new, empty family (uploads join it with the `family` field)."""
    family = lifecycle.create_family(current_user.id, json_data["name"])
    db.session.commit()
    return lifecycle.family_dict(family)


@api.get("/<family_id>")
@api.input(SheetQuery, location="query")
@api.output(FamilyDetailOut)
@api.doc(responses=[401, 404])
def get_family(family_id, query_data):
    """A family, its releases and its series matched across them, with the evidence."""
    return family_detail(family_for(family_id), query_data.get("sheet"))


@api.patch("/<family_id>")
@api.input(FamilyPatch)
@api.output(FamilyOut)
@api.doc(responses=[400, 401, 404, 409])
def patch_family(family_id, json_data):
    """Rename the family, or relabel releases ({dataset id: label}, all or nothing)."""
    family = family_for(family_id)
    if "name" in json_data:
        lifecycle.rename_family(family, json_data["name"])
    if json_data.get("releases"):
        lifecycle.relabel_many(family, json_data["releases"])
    return lifecycle.family_dict(family)


@api.delete("/<family_id>")
@api.output({}, status_code=204)
@api.doc(responses=[401, 404])
def delete_family(family_id):
    """Delete the family; its datasets stay, as standalone uploads."""
    lifecycle.delete_family(family_for(family_id))
    return ""


@api.post("/<family_id>/releases")
@api.input(ReleaseIn)
@api.output(FamilyOut, status_code=201)
@api.doc(responses=[400, 401, 403, 404, 409])
def add_release(family_id, json_data):
    """Make one of your datasets a release of the family (e.g. the proposed family)."""
    family = family_for(family_id)
    dataset = dataset_for_write(json_data["dataset"])
    label = json_data.get("label") or compute.release_label_from(
        dataset.name, dataset.last_period or lifecycle.last_period_of(dataset.meta))
    lifecycle.add_release(family, dataset, label)
    return lifecycle.family_dict(family)


@api.put("/<family_id>/series")
@api.post("/<family_id>/series")
@api.input(CorrectionIn)
@api.output(FamilyDetailOut)
@api.doc(responses=[400, 401, 404])
def correct_series(family_id, json_data):
    """Correct the series mapping: this column of this release is that series (null: its own).
    Your correction wins over names and values."""
    family = family_for(family_id)
    dataset = next((d for d in family.releases if d.release_label == json_data["release"]),
                   None)
    if dataset is None:
        raise NotFound(f"The family {family.name!r} has no release labelled "
                       f"{json_data['release']!r}.")
    lifecycle.set_correction(family, dataset, json_data["sheet"], json_data["column"],
                             json_data["series"])
    return family_detail(family, json_data["sheet"])


@api.post("/<family_id>/analyses/<kind>")
@api.input(FamilyAnalysisIn)
@api.doc(responses={200: {"description": "The result with its provenance", "content": {
    "application/json": {"schema": {"type": "object"}}}}, **ERRORS})
def analyse(family_id, kind, json_data):
    """vintages (one series: periods × releases), revisions (against the previous and the
    latest release, by horizon, ranked) or changes (between two releases)."""
    return analysis_dict(family_for(family_id), kind, json_data)


@api.get("/<family_id>/charts/<chart>.<fmt>")
@api.input(ChartQuery, location="query")
@api.doc(responses={200: {"description": "fan: the vintages of a series; heatmap: revisions "
                          "period × release; horizons: mean revisions by horizon",
                          "content": {m: {} for m in CHART_MIMETYPES.values()}}, **ERRORS})
def family_chart(family_id, chart, fmt, query_data):
    """A vintage chart of one series as PNG, SVG or a Plotly figure (`.json`)."""
    if chart not in CHART_KINDS or fmt not in CHART_MIMETYPES:
        raise NotFound(f"Charts are {', '.join(CHART_KINDS)} as png, svg or json (Plotly).")
    body = render_family_chart(family_for(family_id), chart, fmt, query_data.get("sheet"),
                               query_data["series"])
    response = Response(body, mimetype=CHART_MIMETYPES[fmt])
    response.cache_control.private = True
    return response
