"""`/api/v1/charts` and the chart pages through the test client: every kind in every format,
bad input, the cache, standalone HTML, default charts, local assets, and other users' charts."""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import openpyxl
import pytest
from PIL import Image

from rendition.charts import OPTION_NAMES, chart_assets
from tests.auth_actions import AuthActions
from tests.charts_fixtures import KIND_CASES, case_id
from tests.storage_fixtures import stored, stored_keys
from tests.upload_actions import DATA, UploadActions
from web.chart_render import CACHE
from web.chart_schemas import ChartOptionsIn

HOUSING = "HousingPreferences"


@pytest.fixture
def uploads(client):
    return UploadActions(client)


def create(client, body, **kw):
    return client.post("/api/v1/charts", json=body, **kw)


def chart_id(client, body) -> str:
    response = create(client, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def error_of(response) -> str:
    return response.get_json()["error"]["message"]


# -- every kind, every format ---------------------------------------------------------------
def check_png(body: bytes, size: tuple[int, int]) -> None:
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(body)) as image:
        image.verify()
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "PNG" and image.size == size


def check_svg(body: bytes, size: tuple[int, int] = (900, 500)) -> None:
    """Well-formed SVG that a browser shows at `size` CSS pixels (96 per inch, 72pt per inch)."""
    root = ET.fromstring(body)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findall(".//{http://www.w3.org/2000/svg}path")
    shown = tuple(float(root.get(k).removesuffix("pt")) * 96 / 72 for k in ("width", "height"))
    assert shown == pytest.approx(size, abs=0.5)


def check_bokeh(item: dict) -> None:
    assert item["root_id"] and item["doc"]["roots"]
    text = json.dumps(item["doc"])
    assert "ColumnDataSource" in text or "ImageURL" in text


def check_plotly(figure: dict) -> None:
    assert figure["data"], "no traces"
    assert any(
        any(trace.get(k) is not None for k in ("y", "values", "z", "q1", "x"))
        for trace in figure["data"]
    )
    assert "layout" in figure


@pytest.mark.parametrize("dataset", ["2020Q1", "housing"])
def test_every_kind_saves_and_renders_in_every_format(client, uploads, dataset):
    source = "HousingPreferences.csv" if dataset == "housing" else f"{dataset}.xlsx"
    dataset_id = uploads.dataset(source)["id"]
    cases = [c for c in KIND_CASES if c[0] == dataset]
    assert {c[1]["kind"] for c in cases} >= {
        "line", "bar", "scatter", "hist", "box", "heatmap", "small_multiples"}
    for case in cases:
        body = {**case[1], "dataset": dataset_id}
        cid = chart_id(client, body)
        spec = client.get(f"/api/v1/charts/{cid}").get_json()["spec"]
        assert spec["kind"] == body["kind"] and spec["y"] == body.get("y", []), case_id(case)
        png = client.get(f"/api/v1/charts/{cid}.png", query_string={"width": 640, "height": 360})
        assert png.status_code == 200 and png.mimetype == "image/png", case_id(case)
        check_png(png.data, (640, 360))
        if case is cases[0]:
            check_png(client.get(f"/api/v1/charts/{cid}.png").data, (900, 500))
        svg = client.get(f"/api/v1/charts/{cid}.svg")
        assert svg.mimetype == "image/svg+xml", case_id(case)
        check_svg(svg.data)
        bokeh = client.get(f"/api/v1/charts/{cid}.bokeh.json")
        assert bokeh.mimetype == "application/json", case_id(case)
        check_bokeh(bokeh.get_json())
        check_plotly(client.get(f"/api/v1/charts/{cid}.plotly.json").get_json())
    listed = client.get("/api/v1/charts").get_json()
    assert listed["total"] == len(cases)


def test_pie_of_furnishing_status_counts_match_the_csv(client, uploads):
    dataset_id = uploads.dataset("HousingPreferences.csv")["id"]
    cid = chart_id(client, {"dataset": dataset_id, "sheet": HOUSING, "kind": "pie",
                            "x": "FurnishingStatus"})
    figure = client.get(f"/api/v1/charts/{cid}.plotly.json").get_json()
    (trace,) = figure["data"]
    counts = {}
    for line in (DATA / "HousingPreferences.csv").read_text().splitlines()[1:]:
        status = line.rsplit(",", 1)[-1].strip()
        counts[status] = counts.get(status, 0) + 1
    assert dict(zip(trace["labels"], trace["values"], strict=True)) == counts


