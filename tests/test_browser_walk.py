"""The walk of issue 17, replayed as a person does it on a fresh instance with accounts on:
sign up → upload 2020Q1.xlsx → describe → growth → HPI vs RHPI → the housing CSV → regression
→ scatter and pie → PDF report → equations → log out.

Only clicks and typing drive the app; the numbers a person reads are checked against pandas,
numpy and statsmodels on the same files in tests/data. Every page passes axe, fits a phone, and
is photographed at 1280 and 390 px wide into the test's tmp dir, and into
$QUARTILE_WALK_SCREENSHOTS when it is set, so that a person can look at them.
"""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from tests.upload_actions import DATA
from tests.walk_actions import (
    DESKTOP,
    PHONE,
    RIGHT_EDGE_INK,
    Walk,
    agrees,
    answers,
    numbers_in,
    workbook_sheet,
)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def secure_server(make_app):
    """A fresh instance as `make run` serves it: accounts on, and warming up in the background
    (sandbox pools, imports, fonts) while the first visitor signs up."""
    from tests.conftest import LiveServer

    server = LiveServer(make_app(AUTH="on", WTF_CSRF_ENABLED=True, WARM_START=True)).start()
    yield server
    server.stop()


def test_the_walk_of_issue_17(secure_server, page, tmp_path):
    walk = Walk(secure_server, page, tmp_path)
    p = walk.p
    sign_up(walk)
    hpi_url = walk.upload("2020Q1.xlsx")
    header, row = (p.locator(f"table.table-numeric {part} tr").first.bounding_box()["height"]
                   for part in ("thead", "tbody"))
    assert header < 1.5 * row  # no empty band above the preview's header row
    first_look(walk)
    walk.see("dataset-2020Q1")
    describe(walk)
    growth_chart = growth(walk)
    hpi_vs_rhpi(walk, hpi_url)
    walk.upload("HousingPreferences.csv")
    far_outliers(walk)
    walk.see("dataset-housing")
    regression(walk)
    scatter_and_pie(walk)
    pdf_link = report_on_the_chosen_dataset(walk)
    equations(walk)
    p.get_by_role("button", name="Log out").click()
    p.wait_for_url(re.compile(r"/login"))
    assert p.locator(".navbar-toggler").count() == 0  # no menu button that opens nothing
    walk.see("logged-out")
    for link in (growth_chart, pdf_link):  # links kept from before: the log-in page, not JSON
        p.goto(link)
        assert re.search(r"/login\?next=", p.url), link
        assert p.get_by_role("button", name="Log in").is_visible()
        page.check_accessibility()
    walk.see("link-after-log-out")


def sign_up(walk: Walk) -> None:
    p = walk.p
    p.goto(walk.url + "/")
    p.wait_for_url(re.compile(r"/login"))  # a fresh instance asks who you are
    walk.see("login")
    p.get_by_role("link", name="Sign up").click()
    p.fill("#username", "ada")
    for field in ("#password", "#confirm"):
        p.fill(field, "short")
    with walk.navigation():
        p.get_by_role("button", name="Sign up").click()
    assert "at least 8 characters" in p.inner_text("main").lower()
    assert p.input_value("#username") == "ada"  # only the passwords are typed again
    for field in ("#password", "#confirm"):
        p.fill(field, PASSWORD)
    walk.see("signup")
    p.get_by_role("button", name="Sign up").click()
    p.wait_for_url(walk.url + "/")
    assert "Welcome, ada." in p.inner_text("main")
    walk.see("home")
    walk.nav("ada")  # the first account administers the server, and is told so
    assert "You are an administrator" in p.inner_text("[data-admin-note]")
    walk.see("account")
    walk.nav("Users")
    assert p.locator("tr[data-user]").count() == 1
    walk.see("users")


