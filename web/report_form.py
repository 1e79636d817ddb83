"""The Reports page's builder form: what it offers for a dataset, and the sections it posts.

One fieldset per section kind. A time-series analysis is chosen by its series select, whose
values are `["sheet", "column"]` (or `["sheet", null]`: every series of the sheet, for the tests
that take several) as JSON, "" meaning "no such section"; its other fields are the registry's
optional parameters of that kind, named `<kind>-<parameter>`, an empty one taking the default.
A fit is included when its model is typed; an OLS when its formula is.
"""

from __future__ import annotations

import json

from werkzeug.datastructures import MultiDict

from analysis.covariance import COV_TYPES
from analysis.registry import ANALYSES
from errors import BadInput
from web.report_build import TIME_SERIES

SERIES_PARAMS = ("sheet", "column", "columns")
MANY_SERIES = frozenset(kind for kind in TIME_SERIES
                        if any(p.name == "columns" for p in ANALYSES[kind].parameters))


def numeric_columns(sheet: dict) -> list[str]:
    return [c["name"] for c in sheet.get("columns", [])
            if str(c.get("dtype", "")).startswith(("float", "int"))]


def time_series_fields(sheets: list[dict]) -> list[dict]:
    """For each time-series kind: its title, the series it may run on (by indexed sheet) and
    its optional parameters, as the template draws them."""
    indexed = [s for s in sheets if s.get("index")]
    fields = []
    for kind in TIME_SERIES:
        spec = ANALYSES[kind]
        groups = []
        for sheet in indexed:
            options = [(json.dumps([sheet["name"], None]), f"{sheet['name']}: every series")] \
                if kind in MANY_SERIES else []
            options += [(json.dumps([sheet["name"], column]), f"{sheet['name']}: {column}")
                        for column in numeric_columns(sheet)]
            groups.append((sheet["name"], options))
        fields.append({"kind": kind, "title": spec.title, "groups": groups,
                       "parameters": [p for p in spec.parameters
                                      if p.name not in SERIES_PARAMS]})
    return fields


def sections_from_form(form: MultiDict) -> list[dict]:
    """The sections the builder form asks for, in the report's order (BadInput naming the
    field a person got wrong)."""
    sections: list[dict] = []
    if form.get("summary"):
        sections.append({"type": "summary"})
    if form.get("cleaning_log"):
        sections.append({"type": "cleaning_log"})
    describe = form.getlist("describe")
    if describe:
        sections.append({"type": "describe", "sheets": describe})
    if form.get("ols_sheet") and form.get("ols_formula", "").strip():  # "none": no sheet
        sections.append(_ols(form))
    growth_columns = [c.strip() for c in form.get("growth_columns", "").split(",") if c.strip()]
    if form.get("growth_sheet") and growth_columns:
        sections.append({"type": "growth", "sheet": form.get("growth_sheet", ""),
                         "columns": growth_columns,
                         "periods": _whole(form.get("growth_periods") or "4", "Growth periods")})
    for kind in TIME_SERIES:
        section = _time_series(form, kind)
        if section is not None:
            sections.append(section)
    if form.get("fit_model", "").strip():
        sections.append(_fit(form))
    for chart_id in form.getlist("chart"):
        sections.append({"type": "chart", "chart": chart_id})
    return sections


def _ols(form: MultiDict) -> dict:
    section = {"type": "ols", "sheet": form.get("ols_sheet", ""),
               "formula": form["ols_formula"].strip()}
    cov_type = form.get("ols_cov_type") or "classical"
    if cov_type not in COV_TYPES:
        raise BadInput(f"Standard errors must be one of {', '.join(COV_TYPES)}.",
                       code="bad_section")
    if cov_type != "classical":
        section["cov_type"] = cov_type
    if cov_type == "HAC" and form.get("ols_hac_lags", "").strip():
        section["hac_lags"] = _whole(form["ols_hac_lags"], "Newey–West lags")
    if cov_type == "cluster":
        if not form.get("ols_cluster"):
            raise BadInput("Clustered standard errors need the column that defines the "
                           "clusters.", code="bad_section")
        section["cluster"] = form["ols_cluster"]
    return section


def _time_series(form: MultiDict, kind: str) -> dict | None:
    chosen = form.get(f"{kind}-series", "")
    if not chosen:
        return None
    try:
        sheet, column = json.loads(chosen)
        if not isinstance(sheet, str) or not (column is None or isinstance(column, str)):
            raise ValueError
    except (ValueError, TypeError):
        raise BadInput(f"Choose the series for {ANALYSES[kind].title} from the list.",
                       code="bad_section") from None
    section: dict = {"type": kind, "sheet": sheet}
    if kind in MANY_SERIES:
        if column is not None:
            section["columns"] = [column]
    elif column is None:
        raise BadInput(f"{ANALYSES[kind].title} runs on one series: choose one.",
                       code="bad_section")
    else:
        section["column"] = column
    for parameter in ANALYSES[kind].parameters:
        value = form.get(f"{kind}-{parameter.name}", "").strip()
        if parameter.name not in SERIES_PARAMS and value:
            section[parameter.name] = value  # the registry coerces and names a bad one
    if kind == "exuberance" and column is not None:
        section["series"] = column  # the series whose BSADF chart the report draws
    return section


def _fit(form: MultiDict) -> dict:
    from web.fit import assignments  # web.fit → web.charts → upload: imported when used

    section: dict = {"type": "fit", "sheet": form.get("fit_sheet", ""),
                     "model": form["fit_model"].strip()}
    if form.get("fit_start", "").strip():
        section["start"] = assignments(form["fit_start"])
    if form.get("fit_solve", "").strip():
        section["solve"] = form["fit_solve"].strip()
    derived = [d.strip() for d in form.get("fit_derived", "").split(";") if d.strip()]
    if derived:
        section["derived"] = derived
    return section


def _whole(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise BadInput(f"{what} must be a whole number, not {text.strip()!r}.",
                       code="bad_section") from None
