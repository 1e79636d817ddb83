"""Jobs in real Chromium: start a price index from the form and watch its bar reach 100%; follow
a slow job's bar on its page; cancel one with the button."""

from __future__ import annotations

import threading

import pytest
import requests
from playwright.sync_api import expect

import jobs
from tests.stack_fixtures import GATES, make_app_stopping_jobs  # noqa: F401
from tests.test_jobs_api import basket_csv, hand_indices
from web.auth import local_user

pytestmark = pytest.mark.browser


def submit(live_server, kind: str, params: dict) -> str:
    with live_server.app.app_context():
        return jobs.submit(kind, params, local_user()).id


def test_the_price_index_form_runs_a_job_to_its_result(live_server, page, tmp_path):
    dataset = requests.post(live_server.url + "/api/v1/datasets", timeout=60,
                            files={"file": ("basket.csv", basket_csv())}).json()
    p = page.page
    p.goto(f"{live_server.url}/jobs/price-index?dataset={dataset['id']}")
    page.check_accessibility()
    assert p.locator("#col-q1").input_value() == "q1"
    p.click("#start-job")
    box = p.locator("[data-job-progress]")
    box.and_(p.locator("[data-state=done]")).wait_for(timeout=15_000)
    assert box.locator(".progress").get_attribute("aria-valuenow") == "100"
    assert box.locator(".progress-bar").inner_text() == "100%"
    link = box.get_by_role("link", name="Open the result")
    link.wait_for(state="visible")
    laspeyres = p.locator('#result td[data-index="laspeyres"]')
    laspeyres.wait_for(timeout=10_000)
    assert laspeyres.inner_text() == f"{hand_indices()['laspeyres']:.4f}"
    assert p.locator('#result td[data-index="fisher"]').inner_text() == \
        f"{hand_indices()['fisher']:.4f}"
    page.check_accessibility()
    link.click()
    p.wait_for_url("**/jobs/*#result")
    assert p.locator("h1").inner_text() == "Price index"
    assert p.locator('#result td[data-index="paasche"]').inner_text() == \
        f"{hand_indices()['paasche']:.4f}"
    chart = p.locator("#price-index-chart img")  # issue 17: the index lines
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_js_property("complete", True, timeout=30_000)
    assert chart.evaluate("img => img.naturalWidth") == 900
    indices = hand_indices()
    assert chart.get_attribute("alt") == (
        "Price indices from base (100) to current: Laspeyres "
        f"{indices['laspeyres']:.2f}, Paasche {indices['paasche']:.2f}, Fisher "
        f"{indices['fisher']:.2f}")
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / "price-index-desktop.png"), full_page=True)  # --basetemp
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    p.screenshot(path=str(tmp_path / "price-index-phone.png"), full_page=True)


def test_a_slow_jobs_bar_moves_live_to_100(live_server, page):
    job_id = submit(live_server, "test_count", {"steps": 10, "delay": 0.15})
    p = page.page
    p.goto(f"{live_server.url}/jobs/{job_id}")
    seen = set()
    bar = p.locator(".job-progress .progress")
    while p.locator("[data-job-progress]").get_attribute("data-state") != "done":
        seen.add(int(bar.get_attribute("aria-valuenow")))
        p.wait_for_timeout(50)
    assert bar.get_attribute("aria-valuenow") == "100"
    assert len(seen - {0, 100}) >= 3  # it moved through intermediate steps while we watched
    p.locator(".job-result-link a").wait_for(state="visible")
    p.locator("#result pre").wait_for()
    assert '"steps": 10' in p.locator("#result pre").inner_text()
    assert p.locator(".job-cancel-form").is_hidden()
    page.check_accessibility()
    p.goto(f"{live_server.url}/jobs")
    row = p.locator(f'[data-job-row="{job_id}"]')
    assert row.locator(".job-state").inner_text() == "done"
    assert row.locator(".progress").get_attribute("aria-valuenow") == "100"
    page.check_accessibility()


def test_the_cancel_button_cancels_a_running_job(live_server, page):
    GATES["browser"] = threading.Event()
    job_id = submit(live_server, "test_gate", {"gate": "browser"})
    p = page.page
    p.goto(f"{live_server.url}/jobs/{job_id}")
    p.get_by_role("button", name="Cancel").click()
    p.locator("[data-job-progress][data-state=cancelled]").wait_for(timeout=10_000)
    assert p.locator(".job-state").inner_text() == "cancelled"
    GATES["browser"].set()
    assert requests.get(f"{live_server.url}/api/v1/jobs/{job_id}",
                        timeout=10).json()["state"] == "cancelled"
