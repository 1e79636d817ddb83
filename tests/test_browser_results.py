"""A chart with every result, in Chromium: describe's histograms, the growth table folded and
paged by keyboard, and "Add to report" from the Analyse page to a built PDF whose numbers are
computed here."""

import re

import numpy as np
import pandas as pd
import pytest
import requests
from playwright.sync_api import expect
from scipy import stats

from tests.latex_fixtures import pdf_text, sig4, squash
from tests.test_browser_analysis import open_analyse
from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def phone_check(page, tmp_path, name: str) -> None:
    """At 390 px: nothing scrolls sideways, axe is clean; a screenshot to look at."""
    p = page.page
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / f"{name}-phone.png"), full_page=True)  # --basetemp
    p.set_viewport_size({"width": 1280, "height": 900})


def test_describe_shows_a_histogram_per_column_and_goes_into_a_report(live_server, page,
                                                                        tmp_path):
    p = page.page
    open_analyse(live_server, p, "HousingPreferences.csv", "describe")
    p.get_by_role("button", name="Run").click()
    figures = p.locator("#histograms figure")
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    # Run submits the form: wait for the result page, or a slow machine reads the old one
    expect(figures).to_have_count(len(numeric), timeout=30_000)
    assert figures.evaluate_all("fs => fs.map(f => f.dataset.histogram)") == numeric
    for name in numeric:
        image = p.locator(f'[data-histogram="{name}"] img')
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True, timeout=30_000)
        assert image.evaluate("img => img.naturalWidth") == 300
        counts, _ = np.histogram(frame[name].to_numpy(float), bins="auto")
        assert image.get_attribute("alt").startswith(
            f"Histogram of {name}: {counts.sum()} values in {len(counts)} bins")
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / "describe-desktop.png"), full_page=True)
    phone_check(page, tmp_path, "describe")

    with p.expect_navigation(url=re.compile(r"/reports/[\w-]+$")):
        p.click("#add-to-report")
    assert "Added to the draft report" in p.inner_text("main")
    expect(p.locator("#report-sections li")).to_have_count(1)

    with p.expect_navigation():  # the Analyse page loaded, with its script, before the select
        p.get_by_role("link", name="Analyse this dataset").click()
    with p.expect_navigation():
        p.select_option("#kind", "correlation")
    for name in ("Price", "Area", "Bathrooms"):
        p.locator("#p-columns").get_by_label(name, exact=True).check()
    p.get_by_role("button", name="Run").click()
    heat_map = p.locator("#analysis-chart img")
    expect(heat_map).to_have_js_property("complete", True, timeout=30_000)
    assert heat_map.evaluate("img => img.naturalWidth") == 900
    with p.expect_navigation(url=re.compile(r"/reports/[\w-]+$")):
        p.click("#add-to-report")
    sections = p.locator("#report-sections li")
    expect(sections).to_have_count(2)
    assert "Correlation" in sections.nth(1).inner_text()
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / "draft-desktop.png"), full_page=True)
    phone_check(page, tmp_path, "draft")

    p.fill("#draft-title", "Housing at a glance")
    with p.expect_navigation(url=re.compile(r"/reports/[\w-]+$")):
        p.click("#build-draft")
    link = p.locator("[data-report-pdf]")
    expect(link).to_be_visible(timeout=90_000)
    pdf = requests.get(live_server.url + link.get_attribute("href"), timeout=60)
    assert pdf.headers["Content-Type"] == "application/pdf"
    text = squash(pdf_text(pdf.content, tmp_path))
    r = np.corrcoef(frame["Price"], frame["Area"])[0, 1]
    assert np.isclose(r, stats.pearsonr(frame["Price"], frame["Area"]).statistic)
    assert squash("Housing at a glance") in text
    assert squash("Correlation matrix: HousingPreferences") in text or \
        squash("Correlation") in text
    assert sig4(r) in text
    assert sig4(frame["Price"].mean()) in text and sig4(frame["Area"].std()) in text
    assert squash("Distributions: HousingPreferences") in text


def test_growth_table_is_folded_paged_by_keyboard_and_the_column_stays_in_view(
        live_server, page, tmp_path):
    p = page.page
    open_analyse(live_server, p, "2020Q1.xlsx", "growth", "HPI")
    boxes = p.locator("#p-columns input[type=checkbox]")
    last_name = boxes.last.get_attribute("value")
    boxes.last.check()
    p.get_by_role("button", name="Run").click()
    p.wait_for_selector("#growth-table")
    p.wait_for_load_state()  # the scripts at the end of the page have run
    # the column picker shows the ticked column, at the bottom of its list, without scrolling
    in_view = p.evaluate("""() => {
        const items = document.querySelector('#p-columns .checklist-items');
        const row = items.querySelector('input:checked').closest('.form-check');
        const a = items.getBoundingClientRect(), b = row.getBoundingClientRect();
        return items.scrollTop > 0 && b.top >= a.top && b.bottom <= a.bottom; }""")
    assert in_view
    details = p.locator("#growth-table")
    assert details.get_attribute("open") is None  # 181 rows: folded
    p.focus("#growth-table summary")
    p.keyboard.press("Enter")
    assert details.get_attribute("open") is not None
    assert p.inner_text("[data-rows]") == "Rows 1–40 of 181"
    nxt = p.get_by_role("link", name="Next 40")
    nxt.focus()
    with p.expect_navigation():
        p.keyboard.press("Enter")
    assert p.locator("#growth-table").get_attribute("open") is not None  # stays open
    assert p.inner_text("[data-rows]") == "Rows 41–80 of 181"
    hpi = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", engine="calamine")
    values = pd.to_numeric(hpi[last_name], errors="coerce").dropna().to_numpy(float)
    first = p.locator("#growth-table tbody tr").first.locator("td").all_inner_texts()
    rates = (values[4:] / values[:-4] - 1) * 100
    decimals = 3 - int(np.floor(np.log10(np.abs(rates).max())))  # 4 digits for the largest
    assert first == ["1985Q1", f"{rates[36]:,.{decimals}f}"]  # every rate with those decimals
    # a period and a rate: a narrow table, the rate right-aligned in tabular figures
    table = p.locator("#growth-table table")
    assert table.bounding_box()["width"] < 0.5 * p.viewport_size["width"]
    rate = p.locator("#growth-table tbody td.num").first
    assert rate.evaluate("td => [getComputedStyle(td).textAlign, "
                         "getComputedStyle(td).fontVariantNumeric]") == ["right", "tabular-nums"]
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / "growth-desktop.png"), full_page=True)
    phone_check(page, tmp_path, "growth")
    p.get_by_role("link", name="Previous 40").click()
    assert p.inner_text("[data-rows]") == "Rows 1–40 of 181"
