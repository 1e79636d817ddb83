"""The first look in Chromium: the dataset page shows the sheet's alerts, a link lands on the
analysis with its result, axe stays clean, and the list fits a phone."""

import re

import pandas as pd
import pytest

from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def upload(live_server, p, filename: str) -> None:
    p.goto(live_server.url + "/upload")
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(DATA / filename))


def test_alerts_on_the_dataset_page_link_to_their_analysis(live_server, page, tmp_path):
    p = page.page
    upload(live_server, p, "2020Q1.xlsx")
    look = p.locator("#first-look")
    assert look.locator("h2").inner_text().startswith("First look")
    first = look.locator("li[data-alert]").first
    assert first.get_attribute("data-alert") == "correlation"
    text = first.inner_text()
    a, b = re.search(r"· (.+) and (.+): r = ", text).groups()
    hpi = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, index_col=0,
                        engine="openpyxl")
    hpi = hpi.loc[:, [c for c in hpi.columns if isinstance(c, str) and not c.startswith(
        "Unnamed")]].apply(pd.to_numeric, errors="coerce").dropna(how="all")
    r = float(re.search(r"r = (-?\d+\.\d+)", text).group(1))
    assert r == pytest.approx(hpi[a].corr(hpi[b]), abs=0.0005)
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / "first-look-desktop.png"), full_page=True)
    first.get_by_role("link", name="correlation").click()
    p.wait_for_url(re.compile(r"/analyse\?.*kind=correlation"))
    p.wait_for_selector("#result table")
    assert p.locator("#kind").input_value() == "correlation"
    assert "Correlation matrix · HPI" in p.inner_text("#result h2")
    headers = p.locator("#result table thead th").all_inner_texts()
    assert a in headers and b in headers
    assert f"{r:.3f}"[:-1] in p.inner_text("#result table")
    page.check_accessibility()


def test_series_alerts_and_the_phone_width(live_server, page, tmp_path):
    p = page.page
    upload(live_server, p, "UK_house_price_since_1952.xls")
    look = p.locator("#first-look")
    stops = look.locator('li[data-alert="stops_early"]')
    assert "stop at 2015Q2" in stops.inner_text()
    assert stops.locator(".badge").inner_text() == "Warning"
    more = look.locator("details summary")
    more.click()
    assert look.locator('li[data-alert="correlation"]').first.is_visible()
    page.check_accessibility()
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / "first-look-phone.png"), full_page=True)
    stops.get_by_role("link", name="line chart").click()
    p.wait_for_url(re.compile(r"/charts/new\?.*kind=line"))
    assert p.locator("#kind").input_value() == "line"
