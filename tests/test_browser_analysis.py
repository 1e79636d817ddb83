"""The Analyse page in Chromium: columns come from the sheet, results are tables."""

import re

import pytest

from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def test_pick_and_run_an_ols(live_server, page):
    p = page.page
    p.goto(live_server.url + "/upload")
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(DATA / "HousingPreferences.csv"))
    p.get_by_role("link", name="Analyse").first.click()
    p.wait_for_url(re.compile(r"/analyse"))
    with p.expect_navigation():
        p.select_option("#kind", "groups")
    options = p.eval_on_selector_all("#p-by option", "els => els.map(e => e.value)")
    assert "FurnishingStatus" in options and "Price" in options
    p.select_option("#p-value", "Price")
    p.select_option("#p-by", "FurnishingStatus")
    p.get_by_role("button", name="Run").click()
    p.wait_for_selector("#result table")
    assert "semi-furnished" in p.inner_text("#result")
    page.check_accessibility()
