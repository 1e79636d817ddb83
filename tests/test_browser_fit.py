"""Fit to data in Chromium: upload, "Fit a curve", a*exp(b*t) on US, b with its interval, the
doubling from 2000Q1 solved, the plot drawn (issue 18's "done when")."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


def test_fit_us_house_prices_and_solve_the_doubling(live_server, page, tmp_path):
    p = page.page
    p.goto(live_server.url + "/upload")
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(DATA / "2020Q1.xlsx"))
    p.get_by_role("link", name="Fit a curve").click()
    p.wait_for_url(re.compile(r"/equations/fit"))
    with p.expect_navigation():
        p.select_option("#sheet", "HPI")
    assert "`S. Korea`" in p.inner_text("#columns")
    p.fill("#model", "US = a*exp(b*t)")
    p.fill("#solve", "US = 2*US(2000Q1)")
    p.fill("#derived", "log(2)/b")
    p.get_by_role("button", name="Fit").click()
    p.wait_for_selector("#estimates")

    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    y = pd.to_numeric(raw["US"].iloc[1:]).to_numpy(float)
    t = np.arange(len(y)) / 4
    (a, b), _ = curve_fit(lambda t, a, b: a * np.exp(b * t), t, y, p0=[20, 0.04])
    row = p.locator("#estimates tr", has_text="b").last.inner_text()
    assert f"{b:.4g}" in row and " to " in row  # b and its 95% interval
    assert p.locator("#fitted-model math").count() == 1
    solution = p.inner_text(".solution")
    years = 25 + math.log(2) / b
    quarter = 1975 * 4 + math.floor(years * 4)
    assert f"{quarter // 4}Q{quarter % 4 + 1}" in solution and f"{years:.6g}" in solution
    image = p.locator("#fit-plot")
    assert p.evaluate("img => img.complete && img.naturalWidth", image.element_handle()) == 800
    page.check_accessibility()
    p.screenshot(path=str(tmp_path / "fit.png"), full_page=True)  # to look at: --basetemp
    assert not page.console_errors