def first_look(walk: Walk) -> None:
    """The dataset page's first look at HPI: its first alert names two series whose
    correlation is the one pandas computes."""
    alert = walk.p.locator("#first-look li[data-alert]").first
    assert alert.get_attribute("data-alert") == "correlation"
    pair = re.search(r"· (?P<a>.+) and (?P<b>.+): r = (?P<r>[-\u2212]?\d+\.\d+)\.",
                     alert.inner_text())
    hpi = workbook_sheet("HPI")
    assert agrees(pair["r"], hpi[pair["a"]].corr(hpi[pair["b"]]))  # to the digits shown
    assert alert.get_by_role("link", name="correlation").is_visible()  # to the analysis


def far_outliers(walk: Walk) -> None:
    """The housing sheet's first look warns of prices beyond Q3 + 3 IQR: as many, and the
    same bound, as pandas' quartiles give."""
    price = pd.read_csv(DATA / "HousingPreferences.csv")["Price"]
    q1, q3 = price.quantile([0.25, 0.75])
    bound = q3 + 3 * (q3 - q1)
    alert = walk.p.locator("#first-look li[data-alert]", has_text="Price:")
    assert alert.locator(".badge").inner_text() == "Warning"
    count, shown = re.search(r"Price: (\d+) above ([\d,.]+)", alert.inner_text()).groups()
    assert int(count) == (price > bound).sum() and agrees(shown, bound)
    # the preview writes the price as the alert does, right-aligned under a right-aligned header
    table = walk.p.locator('[aria-label="Preview of the sheet"] table')
    cell = table.locator("tbody tr").first.locator("td").first
    assert cell.inner_text() == f"{price.iloc[0]:,}"
    header = table.locator("thead th", has_text="Price")
    assert header.evaluate("th => getComputedStyle(th).textAlign") == "right"
    assert walk.p.locator("aside li", has_text="Price").locator("[data-kind]").inner_text() \
        == "integer"  # not int64


def describe(walk: Walk) -> None:
    """Describe every column of HPI: headers in words, one row per country, Canada's
    statistics are pandas', and a small histogram per column with numpy's bins."""
    p = walk.p
    with walk.navigation():
        p.get_by_role("link", name="Analyse").first.click()
    assert p.locator("#kind option:checked").inner_text() == "Describe every column"
    assert p.locator("#p-sheet option:checked").inner_text() == "HPI"
    with walk.navigation():
        p.get_by_role("button", name="Run").click()
    table = p.locator("#result table").first
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Column", "n", "Missing", "Mean", "Std. dev.", "Min", "25 %", "Median",
                       "75 %", "Max", "Skewness", "Excess kurtosis", "Infinite", "Type"]
    row = table.locator("tbody tr", has=p.locator("td", has_text=re.compile("^Canada$")))
    shown = dict(zip(headers, row.locator("td").all_inner_texts(), strict=True))
    canada = workbook_sheet("HPI")["Canada"].dropna()
    assert int(shown["n"]) == canada.size
    for label, value in (("Mean", canada.mean()), ("Std. dev.", canada.std(ddof=1)),
                         ("25 %", canada.quantile(0.25)), ("Median", canada.median()),
                         ("Excess kurtosis", canada.kurt())):
        assert agrees(shown[label], value), (label, shown[label], value)
    numeric = list(workbook_sheet("HPI").iloc[:, 1:].dropna(axis=1, how="all").columns)
    drawn = p.locator("#histograms figure").evaluate_all("fs => fs.map(f => f.dataset.histogram)")
    assert drawn and drawn == numeric[:len(drawn)]  # a small histogram per column, in order
    assert table.evaluate("t => !!(t.compareDocumentPosition(document.getElementById("
                          "'histograms')) & Node.DOCUMENT_POSITION_FOLLOWING)")  # numbers first
    for name in drawn:
        walk.image_loaded(p.locator(f'[data-histogram="{name}"] img'))
    counts, _ = np.histogram(canada.to_numpy(float), bins="auto")
    assert p.get_attribute('[data-histogram="Canada"] img', "alt").startswith(
        f"Histogram of Canada: {counts.sum()} values in {len(counts)} bins")
    walk.see("describe-HPI")