def test_compare_sheets_plots_the_hpi_and_rhpi_cells(client, uploads):
    dataset_id = uploads.dataset("2020Q1.xlsx")["id"]
    countries = ["Australia", "US"]
    cid = chart_id(client, {"dataset": dataset_id, "sheet": "HPI", "sheets": ["RHPI"],
                            "kind": "compare_sheets", "y": countries})
    traces = {t["name"]: t for t in client.get(f"/api/v1/charts/{cid}.plotly.json")
              .get_json()["data"]}
    book = openpyxl.load_workbook(DATA / "2020Q1.xlsx", read_only=True, data_only=True)
    sheets = {sheet: list(book[sheet].iter_rows(values_only=True)) for sheet in ("HPI", "RHPI")}
    book.close()  # a read-only workbook holds its file open until closed (a ResourceWarning)
    for sheet, rows in sheets.items():
        header = rows[0]
        data = [r for r in rows[1:] if r[0] is not None]
        quarters = [str(r[0]) for r in data]  # "1975:Q1"
        dates = [f"{q[:4]}-{(int(q[-1]) - 1) * 3 + 1:02d}-01" for q in quarters]
        for country in countries:
            column = header.index(country)
            trace = traces[f"{country} — {sheet}"]
            assert trace["x"] == dates
            np.testing.assert_allclose(trace["y"], [float(r[column]) for r in data], rtol=1e-12)
    book.close()
    assert len(traces) == 4


# -- bad input ------------------------------------------------------------------------------
def _numbers_csv() -> bytes:
    """A sheet with a negative column and 60 numeric columns (too many series)."""
    rng = np.random.default_rng(3)
    head = ["label", "change"] + [f"c{i}" for i in range(60)]
    lines = [",".join(head)]
    for i in range(12):
        values = [f"{v:.3f}" for v in rng.normal(size=60)]
        lines.append(",".join([f"row{i}", f"{(-1) ** i * (i + 1)}", *values]))
    return ("\n".join(lines) + "\n").encode()


BAD = [
    ({"kind": "spiral", "y": ["Price"]}, 422, ["kind", "spiral"]),
    ({"kind": "line", "y": ["Prize"]}, 400, ["Prize", "Did you mean 'Price'"]),
    ({"kind": "line", "y": ["FurnishingStatus"]}, 422, ["FurnishingStatus"]),
    ({"kind": "scatter", "x": "FurnishingStatus", "y": ["Price"]}, 422, ["FurnishingStatus"]),
    ({"kind": "line", "y": []}, 400, ["Empty selection"]),
    ({"kind": "heatmap", "y": ["Price"]}, 400, ["at least 2"]),
    ({"kind": "line", "y": ["Price"], "sheet": "Sheet9"}, 400, ["Sheet9"]),
    ({"kind": "line", "y": ["Price"], "options": {"colour": "red"}}, 422, ["colour"]),
    ({"kind": "line", "y": ["Price"], "options": {"bins": 0}}, 422, ["bins"]),
    ({"kind": "hist", "x": "Area", "y": ["Price"]}, 400, ["no 'x'"]),
    ({"kind": "line", "y": ["Price"], "options": {"start": "2000Q1"}}, 400, ["start/end"]),
    ({"kind": "line", "y": ["Price", "Price"]}, 400, ["twice"]),
]


@pytest.mark.parametrize(("change", "status", "words"), BAD,
                         ids=[f"{b[0]['kind']}-{i}" for i, b in enumerate(BAD)])
def test_bad_spec_is_refused_naming_the_problem(client, uploads, change, status, words):
    dataset_id = uploads.dataset("HousingPreferences.csv")["id"]
    body = {"dataset": dataset_id, "sheet": HOUSING, **change}
    for url in ("/api/v1/charts", "/api/v1/charts/preview?format=png"):
        response = client.post(url, json=body)
        assert response.status_code == status, (url, response.get_json())
        message = error_of(response)
        for word in words:
            assert word in message, message
    assert client.get("/api/v1/charts").get_json()["total"] == 0


def test_negative_pie_and_too_many_series_are_refused(client, uploads):
    dataset = uploads.upload_bytes(_numbers_csv(), "numbers.csv").get_json()
    sheet = dataset["sheets"][0]["name"]
    pie = create(client, {"dataset": dataset["id"], "sheet": sheet, "kind": "pie",
                          "x": "label", "y": ["change"]})
    assert pie.status_code == 422
    assert "negative" in error_of(pie) and "change" in error_of(pie)
    many = create(client, {"dataset": dataset["id"], "sheet": sheet, "kind": "line",
                           "y": [f"c{i}" for i in range(60)]})
    assert many.status_code == 422
    assert "Too many" in error_of(many) and "60" in error_of(many)
    assert client.get("/api/v1/charts").get_json()["total"] == 0


