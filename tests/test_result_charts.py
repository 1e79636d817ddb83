"""A chart with every result: describe's histograms and the price-index lines, checked against
numpy on the real housing CSV and a basket computed by hand, as JSON, PNG, Plotly and on the
Analyse page."""

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis.histograms import MAX_BINS, histogram
from tests.upload_actions import DATA, UploadActions

BASKET = b"item,p0,q0,p1,q1\nbread,2,10,3,8\nmilk,1,20,1.5,25\ntea,4,5,4,5\neggs,3,12,3.6,\n"


@pytest.fixture
def housing(client):
    return UploadActions(client).dataset("HousingPreferences.csv")


@pytest.fixture
def basket(client):
    return UploadActions(client).upload_bytes(BASKET, "basket.csv").get_json()


def chart_url(dataset: dict, kind: str, fmt: str = "png") -> str:
    return f"/api/v1/datasets/{dataset['id']}/analyses/{kind}/chart.{fmt}"


def test_describe_histograms_equal_numpy_on_the_housing_csv(client, housing):
    body = client.get(f"/api/v1/datasets/{housing['id']}/analyses/describe"
                      "?sheet=HousingPreferences").get_json()
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    assert sorted(body["histograms"]) == sorted(numeric)  # JSON objects come sorted
    for name in numeric:
        counts, edges = np.histogram(frame[name].to_numpy(float), bins="auto")
        got = body["histograms"][name]
        assert got["rule"] == "auto"
        np.testing.assert_allclose(got["edges"], edges, rtol=1e-12)
        assert got["counts"] == counts.tolist()
        assert sum(got["counts"]) == frame[name].notna().sum()


def test_a_histogram_leaves_out_missing_values_and_caps_its_bins():
    values = np.array([1.0, np.nan, 2.0, 2.0, np.inf, 3.0])
    counts, edges = np.histogram([1.0, 2.0, 2.0, 3.0], bins="auto")
    got = histogram(values)
    assert got["counts"] == counts.tolist() and got["edges"] == edges.tolist()
    # a tight middle and far outliers: Freedman-Diaconis asks for thousands of bins
    spiky = np.concatenate([np.linspace(0, 1, 1000), [1e6, -1e6]])
    assert len(np.histogram_bin_edges(spiky, "auto")) - 1 > MAX_BINS
    capped = histogram(spiky)
    assert capped["rule"] == "equal" and len(capped["counts"]) == MAX_BINS
    assert capped["counts"] == np.histogram(spiky, bins=MAX_BINS)[0].tolist()
    assert histogram(np.array([np.nan, np.inf])) is None


def test_a_histogram_of_values_whose_range_overflows_still_counts_them():
    """±1e308: max - min is inf in float64, which numpy's bin rules cannot take."""
    values = np.array([-1e308, -5e307, 0.0, 1e307, 1e308])
    got = histogram(values)
    assert sum(got["counts"]) == 5 and all(np.isfinite(got["edges"]))
    assert got["edges"][0] == -1e308 and got["edges"][-1] == pytest.approx(1e308)
    edges = np.asarray(got["edges"])
    expected = [int(((values >= lo) & ((values < hi) | (i == len(edges) - 2))).sum())
                for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))]
    assert got["counts"] == expected


def test_describe_histogram_png_and_plotly(client, housing):
    query = "?sheet=HousingPreferences&series=Area&width=300&height=200"
    response = client.get(chart_url(housing, "describe") + query)
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    image.verify()
    assert image.size == (300, 200)
    grid = Image.open(io.BytesIO(client.get(chart_url(housing, "describe")
                                            + "?sheet=HousingPreferences").data))
    assert grid.size == (900, 600)
    figure = client.get(chart_url(housing, "describe", "plotly") + query).get_json()["figure"]
    (bars,) = figure["data"]
    counts, edges = np.histogram(pd.read_csv(DATA / "HousingPreferences.csv")["Area"], "auto")
    assert bars["y"] == counts.tolist()
    np.testing.assert_allclose(bars["x"], (edges[:-1] + edges[1:]) / 2)
    np.testing.assert_allclose(bars["width"], np.diff(edges))


