"""The Analyse page in Chromium: columns come from the sheet, results are tables and charts."""

import re

import pytest
from playwright.sync_api import expect

from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def open_analyse(live_server, p, filename: str, kind: str = "", sheet: str = "") -> None:
    """Upload `filename`, follow the dataset page's link to the Analyse page, and pick the
    analysis `kind` and `sheet` when given."""
    p.goto(live_server.url + "/upload")
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(DATA / filename))
    p.get_by_role("link", name="Analyse").first.click()
    p.wait_for_url(re.compile(r"/analyse"))
    for select, value in (("#kind", kind), ("#p-sheet", sheet)):
        if value:
            with p.expect_navigation():
                p.select_option(select, value)


def test_pick_and_run_an_ols(live_server, page):
    p = page.page
    open_analyse(live_server, p, "HousingPreferences.csv")
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


def test_ols_with_newey_west_errors_and_its_charts(live_server, page):
    """Newey-West errors on a period sheet: the table, the note and the fitted-vs-actual chart."""
    p = page.page
    open_analyse(live_server, p, "2020Q1.xlsx", "ols", "HPI")
    assert p.eval_on_selector_all("#p-cov_type option", "els => els.map(e => e.value)") == [
        "classical", "HC0", "HC1", "HC2", "HC3", "HAC", "cluster"]
    p.fill("#p-formula", "US ~ lag(US, 1) + Canada")
    p.select_option("#p-cov_type", "HAC")
    p.fill("#p-hac_lags", "4")
    p.get_by_role("button", name="Run").click()
    p.wait_for_selector("#result table")
    text = p.inner_text("#result")
    assert "lag(US, 1)" in text and "Newey-West standard errors with 4 lag(s)" in text
    chart = p.locator('img[data-chart="fit"]')
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_js_property("complete", True, timeout=30_000)
    assert chart.evaluate("img => img.naturalWidth") == 720  # the PNG arrived and decoded
    assert chart.get_attribute("alt") == "Actual and fitted values of US"
    page.check_accessibility()


def test_exuberance_on_real_house_prices_waits_for_its_critical_values(live_server, page):
    """Exuberance on the RHPI sheet: the critical values are simulated in a job whose progress
    the page follows; when it is done the page loads again with the table and the BSADF chart
    of each series."""
    p = page.page
    p.goto(live_server.url + "/upload")
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(DATA / "2020Q1.xlsx"))
    p.get_by_role("link", name="Analyse").first.click()
    p.wait_for_url(re.compile(r"/analyse"))
    with p.expect_navigation():
        p.select_option("#kind", "exuberance")
    with p.expect_navigation():
        p.select_option("#p-sheet", "RHPI")
    for name in ("UK", "US"):
        p.locator("#p-columns").get_by_label(name, exact=True).check()
    p.fill("#p-replications", "100")
    p.get_by_role("button", name="Run").click()
    p.wait_for_selector("#critical-value-jobs .job-state")
    p.wait_for_selector("#result td:text('2007Q4')", timeout=60_000)  # reloaded when done
    assert p.query_selector("#critical-value-jobs") is None
    table = p.inner_text("#result table")
    assert "US" in table and "UK" in table and "2007Q4" in table
    with p.expect_navigation():
        p.get_by_role("link", name="US", exact=True).click()
    p.wait_for_function("() => { const img = document.querySelector('#analysis-chart img');"
                        " return img && img.complete && img.naturalWidth === 900; }",
                        timeout=30_000)
    assert "for US" in p.get_attribute("#analysis-chart img", "alt")
    page.check_accessibility()