def test_unknown_dataset_is_404(client):
    response = create(client, {"dataset": "nope", "sheet": "x", "kind": "line", "y": ["a"]})
    assert response.status_code == 404 and "nope" in error_of(response)


def test_size_caps(client, uploads):
    dataset_id = uploads.dataset("HousingPreferences.csv")["id"]
    cid = chart_id(client, {"dataset": dataset_id, "sheet": HOUSING, "kind": "hist",
                            "y": ["Price"]})
    for query in ({"width": 100}, {"width": 5000}, {"height": 9000}, {"width": "wide"}):
        response = client.get(f"/api/v1/charts/{cid}.png", query_string=query)
        assert response.status_code == 422, query
        assert next(iter(query)) in error_of(response)
    check_png(client.get(f"/api/v1/charts/{cid}.png?width=3000&height=2000").data, (3000, 2000))


# -- saving, caching, preview ----------------------------------------------------------------
def test_same_spec_same_owner_returns_the_same_chart(client, uploads):
    dataset_id = uploads.dataset("HousingPreferences.csv")["id"]
    body = {"dataset": dataset_id, "sheet": HOUSING, "kind": "scatter", "x": "Area",
            "y": ["Price"], "options": {"title": None}}
    first = create(client, body).get_json()
    again = create(client, {**body, "options": {}}).get_json()
    assert first["created"] is True and again["created"] is False
    assert again["id"] == first["id"] and first["url"] == f"/charts/{first['id']}"
    other = create(client, {**body, "options": {"log_y": True}}).get_json()
    assert other["id"] != first["id"]


def test_rendered_charts_are_cached_in_memory_and_on_disk(app, client, uploads):
    dataset_id = uploads.dataset("HousingPreferences.csv")["id"]
    cid = chart_id(client, {"dataset": dataset_id, "sheet": HOUSING, "kind": "box",
                            "group": "FurnishingStatus", "y": ["Price"]})
    first = client.get(f"/api/v1/charts/{cid}.svg")
    files = [stored(app, key) for key in stored_keys(app, "charts/") if key.endswith(".svg")]
    assert len(files) == 1 and files[0].read_bytes() == first.data
    CACHE.clear()
    files[0].write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")  # proves the store read
    assert client.get(f"/api/v1/charts/{cid}.svg").data == files[0].read_bytes()
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert client.get(f"/api/v1/charts/{cid}.svg",
                      headers={"If-None-Match": etag}).status_code == 304


def test_preview_renders_without_saving(client, uploads):
    dataset_id = uploads.dataset("2020Q1.xlsx")["id"]
    body = {"dataset": dataset_id, "sheet": "HPI", "kind": "line", "y": ["Spain"],
            "options": {"start": "2000Q1", "end": "2009Q4"}}
    png = client.post("/api/v1/charts/preview?format=png&width=500&height=300", json=body)
    check_png(png.data, (500, 300))
    assert png.headers["Cache-Control"] == "no-store"
    figure = client.post("/api/v1/charts/preview?format=plotly", json=body).get_json()
    assert figure["data"][0]["x"][0] == "2000-01-01" and len(figure["data"][0]["x"]) == 40
    check_bokeh(client.post("/api/v1/charts/preview?format=bokeh", json=body).get_json())
    check_svg(client.post("/api/v1/charts/preview?format=svg&width=640&height=400",
                          json=body).data, (640, 400))
    assert client.post("/api/v1/charts/preview?format=gif", json=body).status_code == 422
    assert client.get("/api/v1/charts").get_json()["total"] == 0


def test_delete_chart(client, uploads):
    dataset_id = uploads.dataset("HousingPreferences.csv")["id"]
    cid = chart_id(client, {"dataset": dataset_id, "sheet": HOUSING, "kind": "hist",
                            "y": ["Area"]})
    assert client.delete(f"/api/v1/charts/{cid}").status_code == 204
    assert client.get(f"/api/v1/charts/{cid}").status_code == 404
    assert client.get(f"/api/v1/charts/{cid}.png").status_code == 404


# -- standalone HTML -------------------------------------------------------------------------
class ScriptCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.sources, self.title = 0, [], ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        self.sources += [v for k, v in attrs if k in ("src", "href")]
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


