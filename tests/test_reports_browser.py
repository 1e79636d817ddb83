"""Reports in real Chromium: build one from the form, watch its job's bar reach 100%, download
the PDF it links to, and check its numbers."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
import requests

from rendition.latex.tables import format_number
from tests.stack_fixtures import make_app_stopping_jobs  # noqa: F401
from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def test_the_report_form_builds_a_pdf_behind_a_progress_bar(live_server, page, tmp_path):
    with open(DATA / "2020Q1.xlsx", "rb") as handle:
        dataset = requests.post(live_server.url + "/api/v1/datasets", timeout=60,
                                files={"file": ("2020Q1.xlsx", handle)}).json()
    p = page.page
    p.goto(f"{live_server.url}/reports?dataset={dataset['id']}")
    page.check_accessibility()
    p.fill("#title", "Browser-built report")
    p.select_option("#describe", ["RHPI"])
    p.click("#build")
    p.wait_for_url("**/reports/*")
    box = p.locator("[data-job-progress]")
    box.and_(p.locator("[data-state=done]")).wait_for(timeout=30_000)
    assert box.locator(".progress").get_attribute("aria-valuenow") == "100"
    download_link = p.locator("#result [data-report-pdf]")
    download_link.wait_for(timeout=10_000)
    page.check_accessibility()
    with p.expect_download() as info:
        download_link.click()
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Browser-built report" in text
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="RHPI", engine="calamine")
    values = pd.to_numeric(raw["Canada"], errors="coerce").dropna().to_numpy(float)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("Canada"))
    assert format_number(float(np.std(values, ddof=1))) in line.split()
    p.reload()  # once built, the page offers the download without a job
    assert p.locator("[data-job-progress]").count() == 0
    assert p.get_by_role("link", name="Download the PDF").is_visible()


def test_the_report_list_follows_a_build_it_did_not_start(make_app, page):
    import threading

    import jobs
    from tests.conftest import LiveServer
    from tests.stack_fixtures import GATES
    from web.auth import local_user

    app = make_app(WTF_CSRF_ENABLED=True, JOB_WORKERS=1)
    server = LiveServer(app).start()
    GATES["report-list"] = threading.Event()
    try:
        with open(DATA / "HousingPreferences.csv", "rb") as handle:
            dataset = requests.post(server.url + "/api/v1/datasets", timeout=60,
                                    files={"file": ("HousingPreferences.csv", handle)}).json()
        with app.app_context():  # the one worker thread is busy: the build waits
            jobs.submit("test_gate", {"gate": "report-list"}, local_user().id)
        session = requests.Session()
        report = session.post(server.url + "/api/v1/reports", timeout=30, json={
            "dataset": dataset["id"], "sections": [{"type": "summary"}]}).json()
        p = page.page
        p.goto(f"{server.url}/reports?dataset={dataset['id']}")
        badge = p.locator(f'[data-report-id="{report["id"]}"] .report-status')
        assert badge.inner_text() == "queued"
        page.check_accessibility()
        GATES["report-list"].set()  # the build runs while the page is open
        p.locator(f'[data-report-id="{report["id"]}"] .report-status.text-bg-success').wait_for(
            timeout=30_000)
        assert badge.inner_text() == "done"
    finally:
        GATES["report-list"].set()
        server.stop()
