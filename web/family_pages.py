"""Family pages: the list of your families and one family's releases, series, vintages and
what changed. They render the dicts the API returns (web/families.py), never their own."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from analysis.vintages import release_label_from
from errors import NotFound, QuartileError
from store.recipes import recipe_dict, recipes_of
from upload import families as lifecycle
from web.access import dataset_for_write
from web.datasets import CsrfForm
from web.families import analysis_dict, family_detail, family_for

bp = Blueprint("families", __name__)
TABLE_PERIODS = 12  # the vintage table shows the newest periods; the API gives them all
REVISED_SHOWN = 25


@bp.get("/families")
def library():
    """Your families of releases."""
    families = [lifecycle.family_dict(f) for f in lifecycle.families_of(current_user.id)]
    return render_template("families/library.html", families=families, form=CsrfForm())


@bp.post("/families")
def create():
    family = lifecycle.create_family(current_user.id, request.form.get("name", ""))
    from store.db import db

    db.session.commit()
    return redirect(url_for("families.detail", family_id=family.id))


@bp.get("/families/<family_id>")
def detail(family_id):
    """Releases in order (labels editable), the series mapping with its evidence, the vintage
    fan and revision table of a chosen series, and what changed in the latest release."""
    family = family_for(family_id)
    data = family_detail(family, request.args.get("sheet") or None)
    series_names = [s["name"] for s in data["series"]]
    series = request.args.get("series") or (series_names[0] if series_names else None)
    vintage, changed, horizons, error = None, None, [], None
    if data["sheet"] and series:
        try:
            vintage = analysis_dict(family, "vintages", {"sheet": data["sheet"],
                                                         "series": series})
            series = vintage["series"]  # its name now, when asked by an older one
            revised = analysis_dict(family, "revisions", {"sheet": data["sheet"],
                                                          "series": series, "horizons": 8})
            horizons = [row for row in dict((s["series"], s["horizons"]) for s in revised[
                "by_horizon"]).get(series, []) if row["n"]]
            if len(data["releases"]) > 1:
                changed = analysis_dict(family, "changes", {"sheet": data["sheet"]})
        except QuartileError as exc:  # shown on the page, with the rest of the family
            error = exc.message
    recipes = [recipe_dict(r) for r in recipes_of(current_user.id, family.id)]
    return render_template(
        "families/detail.html", family=data, series=series, series_names=series_names,
        vintage=vintage, table_rows=_newest_rows(vintage), changed=changed, error=error,
        horizons=horizons,
        revised_shown=REVISED_SHOWN, recipes=recipes, form=CsrfForm())


def _newest_rows(vintage: dict | None) -> list[tuple[str, list]]:
    """The newest periods that more than one release published (those that can be revised),
    newest first; the newest periods of all when no period was published twice."""
    if vintage is None:
        return []
    rows = list(zip(vintage["periods"], vintage["values"], strict=True))
    revisable = [r for r in rows if sum(v is not None for v in r[1]) > 1]
    return (revisable or rows)[-TABLE_PERIODS:][::-1]


@bp.post("/families/<family_id>/rename")
def rename(family_id):
    lifecycle.rename_family(family_for(family_id), request.form.get("name", ""))
    return redirect(url_for("families.detail", family_id=family_id))


@bp.post("/families/<family_id>/labels")
def relabel(family_id):
    """The releases table's label inputs, all at once."""
    family = family_for(family_id)
    labels = {key[len("label:"):]: value for key, value in request.form.items()
              if key.startswith("label:")}
    current = {d.id: d.release_label for d in family.releases}
    changed = {k: v for k, v in labels.items() if current.get(k) != " ".join(v.split())}
    if changed:
        lifecycle.relabel_many(family, changed)
        flash("Labels saved; releases are ordered by them.", "success")
    return redirect(url_for("families.detail", family_id=family_id))


@bp.post("/families/<family_id>/series")
def correct(family_id):
    """Correct one column of one release: it is this series, or one of its own."""
    family = family_for(family_id)
    label = request.form.get("release", "")
    dataset = next((d for d in family.releases if d.release_label == label), None)
    if dataset is None:
        raise NotFound(f"The family {family.name!r} has no release {label!r}.")
    sheet = request.form.get("sheet", "")
    lifecycle.set_correction(family, dataset, sheet, request.form.get("column", ""),
                             request.form.get("series") or None)
    flash("Mapping corrected: your word wins over names and values.", "success")
    return redirect(url_for("families.detail", family_id=family_id, sheet=sheet) + "#series")


@bp.post("/families/<family_id>/join")
def join(family_id):
    """A dataset page's "Add to family" (the proposed family of an upload)."""
    family = family_for(family_id)
    dataset = dataset_for_write(request.form.get("dataset", ""))
    label = request.form.get("label") or release_label_from(
        dataset.name, dataset.last_period or lifecycle.last_period_of(dataset.meta))
    lifecycle.add_release(family, dataset, label)
    flash(f"{dataset.name} is now release {label} of {family.name}.", "success")
    return redirect(url_for("families.detail", family_id=family.id))