def growth(walk: Walk) -> str:
    """Growth of Canada's HPI: year on year (4 quarters) by default, with its chart, and its
    table folded and paged; returns the chart's address."""
    p = walk.p
    with walk.navigation():
        p.select_option("#kind", "growth")
    assert p.input_value("#p-periods") == "4"
    p.locator("#p-columns").get_by_label("Canada", exact=True).check()
    with walk.navigation():
        p.get_by_role("button", name="Run").click()
    assert p.inner_text("[data-comparison]").startswith("Growth year on year")
    chart = p.locator("#analysis-chart img")
    walk.image_loaded(chart)
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", engine="calamine")
    raw = raw.dropna(how="all")  # the blank row under the header
    periods = [str(v).replace(":", "") for v in raw.iloc[:, 0]]  # "1975:Q1" → "1975Q1"
    canada = pd.to_numeric(raw["Canada"], errors="coerce").to_numpy(float)
    folded = p.locator("#growth-table")  # 181 rows: folded under a summary, then paged
    assert folded.get_attribute("open") is None
    folded.locator("summary").click()
    first, size, total = (int(n) for n in re.findall(
        r"\d+", p.inner_text("#growth-table [data-rows]").replace("Rows", "")))
    assert (first, total) == (1, len(canada)) and size < total
    with walk.navigation():
        p.get_by_role("link", name=re.compile(r"^Next \d+$")).click()
    assert p.inner_text("#growth-table [data-rows]") == \
        f"Rows {size + 1}–{min(2 * size, total)} of {total}"
    row = p.locator("#growth-table tbody tr").first.locator("td").all_inner_texts()
    assert row[0] == periods[size]
    assert agrees(row[-1], (canada[size] / canada[size - 4] - 1) * 100)
    walk.see("growth-Canada")
    return walk.url + chart.get_attribute("src")


def hpi_vs_rhpi(walk: Walk, dataset_url: str) -> None:
    """The dataset page suggests HPI against RHPI; the suggestion opens in the chart builder,
    which draws it and saves it."""
    p = walk.p
    p.goto(dataset_url)
    card = p.locator("#charts-heading + .row a", has_text="HPI vs RHPI")
    walk.image_loaded(card.locator("img"))
    with walk.navigation():
        card.click()
    assert p.input_value("#kind") == "compare_sheets"
    preview = p.locator("#preview img")
    preview.wait_for(timeout=20_000)
    walk.image_loaded(preview)
    walk.see("builder-HPI-vs-RHPI")
    with walk.navigation(url=re.compile(r"/charts/[\w-]+(\?.*)?$")):
        p.click("#save-chart")
    assert p.locator("h1").inner_text().startswith("HPI vs RHPI: ")
    walk.image_loaded(p.locator("#chart-image"))
    walk.see("chart-HPI-vs-RHPI")


