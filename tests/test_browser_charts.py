"""Charts in real Chromium: each renderer draws on the chart page under the real CSP, hostile
column names never execute, the builder previews without reloading, and saved HTML works offline."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.upload_actions import UploadActions

pytestmark = pytest.mark.browser

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"


def api(live_server):
    return live_server.app.test_client()


def upload(live_server, name: str) -> str:
    return UploadActions(api(live_server)).dataset(name)["id"]


def save(live_server, body: dict) -> str:
    response = api(live_server).post("/api/v1/charts", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def wait_drawn(p, renderer: str) -> None:
    """Until the chart is on screen: an image decoded, or Bokeh's canvas / Plotly's SVG."""
    if renderer in ("png", "svg"):
        p.wait_for_function(
            "() => { const i = document.querySelector('#chart-image');"
            " return i && i.complete && i.naturalWidth > 0; }", timeout=20_000)
        return
    p.wait_for_selector("#chart-holder[data-state=ready]", timeout=20_000)
    if renderer == "bokeh":
        assert p.locator("#chart-holder canvas").count() >= 1
    else:
        assert p.locator("#chart-holder svg.main-svg").count() >= 1


def refuse_dialogs(p) -> list[str]:
    opened: list[str] = []

    def on_dialog(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    p.on("dialog", on_dialog)
    return opened


@pytest.mark.parametrize("renderer", ["png", "svg", "bokeh", "plotly"])
def test_chart_page_draws_with_each_renderer(live_server, page, renderer):
    dataset_id = upload(live_server, "2020Q1.xlsx")
    cid = save(live_server, {"dataset": dataset_id, "sheet": "HPI", "sheets": ["RHPI"],
                             "kind": "compare_sheets", "y": ["Australia", "US"]})
    p = page.page
    p.goto(f"{live_server.url}/charts/{cid}?renderer={renderer}")
    wait_drawn(p, renderer)
    if renderer in ("png", "svg"):
        assert p.eval_on_selector("#chart-image", "i => i.naturalWidth") == 900
    if renderer == "plotly":
        legend = p.locator("#chart-holder .legendtext").all_text_contents()
        assert legend == ["Australia — HPI", "Australia — RHPI", "US — HPI", "US — RHPI"]
    if renderer in ("bokeh", "plotly"):
        # hover, box-zoom and wheel: the libraries' interactive paths run under the CSP too
        box = p.locator("#chart-holder").bounding_box()
        x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
        p.mouse.move(x, y)
        p.mouse.down()
        p.mouse.move(x + 80, y + 40, steps=5)
        p.mouse.up()
        p.mouse.wheel(0, -200)
        p.wait_for_timeout(300)
    assert p.locator("h1").inner_text() == "HPI vs RHPI: Australia, US"
    page.check_accessibility()


def hostile_csv() -> bytes:
    rng = np.random.default_rng(11)
    lines = [f"{IMG},{SCRIPT},kind"]
    for i in range(40):
        kind = (IMG, SCRIPT, "plain")[i % 3]
        lines.append(f"{rng.normal(10, 2):.3f},{rng.normal(5, 1):.3f},{kind}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("renderer", ["bokeh", "plotly"])
def test_hostile_column_names_never_execute(live_server, page, renderer):
    response = UploadActions(api(live_server)).upload_bytes(hostile_csv(), "hostile.csv")
    dataset = response.get_json()
    sheet = dataset["sheets"][0]
    assert [c["name"] for c in sheet["columns"]] == [IMG, SCRIPT, "kind"]
    line = save(live_server, {"dataset": dataset["id"], "sheet": sheet["name"], "kind": "line",
                              "y": [IMG, SCRIPT], "options": {"title": SCRIPT}})
    box = save(live_server, {"dataset": dataset["id"], "sheet": sheet["name"], "kind": "box",
                             "group": "kind", "y": [IMG]})
    p = page.page
    opened = refuse_dialogs(p)
    for cid, heading in ((line, SCRIPT), (box, f"Box plot: {IMG} ({sheet['name']})")):
        p.goto(f"{live_server.url}/charts/{cid}?renderer={renderer}")
        wait_drawn(p, renderer)
        assert p.locator("h1").inner_text() == heading
        if renderer == "plotly" and cid == line:
            assert p.locator("#chart-holder .legendtext").all_text_contents() == [IMG, SCRIPT]
            assert p.locator("#chart-holder .gtitle").text_content() == SCRIPT
        p.mouse.move(500, 450)  # hover tooltips render the names too
        p.wait_for_timeout(200)
    assert opened == []
    if renderer == "plotly":
        return  # the builder's part is the same for both renderers: run it once
    # the builder puts the names in selects and labels, and previews them
    p.goto(f"{live_server.url}/charts/new?dataset={dataset['id']}&renderer={renderer}")
    p.wait_for_selector("#preview[data-renders='1']", timeout=20_000)
    labels = p.locator("#y-list label").all_inner_texts()
    assert labels == [IMG, SCRIPT]
    p.check(f"#y-list input[value='{SCRIPT}']")
    p.wait_for_selector("#preview[data-renders='2']", timeout=20_000)
    assert opened == []
    assert p.evaluate("document.querySelectorAll('img[src=x], body script:not([src])').length") \
        == 0


def test_builder_previews_without_reloading_and_saves(live_server, page):
    dataset_id = upload(live_server, "2020Q1.xlsx")
    p = page.page
    p.goto(f"{live_server.url}/charts/new?dataset={dataset_id}")
    p.wait_for_selector("#preview[data-renders='1'] img", timeout=20_000)
    first = p.get_attribute("#preview img", "src")
    assert first.startswith("blob:")
    p.evaluate("window.notReloaded = true")
    page.check_accessibility()

    # kind: the fields follow KIND_FIELDS (a histogram takes no x; compare_sheets takes sheets)
    p.select_option("#kind", "hist")
    assert p.locator("#field-x").is_hidden() and p.locator("#field-sheets").is_hidden()
    p.wait_for_selector("#preview[data-renders='2'] img", timeout=20_000)
    p.select_option("#kind", "compare_sheets")
    assert p.locator("#field-x").is_hidden() and p.locator("#field-sheets").is_visible()
    assert p.locator("#sheets-list input:checked").evaluate("i => i.value") == "RHPI"
    p.wait_for_selector("#preview[data-renders='3'] img", timeout=20_000)
    p.check("#y-list input[value='US']")
    p.wait_for_selector("#preview[data-renders='4'] img", timeout=20_000)
    assert p.get_attribute("#preview img", "src") != first

    p.click("label[for=renderer-plotly]")
    p.wait_for_selector("#preview[data-renders='5'] svg.main-svg", timeout=20_000)
    assert p.locator("#preview .legendtext").all_text_contents() == [
        "Australia — HPI", "Australia — RHPI", "US — HPI", "US — RHPI"]
    p.fill("#start", "2000Q1")
    p.wait_for_selector("#preview[data-renders='6']", timeout=20_000)
    p.click("label[for=renderer-bokeh]")
    p.wait_for_selector("#preview[data-renders='7']", timeout=20_000)
    assert p.locator("#preview canvas").count() >= 1
    assert p.evaluate("window.notReloaded") is True
    page.check_accessibility()

    # a bad period is explained beside the preview, and nothing is drawn over it
    p.fill("#start", "someday")
    p.wait_for_selector("#preview-error:not(.d-none)", timeout=20_000)
    assert "'start'" in p.inner_text("#preview-error")
    page.console_errors[:] = [e for e in page.console_errors if "400" not in e]
    p.fill("#start", "2000Q1")
    p.wait_for_selector("#preview-error.d-none", state="attached", timeout=20_000)

    with p.expect_navigation(url=re.compile(r"/charts/[\w-]+\?renderer=bokeh$")):
        p.click("#save-chart")
    wait_drawn(p, "bokeh")
    cid = p.url.rsplit("/", 1)[1].split("?")[0]
    spec = api(live_server).get(f"/api/v1/charts/{cid}").get_json()["spec"]
    assert spec == {"dataset": dataset_id, "kind": "compare_sheets", "sheet": "HPI",
                    "x": None, "y": ["Australia", "US"], "group": None, "sheets": ["RHPI"],
                    "options": {"start": "2000Q1"}}


@pytest.mark.parametrize("renderer", ["bokeh", "plotly"])
def test_standalone_html_draws_with_the_network_off(live_server, page, renderer):
    dataset_id = upload(live_server, "HousingPreferences.csv")
    cid = save(live_server, {"dataset": dataset_id, "sheet": "HousingPreferences",
                             "kind": "scatter", "x": "Area", "y": ["Price"],
                             "options": {"title": IMG}})
    html = api(live_server).get(f"/api/v1/charts/{cid}.html?renderer={renderer}").get_data(
        as_text=True)
    p = page.page
    opened = refuse_dialogs(p)
    p.set_content(html, wait_until="load")  # about:blank: every request but data: is refused
    selector = "#chart canvas" if renderer == "bokeh" else "#chart svg.main-svg"
    p.wait_for_selector(selector, state="attached", timeout=20_000)
    assert p.locator("h1").inner_text() == IMG
    assert opened == []


def test_the_builder_starts_a_scatter_and_a_pie_from_the_data(live_server, page, tmp_path):
    """Regression (issue 17): a scatter started as Price against Price (R² = 1), a pie as the
    sum of Price by a yes/no column."""
    import pandas as pd

    from tests.upload_actions import DATA

    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    r = frame.select_dtypes("number").corr().abs()
    r = r.where(np.triu(np.ones(r.shape, dtype=bool), k=1))
    y, x = r.stack().idxmax()  # the most correlated pair; y the earlier column
    counts = frame.select_dtypes(exclude="number").nunique()
    category = next(c for c, n in counts.items() if 3 <= n <= 12)
    dataset_id = upload(live_server, "HousingPreferences.csv")
    p = page.page
    p.goto(f"{live_server.url}/charts/new?dataset={dataset_id}")
    p.wait_for_selector("#preview[data-renders='1'] img", timeout=20_000)
    p.select_option("#kind", "scatter")
    assert p.input_value("#x") == x
    assert p.locator("#y-list input:checked").evaluate_all("l => l.map(i => i.value)") == [y]
    p.select_option("#kind", "pie")
    assert p.input_value("#x") == category
    assert p.locator("#y-list input:checked").count() == 0  # counts of rows
    p.wait_for_function("() => +document.querySelector('#preview').dataset.renders >= 2",
                        timeout=20_000)
    page.check_accessibility()
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    p.screenshot(path=str(tmp_path / "builder-phone.png"), full_page=True)  # --basetemp
