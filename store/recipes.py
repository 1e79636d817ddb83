"""Recipes: how saved work was made, so it runs again on another release (issue 14).

A recipe records the family (or dataset), sheet, kind, parameters and Quartile version of a
saved chart, a saved analysis result or a report. Running it on another release translates
the columns it names through the family's series mapping (`US` in 2011Q2 is `U.S.` in 2020Q1);
a column with no counterpart in the target release is named, never silently dropped.
Flask-free: the API, the pages and the CLI use it alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from errors import NotFound, Unprocessable
from store.db import db
from store.models import Dataset, Recipe

COLUMN_TYPES = {"column", "numeric_column", "categorical_column"}
COLUMN_LIST_TYPES = {"columns", "numeric_columns"}


def record_recipe(owner_id: int, kind: str, dataset: Dataset | None, sheet: str | None,
                  params: dict, version: str, *, family_id: str | None = None,
                  title: str = "", result: dict | None = None, chart_id: str | None = None,
                  report_id: str | None = None) -> Recipe:
    """Add a recipe (committed by the caller's next commit)."""
    recipe = Recipe(owner_id=owner_id, kind=kind, dataset_id=dataset.id if dataset else None,
                    family_id=family_id or (dataset.family_id if dataset else None),
                    sheet=sheet, params=params, quartile_version=version, title=title[:300],
                    result=result, chart_id=chart_id, report_id=report_id)
    db.session.add(recipe)
    db.session.flush()
    return recipe


def recipe_of_owner(owner_id: int, recipe_id: str) -> Recipe:
    recipe = db.session.get(Recipe, recipe_id)
    if recipe is None or recipe.owner_id != owner_id:
        raise NotFound(f"There is no recipe {recipe_id!r}.")
    return recipe


def recipes_of(owner_id: int, family_id: str | None = None) -> list[Recipe]:
    query = select(Recipe).where(Recipe.owner_id == owner_id)
    if family_id is not None:
        query = query.where(Recipe.family_id == family_id)
    return list(db.session.scalars(query.order_by(Recipe.created_at.desc(), Recipe.id)))


def recipe_for(owner_id: int, *, chart_id: str | None = None,
               report_id: str | None = None) -> Recipe | None:
    query = select(Recipe).where(Recipe.owner_id == owner_id)
    query = query.where(Recipe.chart_id == chart_id) if chart_id else query.where(
        Recipe.report_id == report_id)
    return db.session.scalars(query.limit(1)).first()


def recipe_dict(recipe: Recipe) -> dict:
    return {"id": recipe.id, "kind": recipe.kind, "title": recipe.title,
            "family": recipe.family_id, "dataset": recipe.dataset_id, "sheet": recipe.sheet,
            "params": recipe.params, "quartile_version": recipe.quartile_version,
            "chart": recipe.chart_id, "report": recipe.report_id,
            "created": recipe.created_at.isoformat(), "result": recipe.result}


class ColumnTranslation:
    """Columns of the recipe's release → the same series' columns in the target release."""

    def __init__(self, series: list[dict] | None, source_label: str | None,
                 target_label: str | None, target_columns: Iterable[str]):
        self.target_columns = set(target_columns)
        self.by_column: dict[str, str] = {}
        if series and source_label and target_label and source_label != target_label:
            for line in series:
                names = {a["release"]: a["name"] for a in line.get("aliases", [])}
                if source_label in names and target_label in names:
                    self.by_column[names[source_label]] = names[target_label]
        self.missing: list[str] = []
        self.renamed: dict[str, str] = {}
        self.sheet: str | None = None  # the target release's name for the recipe's sheet

    def column(self, name: str | None) -> str | None:
        if name is None:
            return None
        target = self.by_column.get(name, name)
        if target not in self.target_columns:
            if name not in self.missing:
                self.missing.append(name)
            return name
        if target != name:
            self.renamed[name] = target
        return target

    def columns(self, names: Iterable[str]) -> list[str]:
        return [self.column(n) for n in names]

    def check(self, target: Dataset, sheet: str) -> None:
        """A 422 naming each series the target release does not have."""
        if self.missing:
            raise Unprocessable(
                f"The release {target.release_label or target.name!r} has no "
                f"{'series' if len(self.missing) == 1 else 'series named'} "
                f"{', '.join(map(repr, self.missing))} on sheet {sheet!r} (nor one matched to "
                "it); the recipe cannot run there without dropping it.",
                code="missing_series")

    def to_dict(self) -> dict:
        return {"renamed": dict(self.renamed), "missing": list(self.missing)}


def translate_params(parameters: Iterable, params: dict, translation: ColumnTranslation) -> dict:
    """An analysis' parameters with its column names translated (by the registry's types)."""
    types = {p.name: p.type for p in parameters}
    out = dict(params)
    for name, value in params.items():
        if types.get(name) in COLUMN_TYPES and isinstance(value, str):
            out[name] = translation.column(value)
        elif types.get(name) in COLUMN_LIST_TYPES and isinstance(value, list):
            out[name] = translation.columns(value)
    return out
