"""A sheet's first look for the dataset page and the API: computed once per stored parse.

`analysis.first_look` finds the alerts; here each alert's links become URLs of the Analyse
page (run at once, so the link lands on the result) or of the chart builder.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, url_for

from analysis.first_look import first_look
from store.models import Dataset
from upload.service import load_sheet, sheet_meta
from web.lru_cache import LruCache

CACHE = LruCache(max_entries=128)  # keyed by the stored bytes and parse: never stale


def sheet_first_look(dataset: Dataset, sheet: str) -> dict:
    """The first look of one sheet as the API returns it, each link with its `href`.
    An unknown sheet is a 404 naming the sheets."""
    sheet_meta(dataset, sheet)
    files = Path(current_app.config["FILES_DIR"])
    result = CACHE.get_or_compute((dataset.sha256, dataset.parse_key, sheet),
                                  lambda: first_look(load_sheet(files, dataset, sheet), sheet))
    data = result.to_dict()
    for alert in data["alerts"]:
        for link in alert["links"]:
            link["href"] = link_url(dataset.id, link)
    return data


def link_url(dataset_id: str, link: dict) -> str | None:
    """The Analyse page with the analysis' parameters and `run=1`, or the chart builder with
    its kind, sheet and columns; url_for encodes every name (lists repeat the parameter).
    None when that page is not part of this app."""
    params = {k: v for k, v in link["params"].items() if v not in (None, [], "")}
    endpoint = "charts.builder" if link["page"] == "chart" else "analysis.page"
    if endpoint not in current_app.view_functions:
        return None
    if link["page"] == "analysis":
        params["run"] = 1
    return url_for(endpoint, dataset=dataset_id, **params)