@pytest.mark.parametrize("renderer", ["bokeh", "plotly"])
def test_standalone_html_inlines_the_library_and_escapes_the_data(client, uploads, renderer):
    dataset_id = uploads.dataset("HousingPreferences.csv")["id"]
    title = "</script><script>alert(1)</script> & <b>"
    cid = chart_id(client, {"dataset": dataset_id, "sheet": HOUSING, "kind": "bar",
                            "x": "FurnishingStatus", "y": ["Price"], "options": {"title": title}})
    response = client.get(f"/api/v1/charts/{cid}.html?renderer={renderer}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.get_data(as_text=True)
    library = next(p for n, p in chart_assets().files.items() if n.startswith(renderer))
    assert library.read_text(encoding="utf-8")[:2000] in text
    parser = ScriptCounter()
    parser.feed(text)
    assert parser.scripts == 2 and parser.sources == []
    assert parser.title == title
    assert "alert(1)</script>" not in text


# -- default charts --------------------------------------------------------------------------
def test_default_charts_for_a_workbook(client, uploads):
    dataset_id = uploads.dataset("2020Q1.xlsx")["id"]
    charts = client.get(f"/api/v1/charts/defaults?dataset={dataset_id}").get_json()["charts"]
    kinds = [c["spec"]["kind"] for c in charts]
    assert "compare_sheets" in kinds and kinds[0] == "line"
    compare = charts[kinds.index("compare_sheets")]
    assert compare["spec"]["sheets"] == ["HPI", "RHPI"]
    assert compare["builder_url"] == f"/charts/new?dataset={dataset_id}&default={compare['index']}"
    check_png(client.get(compare["png_url"] + "?width=400&height=250").data, (400, 250))
    page = client.get(compare["builder_url"]).get_data(as_text=True)
    assert "compare_sheets" in page and "RHPI" in page
    assert client.get(f"/api/v1/charts/defaults/{dataset_id}/99.png").status_code == 404
    assert client.get("/api/v1/charts/defaults?dataset=nope").status_code == 404


# -- pages and assets ------------------------------------------------------------------------
def test_assets_are_the_installed_versions_with_long_cache(client):
    assets = chart_assets()
    for name, path in assets.files.items():
        with client.get(f"/assets/js/{name}") as response:
            assert response.status_code == 200 and response.mimetype == "text/javascript"
            assert response.data == path.read_bytes()
            assert "immutable" in response.headers["Cache-Control"]
            assert "max-age=31536000" in response.headers["Cache-Control"]
    assert f"bokeh-{assets.bokeh_version}.min.js" in assets.files
    assert client.get("/assets/js/jquery.js").status_code == 404


def test_pages_render_with_local_scripts_only(client, uploads):
    dataset_id = uploads.dataset("2020Q1.xlsx")["id"]
    cid = chart_id(client, {"dataset": dataset_id, "sheet": "HPI", "kind": "line",
                            "y": ["US", "UK"]})
    pages = [f"/charts/new?dataset={dataset_id}", "/charts"] + [
        f"/charts/{cid}?renderer={r}" for r in ("png", "svg", "bokeh", "plotly")]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        for tag in re.findall(r"<script[^>]*>", html):
            assert f'nonce="{nonce}"' in tag, (url, tag)
            assert not re.search(r"src=\"(https?:)?//", tag), (url, tag)
    plotly_page = client.get(f"/charts/{cid}?renderer=plotly").get_data(as_text=True)
    assert f"/api/v1/charts/{cid}.plotly.json" in plotly_page
    assert "/assets/js/plotly-" in plotly_page
    listing = client.get("/charts").get_data(as_text=True)
    assert f'href="/charts/{cid}"' in listing
    assert client.get(f"/charts/{cid}?renderer=gif").status_code == 400


def test_option_schema_lists_every_option_of_the_spec():
    assert set(ChartOptionsIn().fields) == set(OPTION_NAMES)


def test_openapi_documents_the_charts_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/charts", "/api/v1/charts/preview", "/api/v1/charts/{chart_id}",
                 "/api/v1/charts/{chart_id}.png", "/api/v1/charts/{chart_id}.svg",
                 "/api/v1/charts/{chart_id}.bokeh.json", "/api/v1/charts/{chart_id}.plotly.json",
                 "/api/v1/charts/{chart_id}.html"):
        assert path in paths, path
    post = paths["/api/v1/charts"]["post"]
    assert "201" in post["responses"]
    assert "image/png" in paths["/api/v1/charts/{chart_id}.png"]["get"]["responses"]["200"][
        "content"]