@pytest.mark.parametrize(("query", "status", "phrase"), [
    ("&series=FurnishingStatus", 400, "FurnishingStatus"),
    ("&series=Area&width=20", 400, "100 to 4000 pixels"),
    ("&series=Area&width=wide", 400, "whole number"),
])
def test_bad_histogram_requests_say_why(client, housing, query, status, phrase):
    response = client.get(chart_url(housing, "describe") + "?sheet=HousingPreferences" + query)
    assert response.status_code == status
    assert phrase in response.get_json()["error"]["message"]


def test_analyse_page_shows_a_histogram_per_numeric_column(client, housing):
    html = client.get(f"/analyse?dataset={housing['id']}&kind=describe"
                      "&sheet=HousingPreferences&run=1").get_data(as_text=True)
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    images = re.findall(r'<figure class="mb-0" data-histogram="([^"]+)">\s*<img[^>]*'
                        r'src="([^"]+)" alt="([^"]+)"', html)
    assert [name for name, _, _ in images] == numeric
    for name, src, alt in images:
        counts, _ = np.histogram(frame[name].to_numpy(float), bins="auto")
        assert alt.startswith(f"Histogram of {name}: {counts.sum()} values in {len(counts)} bins")
        assert client.get(src.replace("&amp;", "&")).mimetype == "image/png"
    assert "of the first" not in html  # six columns: not capped
    # the numbers first: on a phone 24 histograms above the table pushed it 2,000 px down
    assert html.index('<table class="table') < html.index('id="histograms"')


def test_the_page_says_when_histograms_are_capped(client):
    columns = [f"c{i}" for i in range(30)]
    rows = "\n".join(",".join(str((i * j) % 7 + j) for j in range(30)) for i in range(12))
    content = (",".join(columns) + "\n" + rows + "\n").encode()
    dataset = UploadActions(client).upload_bytes(content, "wide.csv").get_json()
    html = client.get(f"/analyse?dataset={dataset['id']}&kind=describe&sheet=wide&run=1"
                      ).get_data(as_text=True)
    assert html.count("data-histogram=") == 24
    assert "of the first 24 of 30 numeric columns" in html


def test_price_index_lines_equal_the_basket_by_hand(client, basket):
    """Eggs have no current quantity: left out of every index, as the table says."""
    laspeyres = 100 * (3 * 10 + 1.5 * 20 + 4 * 5) / (2 * 10 + 1 * 20 + 4 * 5)
    paasche = 100 * (3 * 8 + 1.5 * 25 + 4 * 5) / (2 * 8 + 1 * 25 + 4 * 5)
    fisher = np.sqrt(laspeyres * paasche)
    query = "?sheet=basket&p0=p0&q0=q0&p1=p1&q1=q1"
    figure = client.get(chart_url(basket, "price_index", "plotly") + query).get_json()["figure"]
    lines = {t["name"]: t["y"] for t in figure["data"]}
    assert list(lines) == ["Laspeyres", "Paasche", "Fisher"]
    for name, value in (("Laspeyres", laspeyres), ("Paasche", paasche), ("Fisher", fisher)):
        assert lines[name] == pytest.approx([100.0, value], rel=1e-12)
    png = client.get(chart_url(basket, "price_index") + query)
    assert png.mimetype == "image/png" and Image.open(io.BytesIO(png.data)).size == (900, 600)
    only_laspeyres = client.get(chart_url(basket, "price_index", "plotly")
                                + "?sheet=basket&p0=p0&q0=q0&p1=p1").get_json()["figure"]
    assert [t["name"] for t in only_laspeyres["data"]] == ["Laspeyres"]
    html = client.get(f"/analyse?dataset={basket['id']}&kind=price_index&{query[1:]}&run=1"
                      ).get_data(as_text=True)
    assert 'alt="Chart of the laspeyres, paasche and fisher price indices"' in html
    assert "{'laspeyres'" not in html  # the formulas are in the table, not printed as a dict


def test_describe_json_is_still_json_safe_with_histograms(client, housing):
    body = client.get(f"/api/v1/datasets/{housing['id']}/analyses/describe"
                      "?sheet=HousingPreferences").get_data(as_text=True)
    json.loads(body, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