def test_a_regression_reads_like_statistics_software(live_server, page, tmp_path):
    """Regression (issue 17): identifiers as labels, no significance marks, no reference level,
    and a Predict field that wanted JSON."""
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf

    from rendition.latex.tables import format_number

    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    model = smf.ols("Price ~ Area + C(FurnishingStatus)", frame).fit()
    p = page.page
    open_analyse(live_server, p, "HousingPreferences.csv", "ols")
    assert p.locator("#p-predict").count() == 0  # no JSON box: a field per regressor instead
    p.fill("#p-formula", "Price ~ Area + C(FurnishingStatus)")
    p.get_by_role("button", name="Run").click()
    table = p.locator("#ols-coefficients")
    assert table.locator("thead th").all_inner_texts() == [
        "Term", "Coefficient", "Std. error", "t", "p", "Significance", "95 % CI"]
    area = table.locator("tbody tr", has_text="Area").locator("td").all_inner_texts()
    assert area[0] == format_number(float(model.params["Area"]))
    assert model.pvalues["Area"] < 0.001 and area[4] == "***"
    assert "*** p < 0.001" in p.inner_text("#significance-legend")
    reference = sorted(frame["FurnishingStatus"].unique())[0]
    assert f"Reference level of FurnishingStatus: {reference}" in p.inner_text(
        "[data-reference]")
    model_block = p.inner_text('[data-stats="Model"]')
    assert f"R²\t{format_number(float(model.rsquared))}" in model_block
    assert "r_squared" not in p.inner_text("#result")
    p.context.grant_permissions(["clipboard-read", "clipboard-write"])
    p.get_by_role("button", name="Copy as Markdown").click()
    p.get_by_role("button", name="Copied").wait_for()
    copied = p.evaluate("navigator.clipboard.readText()")
    assert "| Term | Coefficient | Std. error | t | p | Significance |" in copied
    p.fill("#predict-form input[name='at.Area']", "5000")
    p.select_option("#predict-form select", "unfurnished")
    p.locator("#predict-form").get_by_role("button", name="Predict").click()
    expected = model.predict(pd.DataFrame({"Area": [5000], "FurnishingStatus": ["unfurnished"]}))
    cells = p.locator("#ols-predictions tbody td").all_inner_texts()
    assert cells[:3] == ["5,000", "unfurnished", format_number(float(np.asarray(expected)[0]))]
    page.check_accessibility()
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    p.screenshot(path=str(tmp_path / "ols-phone.png"), full_page=True)  # to look at: --basetemp


def test_growth_is_year_on_year_with_a_chart_and_a_folded_table(live_server, page, tmp_path):
    """Regression (issue 17): a 181-row table and no chart; periods 1 on quarterly data; a
    Ctrl-click column list."""
    import numpy as np
    import pandas as pd

    p = page.page
    open_analyse(live_server, p, "2020Q1.xlsx", "growth", "HPI")
    assert p.input_value("#p-periods") == "4"  # a year of quarters
    p.fill("#p-columns .checklist-filter", "cana")  # the filter keeps the matching boxes
    assert p.locator("#p-columns .form-check:visible").all_inner_texts() == ["Canada"]
    p.locator("#p-columns").get_by_label("Canada").check()
    assert p.inner_text("#p-columns .checklist-chosen") == "Chosen: Canada"
    p.get_by_role("button", name="Run").click()
    assert p.inner_text("[data-comparison]").startswith("Growth year on year")
    chart = p.locator("#analysis-chart img")
    expect(chart).to_have_js_property("complete", True, timeout=30_000)
    assert chart.evaluate("img => img.naturalWidth") == 900
    table = p.locator("#result details table")
    assert not table.is_visible()  # folded under its summary
    p.locator("#result details summary").click()
    hpi = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", engine="calamine")
    canada = pd.to_numeric(hpi["Canada"], errors="coerce").dropna().to_numpy(float)
    last = table.locator("tbody tr").last.locator("td").all_inner_texts()  # row 40 of 181
    rates = (canada[4:] / canada[:-4] - 1) * 100  # one column, one number of decimals
    decimals = 3 - int(np.floor(np.log10(np.abs(rates).max())))
    assert last == ["1984Q4", f"{rates[35]:,.{decimals}f}"]
    page.check_accessibility()
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    p.screenshot(path=str(tmp_path / "growth-phone.png"), full_page=True)  # to look at: --basetemp