def regression(walk: Walk) -> None:
    """Price on Area and the furnishing status, written without C(): a table with human
    labels, significance marks, the reference level named and two charts."""
    import statsmodels.formula.api as smf

    p = walk.p
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    model = smf.ols("Price ~ Area + C(FurnishingStatus)", frame).fit()
    with walk.navigation():
        p.get_by_role("link", name="Analyse").first.click()
    assert p.locator("#dataset option:checked").inner_text() == "HousingPreferences.csv"
    with walk.navigation():
        p.select_option("#kind", "ols")
    p.fill("#p-formula", "Price ~ Area + FurnishingStatus")
    with walk.navigation():
        p.get_by_role("button", name="Run").click()
    table = p.locator("#ols-coefficients")
    headers = table.locator("thead th").all_inner_texts()
    for label in ("Coefficient", "Std. error", "t", "p", "95 % CI"):
        assert label in headers, headers
    area = table.locator("tbody tr", has_text="Area").locator("td").all_inner_texts()
    shown = dict(zip(headers[1:], area, strict=False))
    assert agrees(shown["Coefficient"], model.params["Area"]), shown
    assert agrees(shown["Std. error"], model.bse["Area"]), shown
    level = sorted(frame["FurnishingStatus"].unique())[2]  # a level, in words
    row = table.locator("tbody tr", has_text=f"FurnishingStatus: {level}")
    assert agrees(row.locator("td").first.inner_text(),
                  model.params[f"C(FurnishingStatus)[T.{level}]"])
    assert "*** p < 0.001" in p.inner_text("#significance-legend")
    reference = sorted(frame["FurnishingStatus"].unique())[0]
    assert f"Reference level of FurnishingStatus: {reference}" in p.inner_text("[data-reference]")
    for which in ("fit", "residuals"):
        walk.image_loaded(p.locator(f'img[data-chart="{which}"]'))
    assert "r_squared" not in p.inner_text("#result")
    for name, label in (("cov_type", "Standard errors"), ("hac_lags", "Newey–West lags"),
                        ("cluster", "Cluster by")):  # words, not "Cov type", "Hac lags"
        assert p.inner_text(f'label[for="p-{name}"]').startswith(label)
    tops = p.locator("#result-actions .btn").evaluate_all(
        "bs => bs.map(b => Math.round(b.getBoundingClientRect().top))")
    assert len(tops) >= 7 and len(set(tops)) == 1  # save, report, downloads, copies: one row
    p.fill("#predict-form input[name='at.Area']", "5000")  # one field per regressor, no JSON
    p.select_option("#predict-form select", "unfurnished")
    with walk.navigation():
        p.locator("#predict-form").get_by_role("button", name="Predict").click()
    expected = model.predict(pd.DataFrame({"Area": [5000], "FurnishingStatus": ["unfurnished"]}))
    cells = p.locator("#ols-predictions tbody td").all_inner_texts()
    assert cells[:2] == ["5,000", "unfurnished"] and agrees(cells[2], float(expected.iloc[0]))
    table = p.locator("#ols-coefficients")
    p.set_viewport_size(PHONE)  # a phone shows the estimates beside the terms
    coefficient = table.locator("thead th", has_text="Coefficient").bounding_box()
    assert coefficient["x"] + coefficient["width"] <= PHONE["width"]
    p.set_viewport_size(DESKTOP)
    walk.see("regression")


def scatter_and_pie(walk: Walk) -> None:
    """The builder starts a scatter on the two most correlated numeric columns and a pie on
    the counts of the first text column with a few values; both draw."""
    p = walk.p
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    r = frame.select_dtypes("number").corr().abs()
    r = r.where(np.triu(np.ones(r.shape, dtype=bool), k=1))
    y, x = r.stack().idxmax()
    counts = frame.select_dtypes(exclude="number").nunique()
    category = next(c for c, n in counts.items() if 3 <= n <= 12)
    walk.nav("Datasets")
    assert p.locator("tbody td:first-child a").all_inner_texts() == [
        "HousingPreferences.csv", "2020Q1.xlsx"]  # the latest first
    walk.see("library")
    with walk.navigation():
        p.get_by_role("link", name="HousingPreferences.csv").click()
    with walk.navigation():
        p.get_by_role("link", name="Build a chart").click()
    p.wait_for_selector("#preview[data-renders='1']", timeout=20_000)
    p.select_option("#kind", "scatter")
    assert p.input_value("#x") == x != y
    assert p.locator("#x option:checked").inner_text() == f"{x} (number)"  # not int64
    assert p.locator("#y-list input:checked").evaluate_all("l => l.map(i => i.value)") == [y]
    p.wait_for_function("() => +document.querySelector('#preview').dataset.renders >= 2",
                        timeout=20_000)
    walk.image_loaded(p.locator("#preview img"))
    walk.see("builder-scatter")
    p.select_option("#kind", "pie")
    assert p.input_value("#x") == category
    assert p.locator("#x option:checked").inner_text() == f"{category} (text)"
    assert p.locator("#y-list input:checked").count() == 0  # counts of rows
    p.wait_for_function("() => +document.querySelector('#preview').dataset.renders >= 3",
                        timeout=20_000)
    walk.image_loaded(p.locator("#preview img"))
    walk.see("builder-pie")
    with walk.navigation(url=re.compile(r"/charts/[\w-]+(\?.*)?$")):
        p.click("#save-chart")
    assert category in p.locator("h1").inner_text()
    image = p.locator("#chart-image")
    walk.image_loaded(image)
    assert image.evaluate(RIGHT_EDGE_INK) == 0, "the pie's legend runs off the image"
    walk.see("chart-pie")