# -- other users -----------------------------------------------------------------------------
def test_another_users_chart_is_404_on_the_api_and_the_page(make_app):
    app = make_app(AUTH="on")
    client = app.test_client()
    auth = AuthActions(app, client)
    auth.create_user("ada")
    auth.create_user("bob")
    auth.login("ada")
    dataset_id = UploadActions(client).dataset("HousingPreferences.csv")["id"]
    cid = chart_id(client, {"dataset": dataset_id, "sheet": HOUSING, "kind": "hist",
                            "y": ["Price"]})
    assert client.get(f"/charts/{cid}").status_code == 200
    auth.logout()
    auth.login("bob")
    for url in (f"/api/v1/charts/{cid}", f"/api/v1/charts/{cid}.png",
                f"/api/v1/charts/{cid}.svg", f"/api/v1/charts/{cid}.bokeh.json",
                f"/api/v1/charts/{cid}.plotly.json", f"/api/v1/charts/{cid}.html",
                f"/charts/{cid}", f"/charts/new?chart={cid}"):
        response = client.get(url)
        assert response.status_code == 404, url
    assert client.delete(f"/api/v1/charts/{cid}").status_code == 404
    assert client.post(f"/charts/{cid}/delete").status_code == 404
    assert client.get("/api/v1/charts").get_json() == {"charts": [], "total": 0}
    # bob cannot chart ada's dataset either, nor preview it
    body = {"dataset": dataset_id, "sheet": HOUSING, "kind": "hist", "y": ["Price"]}
    assert create(client, body).status_code == 404
    assert client.post("/api/v1/charts/preview", json=body).status_code == 404
    auth.logout()
    auth.login("ada")
    assert client.get(f"/api/v1/charts/{cid}.png").status_code == 200


def test_the_disk_cache_gives_up_the_least_recently_used_files(tmp_path):
    from store.objects import LocalObjects
    from web.chart_render import prune_disk

    for n, name in enumerate(["old", "middle", "new"]):
        path = tmp_path / "charts" / "ab" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 100)
        os.utime(path, (1_000_000 + n, 1_000_000 + n))
    writing = tmp_path / "charts" / "ab" / ".tmp-being-written"
    writing.write_bytes(b"y" * 500)
    assert prune_disk(LocalObjects(tmp_path), 250) == 1
    assert sorted(p.name for p in (tmp_path / "charts" / "ab").iterdir()) == [
        ".tmp-being-written", "middle.png", "new.png"]
    assert prune_disk(LocalObjects(tmp_path), 250) == 0


def test_rendering_keeps_the_chart_folder_within_its_budget(make_app, storage_backend):
    app = make_app(CHART_CACHE_BYTES=1)
    client = app.test_client()
    dataset_id = UploadActions(client).dataset("HousingPreferences.csv")["id"]
    stale = stored(app, "charts/00/stale.png")
    stale.write_bytes(b"old chart")
    if storage_backend == "local":  # S3 knows when it was written, which is long enough ago
        os.utime(stale.objects.local_path(stale.key), (1_000_000, 1_000_000))
    CACHE._writes = 0  # the next write checks the budget
    cid = chart_id(client, {"dataset": dataset_id, "sheet": HOUSING, "kind": "scatter",
                            "x": "Area", "y": ["Price"]})
    with client.get(f"/api/v1/charts/{cid}.png") as response:
        assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    assert not stale.exists()


def test_a_change_to_the_drawing_code_draws_charts_afresh(tmp_path):
    """Regression: cached PNGs outlived an upgrade of the code that draws them."""
    import shutil
    from pathlib import Path

    import rendition.charts
    from web.chart_render import _VERSIONS, drawing_version

    source = Path(rendition.charts.__file__).parent
    copy = tmp_path / "charts"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert drawing_version(copy) == drawing_version() == _VERSIONS
    render = copy / "render_mpl.py"
    render.write_text(render.read_text().replace('INK = "#333333"', 'INK = "#222222"'))
    assert drawing_version(copy) != _VERSIONS


def test_a_dataset_page_and_its_thumbnails_read_each_sheet_once(client, uploads, monkeypatch):
    """The page and each suggested chart's PNG need the sheets' metadata; a million-row sheet
    takes a second to describe, so it is worked out once per stored parse."""
    import web.charts
    from rendition.charts import sheet_meta

    described = []

    def counting(frame):
        described.append(frame.shape)
        return sheet_meta(frame)

    web.charts.SHEET_META.clear()
    monkeypatch.setattr(web.charts, "sheet_meta", counting)
    dataset = uploads.dataset("HousingPreferences.csv")
    assert client.get(f"/datasets/{dataset['id']}").status_code == 200
    for index in range(3):
        with client.get(f"/api/v1/charts/defaults/{dataset['id']}/{index}.png?width=480"
                        "&height=270") as response:
            assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    assert described == [(545, 13)]
