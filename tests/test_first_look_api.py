"""The first look over HTTP: the JSON API, the dataset page, links that land on the result, and
hostile column names escaped on the page and encoded in the links."""

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import pandas as pd
import pytest

from tests.upload_actions import DATA, UploadActions


@pytest.fixture
def uploads(client):
    return UploadActions(client)


def first_look_of(client, dataset_id, sheet):
    return client.get(f"/api/v1/datasets/{dataset_id}/sheets/{quote(sheet, safe='')}/first-look")


def test_api_answers_the_alerts_with_links(uploads, client):
    dataset = uploads.dataset("HousingPreferences.csv")
    response = first_look_of(client, dataset["id"], "HousingPreferences")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert {k: body[k] for k in ("kind", "sheet", "n_rows", "n_columns", "time_series",
                                 "correlation_rows")} == {
        "kind": "first_look", "sheet": "HousingPreferences", "n_rows": 545, "n_columns": 13,
        "time_series": False, "correlation_rows": 545}
    assert body["thresholds"]["high_correlation"] == 0.9
    raw = pd.read_csv(DATA / "HousingPreferences.csv")
    price = next(a for a in body["alerts"] if a["columns"] == ["Price"])
    q1, q3 = np.percentile(raw["Price"], [25, 75])
    assert price["kind"] == "outliers" and price["severity"] == "warning"
    assert price["figures"]["count"] == int((raw["Price"] > q3 + 3 * (q3 - q1)).sum())
    assert price["figures"]["most_extreme"] == raw["Price"].max()
    describe, box = price["links"]
    assert describe["href"] == (f"/analyse?dataset={dataset['id']}&kind=describe"
                                "&sheet=HousingPreferences&run=1")
    assert box["href"] == (f"/charts/new?dataset={dataset['id']}&kind=box"
                           "&sheet=HousingPreferences&y=Price")
    assert [a["severity"] for a in body["alerts"]] == sorted(
        (a["severity"] for a in body["alerts"]), key=["warning", "note"].index)


def test_the_correlation_link_lands_on_that_pair_with_r(uploads, client):
    dataset = uploads.dataset("2020Q1.xlsx")
    alerts = first_look_of(client, dataset["id"], "HPI").get_json()["alerts"]
    pair = next(a for a in alerts if a["kind"] == "correlation")
    a, b = pair["columns"]
    href = pair["links"][0]["href"]
    assert parse_qs(urlsplit(href).query) == {
        "dataset": [dataset["id"]], "kind": ["correlation"], "sheet": ["HPI"],
        "columns": [a, b], "run": ["1"]}
    page = client.get(href)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Correlation matrix" in text and f"{pair['figures']['r']:.4f}"[:5] in text


def test_unknown_sheet_is_404_naming_the_sheets(uploads, client):
    dataset = uploads.dataset("2020Q1.xlsx")
    response = first_look_of(client, dataset["id"], "Nope")
    assert response.status_code == 404
    message = response.get_json()["error"]["message"]
    assert "'Nope'" in message and "'HPI'" in message
    assert first_look_of(client, dataset["id"], "HPI").status_code == 200  # nothing harmed


def test_the_dataset_page_lists_the_alerts_of_the_sheet_shown(uploads, client):
    dataset = uploads.dataset("UK_house_price_since_1952.xls")
    text = client.get(f"/datasets/{dataset['id']}").get_data(as_text=True)
    section = text[text.index('id="first-look"'):text.index('id="preview-heading"')]
    assert "First look" in section and 'data-alert="stops_early"' in section
    assert "stop at 2015Q2" in section
    assert 'data-alert="starts_late"' in section
    alerts = first_look_of(client, dataset["id"], dataset["sheets"][0]["name"]).get_json()
    warnings = sum(a["severity"] == "warning" for a in alerts["alerts"])
    notes = len(alerts["alerts"]) - warnings
    said = [f"{n} {word}{'s' if n != 1 else ''}"
            for n, word in ((warnings, "warning"), (notes, "note")) if n]  # no "0 warnings"
    assert re.search(r"data-alert-counts>([^<]*)<", section)[1] == ", ".join(said)
    notes = client.get(f"/datasets/{dataset['id']}?sheet=Notes").get_data(as_text=True)
    assert "data-no-alerts" in notes and "data-alert-counts>no alerts<" in notes
    assert ("Nothing stands out: no column misses 5 % of its values or more, none is constant "
            "or 95 % one value, no pair of columns has |r| ≥ 0.9, no value lies 3 × IQR "
            "beyond the quartiles.") in html.unescape(notes)


HOSTILE = ['<img src=x onerror=alert(1)>', 'a&b=1#c', '"quoted" ?x', 'Ünïcode / slash']


def hostile_csv() -> bytes:
    rng = np.random.default_rng(4)
    x = rng.normal(size=60)
    frame = pd.DataFrame({HOSTILE[0]: x, HOSTILE[1]: 2 * x + rng.normal(scale=0.01, size=60),
                          HOSTILE[2]: 5.0, HOSTILE[3]: rng.uniform(size=60)})
    frame.loc[:9, HOSTILE[3]] = np.nan
    return frame.to_csv(index=False).encode()


def test_hostile_column_names_are_escaped_and_links_encoded(uploads, client):
    response = uploads.upload_bytes(hostile_csv(), "hostile.csv")
    dataset = response.get_json()
    assert [c["name"] for c in dataset["sheets"][0]["columns"]] == HOSTILE
    sheet = dataset["sheets"][0]["name"]
    body = first_look_of(client, dataset["id"], sheet).get_json()
    kinds = {a["kind"]: a for a in body["alerts"]}
    assert set(kinds) == {"missing", "constant", "correlation"}
    page = client.get(f"/datasets/{dataset['id']}").get_data(as_text=True)
    section = page[page.index('id="first-look"'):page.index('id="preview-heading"')]
    assert "<img" not in section and html.escape(HOSTILE[0]) in section
    correlation = kinds["correlation"]["links"][0]["href"]
    assert "%3Cimg" in correlation and "a%26b%3D1%23c" in correlation
    assert html.escape(correlation) in section
    hrefs = re.findall(r'href="(/analyse\?[^"]+)"', section)
    assert hrefs and all("<" not in h and " " not in h for h in hrefs)
    result = client.get(correlation)
    assert result.status_code == 200
    assert html.escape(HOSTILE[1]) in result.get_data(as_text=True)
