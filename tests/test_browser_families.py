"""Releases in real Chromium: upload two releases at once, land on their family with matched
series, open the vintage fan of a country and what changed, re-run a saved chart on the latest
release."""

import re

import pytest

from tests.upload_actions import DATA
from tests.vintages_fixtures import raw_cells

pytestmark = pytest.mark.browser


def test_releases_uploaded_together_become_a_family_with_vintages(live_server, page):
    p = page.page
    p.goto(live_server.url + "/upload")
    p.select_option("#family-choice", "new")
    with p.expect_navigation(url=re.compile(r"/families/[\w-]+$"), timeout=60_000):
        p.set_input_files("#file-input", [str(DATA / "2020Q1.xlsx"), str(DATA / "2011Q2.xlsx")])
    labels = p.locator("#releases input").evaluate_all("els => els.map(e => e.value)")
    assert labels == ["2011Q2", "2020Q1"]
    series = p.locator("#series-table tbody th").all_inner_texts()
    assert {"Canada", "US", "Japan"} <= set(series) and "S. Africa" in series
    south_africa = p.locator("#series-table tbody tr", has_text="S. Africa")
    assert "2020Q1" in south_africa.locator("td").nth(1).inner_text()  # added in
    assert "What changed in 2020Q1 (since 2011Q2)" in p.inner_text("#changes-heading")
    page.check_accessibility()

    p.select_option("#sheet", "HPI")
    p.select_option("#series-pick", "Canada")
    with p.expect_navigation():
        p.get_by_role("button", name="Show").click()
    fan = p.locator("#vintage-fan")
    fan.wait_for()
    p.wait_for_function("() => document.getElementById('vintage-fan').naturalWidth > 0")
    first = p.locator("#vintage-table tbody tr").first
    period = first.locator("th").inner_text()
    cells = first.locator("td").all_inner_texts()
    old, new = raw_cells("2011Q2", "HPI"), raw_cells("2020Q1", "HPI")
    assert period == "2011Q2"  # the newest period both releases publish
    assert float(cells[0].replace(",", "")) == pytest.approx(old[(period, "Canada")], abs=0.05)
    assert float(cells[1].replace(",", "")) == pytest.approx(new[(period, "Canada")], abs=0.05)

    # A chart saved on the old release runs again on the latest one.
    older = p.get_by_role("link", name="2011Q2.xlsx")
    older.click()
    p.wait_for_url(re.compile(r"/datasets/[\w-]+$"))
    assert "Release 2011Q2 of" in p.inner_text("#release-note")
    dataset_id = p.url.rsplit("/", 1)[1]
    chart_id = p.evaluate("""async (dataset) => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const response = await fetch('/api/v1/charts', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
            body: JSON.stringify({dataset, kind: 'line', sheet: 'HPI', y: ['Canada', 'US']})});
        return (await response.json()).id;
    }""", dataset_id)
    p.goto(f"{live_server.url}/charts/{chart_id}")
    with p.expect_navigation(url=re.compile(r"/charts/[\w-]+$")):
        p.get_by_role("button", name="Run on the latest release").click()
    assert p.url.rsplit("/", 1)[1] != chart_id
    assert "Ran on release 2020Q1." in p.inner_text("main")
    p.wait_for_function("() => document.getElementById('chart-image').naturalWidth > 0")
    assert "2020Q1.xlsx" in p.inner_text("main")
