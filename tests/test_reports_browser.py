"""Reports in real Chromium: build one from the form, watch its job's bar reach 100%, download
the PDF it links to, and check its numbers."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pandas as pd
import pytest
import requests

from rendition.latex.tables import format_number
from tests.stack_fixtures import make_app_stopping_jobs  # noqa: F401
from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def upload_hpi(live_server) -> dict:
    with open(DATA / "2020Q1.xlsx", "rb") as handle:
        return requests.post(live_server.url + "/api/v1/datasets", timeout=60,
                             files={"file": ("2020Q1.xlsx", handle)}).json()


def download_text(p, link, tmp_path) -> str:
    """Click the PDF link; the downloaded PDF's text (pdftotext -layout)."""
    with p.expect_download() as info:
        link.click()
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_report_form_builds_a_pdf_behind_a_progress_bar(live_server, page, tmp_path):
    dataset = upload_hpi(live_server)
    p = page.page
    p.goto(f"{live_server.url}/reports?dataset={dataset['id']}")
    page.check_accessibility()
    p.fill("#title", "Browser-built report")
    for box in p.locator("#describe input[type=checkbox]").all():
        box.set_checked(box.get_attribute("value") == "RHPI")
    p.click("#build")
    p.wait_for_url("**/reports/*")
    download_link = p.locator("#result [data-report-pdf]")  # the page reloads when it is done
    download_link.wait_for(timeout=30_000)
    assert p.locator("[data-job-progress]").count() == 0
    page.check_accessibility()
    text = download_text(p, download_link, tmp_path)
    assert "Browser-built report" in text
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="RHPI", engine="calamine")
    values = pd.to_numeric(raw["Canada"], errors="coerce").dropna().to_numpy(float)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("Canada"))
    assert format_number(float(np.std(values, ddof=1))) in line.split()
    assert p.get_by_role("link", name="Download the PDF").is_visible()


def test_the_form_follows_the_chosen_dataset_and_the_pdf_names_things(live_server, page,
                                                                      tmp_path):
    """Regression (issue 17): changing the Dataset select left the form on the old dataset,
    the formula hint was a housing formula, charts were listed by kind, the PDF titled a chart
    `compare_sheets chart`, broke "(workbook)", printed microseconds and was named .xlsx.pdf."""
    made = {}
    for name in ("2020Q1.xlsx", "HousingPreferences.csv"):
        with open(DATA / name, "rb") as handle:
            made[name] = requests.post(live_server.url + "/api/v1/datasets", timeout=60,
                                       files={"file": (name, handle)}).json()["id"]
    hpi = made["2020Q1.xlsx"]
    assert requests.post(live_server.url + "/api/v1/charts", timeout=60, json={
        "dataset": hpi, "sheet": "HPI", "sheets": ["RHPI"], "kind": "compare_sheets",
        "y": ["Canada"]}).status_code == 201
    p = page.page
    p.goto(f"{live_server.url}/reports?dataset={made['HousingPreferences.csv']}")
    housing = pd.read_csv(DATA / "HousingPreferences.csv", nrows=5)
    assert p.locator("#ols_formula").get_attribute("placeholder").startswith(
        f"e.g. {housing.columns[0]} ~ ")
    p.select_option("#dataset", hpi)  # no button: the form switches to that dataset
    p.wait_for_url(f"**/reports?dataset={hpi}")
    assert p.locator("#title").input_value() == "Report on 2020Q1"
    first = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", nrows=3).columns[1:4]
    assert p.locator("#ols_formula").get_attribute("placeholder") == \
        f"e.g. {first[0]} ~ {first[1]} + {first[2]}"
    assert p.locator("#growth_periods").input_value() == "4"  # quarters: year on year
    assert p.locator("#growth_periods_help").inner_text() == "4 = year on year"
    chart = p.get_by_label("HPI vs RHPI: Canada")
    rows = p.locator("#describe .form-check")
    ticked, plain = (rows.filter(has=p.locator(f"input{which}")).first.evaluate(
        "e => getComputedStyle(e).backgroundColor") for which in (":checked", ":not(:checked)"))
    assert ticked != plain  # a ticked row stands out
    page.check_accessibility()
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    p.screenshot(path=str(tmp_path / "reports-phone.png"), full_page=True)  # --basetemp
    p.set_viewport_size({"width": 1280, "height": 900})
    for box in p.locator("#describe input[type=checkbox]").all():
        box.uncheck()
    p.select_option("#ols_sheet", "")
    p.fill("#ols_formula", "Canada ~ France")  # "none" wins over a formula
    p.select_option("#growth_sheet", "")
    chart.check()
    p.click("#build")
    p.wait_for_url("**/reports/*")
    p.locator("#result [data-report-pdf]").wait_for(timeout=30_000)
    assert p.locator("#result a").count() == 2  # one download, one view
    assert p.locator("main h2 + ol li").all_inner_texts() == [
        "Dataset summary", "Cleaning log", "Chart: HPI vs RHPI: Canada"]
    page.check_accessibility()
    with p.expect_download() as info:
        p.click("#result [data-report-pdf]")
    assert info.value.suggested_filename == "Report on 2020Q1.pdf"
    info.value.save_as(tmp_path / "report.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(r"^\d+\s+HPI vs RHPI: Canada$", text, re.MULTILINE)
    assert "compare_sheets" not in text and "Regression" not in text and "Growth" not in text
    assert re.search(r"^\s*\(workbook\)\s+format\s", text, re.MULTILINE)
    assert re.search(r"Uploaded\s+\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC$", text, re.MULTILINE)


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


def test_the_form_builds_a_pdf_with_a_time_series_and_a_fit_section(live_server, page,
                                                                     tmp_path):
    """HP filter of RHPI US and a fit of a·exp(b·t) to HPI US, chosen in the form: the PDF
    names both, and its b equals scipy's curve_fit on the same quarters (t in years)."""
    from scipy.optimize import curve_fit

    dataset = upload_hpi(live_server)
    p = page.page
    p.goto(f"{live_server.url}/reports?dataset={dataset['id']}")
    p.fill("#title", "Trend and fit")
    for box in p.locator("#describe input[type=checkbox]").all():
        box.uncheck()
    p.click("#hp_filter-details summary")
    p.select_option("#hp_filter-series", label="RHPI: US")
    p.select_option("#fit_sheet", "HPI")
    p.fill("#fit_model", "US = a*exp(b*t)")
    p.fill("#fit_solve", "US = 2*US(2000Q1)")
    page.check_accessibility()
    p.click("#build")
    p.wait_for_url("**/reports/*")
    download_link = p.locator("#result [data-report-pdf]")
    download_link.wait_for(timeout=60_000)
    text = download_text(p, download_link, tmp_path)
    assert "Hodrick–Prescott filter: US" in text
    assert "Fit: US = a*exp(b*t)" in text and "Solution of US = 2*US(2000Q1)" in text
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", engine="calamine")
    us = pd.to_numeric(raw["US"], errors="coerce").dropna().to_numpy(float)
    t = np.arange(len(us)) / 4  # quarters in years since the first one, 1975Q1
    (_, b), _ = curve_fit(lambda x, a, b: a * np.exp(b * x), t, us, p0=(60, 0.01))
    row = next(ln.split() for ln in text.splitlines() if ln.split()[:1] == ["b"])
    assert float(row[1]) == pytest.approx(b, rel=1e-3)