def report_on_the_chosen_dataset(walk: Walk) -> str:
    """Reports opens on the latest dataset; a person picks the workbook in the select and
    builds: the PDF is about the workbook. Returns the PDF's address."""
    p = walk.p
    walk.nav("Reports")
    assert p.locator("#dataset option:checked").inner_text() == "HousingPreferences.csv"
    p.select_option("#dataset", label="2020Q1.xlsx")
    p.wait_for_url(re.compile(r"/reports\?dataset="))
    assert p.input_value("#title") == "Report on 2020Q1"
    first = list(workbook_sheet("HPI").columns[1:4])  # after the period column
    assert p.get_attribute("#ols_formula", "placeholder") == \
        f"e.g. {first[0]} ~ {first[1]} + {first[2]}"  # a hint from this workbook
    for select in ("#ols_sheet", "#growth_sheet"):
        assert "none" in p.locator(f"{select} option").all_inner_texts()
    chart = p.get_by_label(re.compile("^HPI vs RHPI"))  # saved charts by their titles
    chart.check()
    walk.see("reports-form")
    p.click("#build")
    p.wait_for_url(re.compile(r"/reports/[\w-]+$"))
    link = p.locator("#result [data-report-pdf]")
    link.wait_for(timeout=60_000)
    assert p.inner_text("[data-report-dataset]") == "2020Q1.xlsx"
    assert p.locator("#result a").count() == 2  # one download, one view
    walk.see("report-built")
    with p.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == "Report on 2020Q1.pdf"
    pdf = walk.keep(info.value, "report.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert text.lstrip().startswith("Report on 2020Q1")
    assert "2020Q1.xlsx" in text and "HousingPreferences" not in text
    assert re.search(r"HPI vs RHPI: ", text) and "compare_sheets" not in text
    flat = " ".join(text.split())
    series = workbook_sheet("HPI").iloc[:, 1:].dropna(axis=1, how="all").shape[1]
    assert f"HPI: {series} columns, all numbers: " in flat  # words, not float64
    assert re.search(r"^\s*\(workbook\)\s+format\s", text, re.MULTILINE)  # kept whole
    assert re.search(r"Uploaded\s+\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC$", text, re.MULTILINE)
    first = re.search(r"Table \d+: Cleaning steps$", text, re.MULTILINE)  # no "continued"
    continued = text.find("Cleaning steps (continued)")
    assert first and (continued == -1 or first.start() < continued)  # its head comes first
    canada = workbook_sheet("HPI")["Canada"].dropna()
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("Canada")]
    assert any(any(math.isclose(v, canada.mean(), rel_tol=5e-4) for v in numbers_in(ln))
               for ln in lines), lines
    return walk.url + link.get_attribute("href")


def equations(walk: Walk) -> None:
    """x² − 4 = 0 has the roots 2 and −2; a linear system; a plot."""
    p = walk.p
    walk.nav("Equations")
    p.select_option("#action", "solve")
    p.fill("#equations", "x^2 - 4 = 0")
    with walk.navigation():
        p.get_by_role("button", name="Go").click()
    roots = sorted(float(value) for _, value in answers(p))
    assert roots == pytest.approx(sorted(np.roots([1, 0, -4]).real))
    walk.see("equations-solve")
    p.fill("#equations", "x + y = 3\nx - y = 1")
    with walk.navigation():
        p.get_by_role("button", name="Go").click()
    solution = np.linalg.solve([[1, 1], [1, -1]], [3, 1])
    assert answers(p) == [(name, f"{value:g}") for name, value in zip("xy", solution,
                                                                       strict=True)]
    walk.see("equations-system")
    p.select_option("#action", "plot")
    p.fill("#equations", "x^2 - 4")
    with walk.navigation():
        p.get_by_role("button", name="Go").click()
    walk.image_loaded(p.locator("#answer img"))
    walk.see("equations-plot")
