"""A fit as a report section: the PDF shows the estimates, the solution and the plot."""

import math

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from rendition.latex.tables import format_number
from tests.test_reports_api import built, hpi, pdf_bytes, pdf_text  # noqa: F401
from tests.upload_actions import DATA


def test_fit_section_in_a_report(client, hpi, tmp_path):  # noqa: F811
    section = {"type": "fit", "sheet": "HPI", "model": "US = a*exp(b*t)",
               "solve": "US = 2*US(2000Q1)", "derived": ["log(2)/b"]}
    report = built(client, hpi, [section])
    assert report["status"] == "done", report["error"]
    data = pdf_bytes(client, report["id"])
    text = pdf_text(data, tmp_path)
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    y = pd.to_numeric(raw["US"].iloc[1:]).to_numpy(float)
    t = np.arange(len(y)) / 4
    (a, b), _ = curve_fit(lambda t, a, b: a * np.exp(b * t), t, y, p0=[20, 0.04])
    assert "Fit: US = a*exp(b*t)" in text
    assert format_number(float(b)) in text and format_number(float(a)) in text
    assert format_number(math.log(2) / b) in text and "2020Q1" in text
    assert b"/Subtype /Image" in data or b"/Subtype/Image" in data  # the plot


def test_fit_section_needs_a_model(client, hpi):  # noqa: F811
    response = client.post("/api/v1/reports", json={
        "dataset": hpi["id"], "title": "t", "sections": [{"type": "fit", "sheet": "HPI"}]})
    assert response.status_code == 400
    assert "Section 1 (fit) needs model" in response.get_json()["error"]["message"]
    bad = client.post("/api/v1/reports", json={
        "dataset": hpi["id"], "title": "t",
        "sections": [{"type": "fit", "sheet": "HPI", "model": "US = 2*UK"}]})
    assert bad.status_code == 400 and "no parameter to fit" in bad.get_json()["error"]["message"]
