"""`/api/v1/recipes`: saved work that re-runs on another release, and its pages (issue 14).

Saving a chart or a report records its recipe where it is saved (web/charts.py,
web/reports.py); an analysis result is saved here (`POST /api/v1/recipes`), keeping its numbers.
`POST /api/v1/recipes/<id>/run` reproduces the work on another release (default: the latest
of its family) and answers in the original result's shape plus `provenance` and `translation`
(the columns renamed on the way; a column the release lacks is a 422 naming it).
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from analysis.registry import ANALYSES
from errors import BadInput, Unprocessable
from store.db import db
from store.models import Dataset, Family, Recipe
from store.recipes import (
    ColumnTranslation,
    recipe_dict,
    recipe_of_owner,
    recipes_of,
    record_recipe,
    translate_params,
)
from upload import families as lifecycle
from web.access import dataset_for_read
from web.analyses import run_analysis
from web.datasets import CsrfForm
from web.family_schemas import KINDS, RecipeIn, RecipeRunIn
from web.provenance import provenance
from web.version import VERSION

api = APIBlueprint("recipes_api", __name__, url_prefix="/api/v1/recipes", tag="Recipes")
bp = Blueprint("recipes", __name__)
RESULT_DOC = {200: {"description": "The original result's shape plus `provenance`", "content": {
    "application/json": {"schema": {"type": "object"}}}}, 400: "Bad parameters",
    401: "Not logged in", 404: "No such recipe or dataset (or not yours)",
    422: "The release lacks what the recipe needs (the message names it)"}


# -- saving -----------------------------------------------------------------------------------
def save_result(body: dict) -> Recipe:
    """Run an analysis (of a dataset, or a family's vintage analysis) and keep it with its
    recipe: the numbers as computed now, and how to compute them again."""
    from web.families import analysis_dict

    kind, params = body["kind"], dict(body.get("params") or {})
    if kind in KINDS:
        if not body.get("family"):
            raise BadInput(f"A {kind} recipe needs `family`.", code="missing_family")
        family = lifecycle.family_of_owner(current_user.id, body["family"])
        result = analysis_dict(family, kind, params)
        recipe = record_recipe(current_user.id, kind, None, result["provenance"]["sheet"],
                               params, VERSION, family_id=family.id,
                               title=body.get("title") or f"{kind} of {family.name}",
                               result=result)
    else:
        analysis = body.get("analysis")
        if analysis not in ANALYSES:
            raise BadInput(f"`analysis` is one of {', '.join(sorted(ANALYSES))}.",
                           code="unknown_analysis")
        dataset = dataset_for_read(body.get("dataset") or "")
        result = run_analysis(dataset, analysis, params)
        data = result.to_dict()
        recipe = record_recipe(current_user.id, "analysis", dataset, data.get("sheet"),
                               {"analysis": analysis, "params": params}, VERSION,
                               title=body.get("title") or f"{analysis} of {dataset.name}",
                               result=data)
        recipe.result = {**data, "provenance": provenance(dataset, data.get("sheet"), recipe.id)}
    # A new dict: the result may be a cached one that other requests share.
    recipe.result = {**recipe.result, "provenance": {**recipe.result["provenance"],
                                                     "recipe": recipe.id}}
    db.session.commit()
    return recipe


# -- running ----------------------------------------------------------------------------------
def run_recipe(recipe: Recipe, dataset_id: str | None = None) -> dict:
    """The recipe's work again on `dataset_id` (default: the latest release of its family)."""
    family = db.session.get(Family, recipe.family_id) if recipe.family_id else None
    if recipe.kind in KINDS:
        from web.families import analysis_dict

        if family is None:
            raise Unprocessable("The family of this recipe has been deleted.", code="no_family")
        until = _release_of(family, dataset_id) if dataset_id else None
        return analysis_dict(family, recipe.kind, dict(recipe.params or {}), recipe.id, until)
    target = _target(recipe, family, dataset_id)
    sheet = recipe.sheet
    translation = translation_for(recipe, family, target, sheet)
    if recipe.kind == "analysis":
        analysis = recipe.params["analysis"]
        params = translate_params(ANALYSES[analysis].parameters, recipe.params["params"],
                                  translation)
        if params.get("sheet"):
            params["sheet"] = translation.sheet
        translation.check(target, sheet)
        data = run_analysis(target, analysis, params).to_dict()
    elif recipe.kind == "chart":
        data = _run_chart(recipe, target, translation)
    elif recipe.kind == "report":
        from web.reports import rebuild_report

        data = rebuild_report(recipe, target, translation)
    else:
        raise Unprocessable(f"Recipes of kind {recipe.kind!r} cannot run.", code="bad_recipe")
    return {**data, "dataset": target.id, "translation": translation.to_dict(),
            "provenance": provenance(target, translation.sheet, recipe.id)}


def _run_chart(recipe: Recipe, target: Dataset, translation: ColumnTranslation) -> dict:
    from web.charts import chart_dict, save_chart

    spec = dict(recipe.params)
    spec["sheet"] = translation.sheet
    spec["y"] = translation.columns(spec.get("y") or [])
    spec["x"] = translation.column(spec.get("x"))
    spec["group"] = translation.column(spec.get("group"))
    translation.check(target, recipe.sheet)
    chart, _ = save_chart({**spec, "dataset": target.id})
    return chart_dict(chart, target)


def _target(recipe: Recipe, family: Family | None, dataset_id: str | None) -> Dataset:
    if dataset_id:
        return dataset_for_read(dataset_id)
    if family is not None:
        releases = lifecycle.require_releases(family)
        return releases[-1]
    if recipe.dataset_id:
        return dataset_for_read(recipe.dataset_id)
    raise Unprocessable("This recipe's dataset has been deleted and it belongs to no family: "
                        "name a dataset to run it on.", code="no_dataset")


def _release_of(family: Family, dataset_id: str) -> Dataset:
    dataset = dataset_for_read(dataset_id)
    if dataset.family_id != family.id:
        raise Unprocessable(f"{dataset.name} is not a release of {family.name!r}.",
                            code="not_a_release")
    return dataset


def translation_for(recipe: Recipe, family: Family | None, target: Dataset,
                    sheet: str | None) -> ColumnTranslation:
    """Columns named in the recipe → the target release's, through the series mapping when
    the recipe's release and the target are releases of one family."""
    sheets = {s["name"]: s for s in (target.meta or {}).get("sheets", [])}
    own = lifecycle.sheet_of_release(target, sheet) if sheet is not None else None
    if sheet is not None and own is None:
        raise Unprocessable(f"The release {target.release_label or target.name!r} has no sheet "
                            f"{sheet!r}; the recipe needs it.", code="missing_sheet")
    columns = [c["name"] for c in sheets[own]["columns"]] if own else []
    source = db.session.get(Dataset, recipe.dataset_id) if recipe.dataset_id else None
    series = None
    if (sheet is not None and family is not None and source is not None
            and source.family_id == family.id
            and target.family_id == family.id and source.id != target.id):
        from web.families import series_map

        series = series_map(family, sheet).to_dict()["series"]
    translation = ColumnTranslation(series, source.release_label if source else None,
                                    target.release_label, columns)
    translation.sheet = own
    return translation


# -- API --------------------------------------------------------------------------------------
@api.get("")
@api.doc(responses={200: {"description": "Your recipes, newest first", "content": {
    "application/json": {"schema": {"type": "object"}}}}, 401: "Not logged in"})
def list_recipes():
    """Your recipes (saved charts, analysis results and reports), newest first."""
    return {"recipes": [recipe_dict(r) for r in recipes_of(current_user.id)]}


@api.post("")
@api.input(RecipeIn)
@api.doc(responses={201: {"description": "The saved result and its recipe", "content": {
    "application/json": {"schema": {"type": "object"}}}}, **{k: v for k, v in
                                                             RESULT_DOC.items() if k != 200}})
def create_recipe(json_data):
    """Save an analysis result (of a dataset, or a family's vintages/revisions/changes)."""
    return recipe_dict(save_result(json_data)), 201


@api.get("/<recipe_id>")
@api.doc(responses={200: "The recipe", 401: "Not logged in", 404: "No such recipe"})
def get_recipe(recipe_id):
    """A recipe with the result it saved."""
    return recipe_dict(recipe_of_owner(current_user.id, recipe_id))


@api.delete("/<recipe_id>")
@api.output({}, status_code=204)
@api.doc(responses=[401, 404])
def delete_recipe(recipe_id):
    """Forget a recipe (a chart or report it belongs to stays)."""
    db.session.delete(recipe_of_owner(current_user.id, recipe_id))
    db.session.commit()
    return ""


@api.post("/<recipe_id>/run")
@api.input(RecipeRunIn)
@api.doc(responses=RESULT_DOC)
def run(recipe_id, json_data):
    """Run the recipe again, on `dataset` or the latest release of its family."""
    return run_recipe(recipe_of_owner(current_user.id, recipe_id), json_data.get("dataset"))


# -- pages ------------------------------------------------------------------------------------
@bp.get("/recipes/<recipe_id>")
def detail(recipe_id):
    """A recipe, what it saved, and a button to run it on the latest release."""
    recipe = recipe_of_owner(current_user.id, recipe_id)
    return render_template("recipes/detail.html", recipe=recipe_dict(recipe), form=CsrfForm())


@bp.post("/recipes/<recipe_id>/run")
def run_page(recipe_id):
    """Run on the latest release (or the chosen one), then show what came out."""
    recipe = recipe_of_owner(current_user.id, recipe_id)
    data = run_recipe(recipe, request.form.get("dataset") or None)
    if recipe.kind == "chart":
        flash(_ran_message(data), "success")
        return redirect(url_for("charts.detail", chart_id=data["id"]))
    if recipe.kind == "report":
        flash(_ran_message(data), "success")
        return redirect(url_for("reports.detail", report_id=data["id"]))
    return render_template("recipes/detail.html", recipe=recipe_dict(recipe), form=CsrfForm(),
                           run=data)


@bp.post("/recipes/save")
def save_page():
    """The analysis page's Save button: keep the result shown with its recipe."""
    body = {"kind": request.form.get("kind", "analysis"),
            "analysis": request.form.get("analysis"), "dataset": request.form.get("dataset"),
            "family": request.form.get("family"), "title": request.form.get("title", ""),
            "params": _form_params(request.form.get("params", "{}"))}
    recipe = save_result(body)
    flash("Saved, with its recipe: it can run again on the next release.", "success")
    return redirect(url_for("recipes.detail", recipe_id=recipe.id))


def _form_params(text: str) -> dict:
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise BadInput("The saved parameters are not JSON.", code="bad_params") from None
    if not isinstance(value, dict):
        raise BadInput("The saved parameters are a JSON object.", code="bad_params")
    return value


def _ran_message(data: dict) -> str:
    renamed = data["translation"]["renamed"]
    text = f"Ran on release {data['provenance'].get('release') or data['dataset']}."
    if renamed:
        text += " Matched series: " + ", ".join(f"{a} → {b}" for a, b in renamed.items()) + "."
    return text

