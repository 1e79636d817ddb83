"""Upload in real Chromium: pick a file, watch it travel, land on the dataset page, page through."""

import re

import pytest

from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def test_upload_page_to_dataset_page(live_server, page):
    p = page.page
    p.goto(live_server.url + "/upload")
    page.check_accessibility()
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(DATA / "2020Q1.xlsx"))
    assert p.locator("h1").inner_text() == "2020Q1.xlsx"
    tabs = p.locator(".nav-tabs .nav-link").all_inner_texts()
    assert {"HPI", "RHPI", "PDI", "RPDI"} <= set(tabs)
    first_row = p.locator("table.table-numeric tbody tr").first
    assert first_row.locator("th").inner_text().replace(":", "") == "1975Q1"
    assert "Cleaning log" in p.inner_text("main")
    page.check_accessibility()
    p.get_by_role("link", name="RHPI", exact=True).click()
    p.wait_for_url(re.compile(r"sheet=RHPI"))
    assert p.locator(".nav-link.active").inner_text() == "RHPI"
    p.get_by_role("link", name="Next").click()
    p.wait_for_url(re.compile(r"offset=50"))
    assert (
        p.locator("table.table-numeric tbody tr").first.locator("th").inner_text().replace(":", "")
        == "1987Q3"
    )
    # Regression (issue 17): long column names wrapped the header row into a band 70 px tall
    header, row = (p.locator(f"table.table-numeric {part} tr").first.bounding_box()["height"]
                   for part in ("thead", "tbody"))
    assert header < 1.5 * row
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390


def test_upload_error_is_shown_next_to_the_file(live_server, page, tmp_path):
    bad = tmp_path / "report.xlsx"
    bad.write_bytes(b"%PDF-1.7\n%%EOF")
    p = page.page
    p.goto(live_server.url + "/upload")
    p.set_input_files("#file-input", str(bad))
    message = p.locator("#upload-list .text-danger")
    message.wait_for(timeout=15_000)
    assert "PDF" in message.inner_text()
    page.console_errors[:] = [e for e in page.console_errors if "415" not in e]


def test_library_lists_and_searches(live_server, page):
    p = page.page
    for name in ("HousingPreferences.csv", "2011Q2.xlsx"):
        p.goto(live_server.url + "/upload")
        with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
            p.set_input_files("#file-input", str(DATA / name))
    p.goto(live_server.url + "/datasets")
    names = p.locator("tbody td:first-child a").all_inner_texts()
    assert names == ["2011Q2.xlsx", "HousingPreferences.csv"]
    p.fill("#q", "housing")
    p.press("#q", "Enter")
    p.wait_for_url(re.compile(r"q=housing"))
    assert p.locator("tbody td:first-child a").all_inner_texts() == ["HousingPreferences.csv"]
    page.check_accessibility()


def test_sales_dates_typed_and_turned_into_a_monthly_series(live_server, page, tmp_path):
    """Issue 21: a day-first `Date` column is typed, and "By period" builds the monthly
    median-price sheet, whose numbers are pandas' own groupby of the generated sales."""
    from tests.test_datasets_by_period import sales_csv, sales_table

    table = sales_table(120)
    path = tmp_path / "sales.csv"
    path.write_bytes(sales_csv(table))
    p = page.page
    p.goto(live_server.url + "/upload")
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(path))
    date_badge = p.locator("aside li", has_text="Date").locator("[data-kind]")
    assert date_badge.inner_text() == "date"  # a word; pandas' type is the badge's tooltip
    assert "datetime64" in date_badge.get_attribute("title")
    assert "read day first" in p.inner_text(".cleaning-log")
    page.check_accessibility()
    p.select_option("#bp-date", "Date")
    p.select_option("#bp-value", "Price")
    p.select_option("#bp-freq", "M")
    p.uncheck("#bp-mean")
    with p.expect_navigation(timeout=30_000):
        p.get_by_role("button", name="Build the period sheet").click()
    assert p.locator(".nav-link.active").inner_text() == "sales Price by month"
    expected = table.groupby(table["Date"].dt.to_period("M"))["Price"].agg(["count", "median"])
    headers = p.locator("table.table-numeric thead th").all_inner_texts()
    assert headers == ["month", "Price count", "Price median"]
    first = p.locator("table.table-numeric tbody tr").first
    assert first.locator("th").inner_text() == str(expected.index[0])
    cells = first.locator("td").all_inner_texts()
    assert int(cells[0]) == expected["count"].iloc[0]
    assert float(cells[1].replace(",", "")) == pytest.approx(expected["median"].iloc[0], rel=1e-5)
    assert "Built from sheet 'sales'" in p.inner_text("main")
    page.check_accessibility()
