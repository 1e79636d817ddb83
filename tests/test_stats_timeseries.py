"""Time series over the 2020Q1 quarters, checked by hand from the sheet's cells."""

import numpy as np
import pandas as pd
import pytest

from analysis.timeseries import (
    cagr,
    drawdowns,
    growth,
    implied_deflator,
    price_to_income,
    rebase,
    rolling_mean,
)
from errors import BadInput
from tests.stats_fixtures import case_shiller, dallas


def cell(frame, period, column):
    return float(frame.loc[pd.Period(period, freq="Q"), column])


def test_yoy_growth_of_one_country_by_hand():
    hpi = dallas("HPI")
    result = growth(hpi, "HPI", ["Spain"], 4).to_dict()
    assert result["index"][0] == "1975Q1" and result["unit"] == "percent"
    by_period = dict(zip(result["index"], result["series"]["Spain"], strict=True))
    expected = (cell(hpi, "2008Q1", "Spain") / cell(hpi, "2007Q1", "Spain") - 1) * 100
    assert by_period["2008Q1"] == pytest.approx(expected, rel=1e-12)
    assert result["series"]["Spain"][:4] == [None] * 4


def test_qoq_growth_and_rolling_mean_by_hand():
    hpi = dallas("HPI")
    q = growth(hpi, "HPI", ["US"], 1).to_dict()["series"]["US"]
    us = hpi["US"].to_numpy()
    assert q[10] == pytest.approx((us[10] / us[9] - 1) * 100)
    r = rolling_mean(hpi, "HPI", ["US"], 4).to_dict()["series"]["US"]
    assert r[:3] == [None] * 3 and r[7] == pytest.approx(us[4:8].mean())


def test_rebase_to_a_quarter_and_to_a_year_mean():
    hpi = dallas("HPI")
    q = rebase(hpi, "HPI", ["UK"], "2010Q1").to_dict()
    base = cell(hpi, "2010Q1", "UK")
    assert q["series"]["UK"][0] == pytest.approx(cell(hpi, "1975Q1", "UK") / base * 100)
    y = rebase(hpi, "HPI", ["UK"], "2010").to_dict()["series"]["UK"]
    year = np.mean([cell(hpi, f"2010Q{i}", "UK") for i in range(1, 5)])
    assert y[-1] == pytest.approx(cell(hpi, "2020Q1", "UK") / year * 100)


def test_cagr_uses_true_years_between_periods():
    hpi = dallas("HPI")
    row = cagr(hpi, "HPI", ["US"], "2000Q1", "2012Q3").to_dict()["columns"][0]
    years = 12.5
    v0, v1 = cell(hpi, "2000Q1", "US"), cell(hpi, "2012Q3", "US")
    assert row["years"] == pytest.approx(years)
    assert row["cagr_percent"] == pytest.approx(((v1 / v0) ** (1 / years) - 1) * 100)


def test_deflator_and_price_to_income_across_sheets():
    hpi, rhpi, pdi = dallas("HPI"), dallas("RHPI"), dallas("PDI")
    d = implied_deflator(hpi, rhpi, ["Canada"], "HPI", "RHPI").to_dict()
    assert d["series"]["Canada"][50] == pytest.approx(
        100 * hpi["Canada"].iloc[50] / rhpi["Canada"].iloc[50])
    p = price_to_income(hpi, pdi, ["Canada"], "HPI", "PDI", scale=100).to_dict()
    assert p["series"]["Canada"][-1] == pytest.approx(
        100 * hpi["Canada"].iloc[-1] / pdi["Canada"].iloc[-1])
    shorter = rhpi.iloc[10:]
    d2 = implied_deflator(hpi, shorter, ["Canada"], "HPI", "RHPI").to_dict()
    assert d2["index"][0] == "1977Q3" and len(d2["index"]) == len(shorter)


def test_drawdown_2007_2012_by_numpy():
    hpi = dallas("HPI")
    result = drawdowns(hpi, "HPI", ["Spain", "US"], "2007", "2012").to_dict()
    window = hpi.loc[pd.Period("2007Q1", "Q"):pd.Period("2012Q4", "Q")]
    for row in result["columns"]:
        w = window[row["column"]].to_numpy()
        running = np.maximum.accumulate(w)
        trough = int(np.argmin(w / running))
        peak = int(np.argmax(w[: trough + 1]))
        assert row["peak_period"] == str(window.index[peak])
        assert row["trough_period"] == str(window.index[trough])
        assert row["drawdown_percent"] == pytest.approx((w[trough] / w[peak] - 1) * 100)
        later = hpi[row["column"]].loc[window.index[trough] + 1:]
        back = later[later >= w[peak]]
        assert row["recovery_period"] == (str(back.index[0]) if len(back) else None)
    assert result["columns"][1]["recovery_period"] is not None  # US came back before 2020


@pytest.mark.parametrize("call, fragment", [
    (lambda f: growth(f.reset_index(drop=True), "HPI", ["US"], 4), "no period index"),
    (lambda f: rebase(f, "HPI", ["US"], "1960"), "1975Q1–2020Q1"),
    (lambda f: cagr(f, "HPI", ["US"], "2000Q1", "2031Q1"), "'2031Q1' is outside"),
    (lambda f: growth(f, "HPI", ["Nope"], 4), "'Nope'"),
    (lambda f: growth(f.assign(Text="a"), "HPI", ["Text"], 4), "'Text'"),
    (lambda f: drawdowns(f, "HPI", ["US"], "2012", "2007"), "2012–2007"),
    (lambda f: drawdowns(f.iloc[:1], "HPI", ["US"]), "1975Q1–1975Q1 of sheet 'HPI'"),
    (lambda f: rebase(f, "HPI", ["US"], "2010Q5"), "'2010Q5' is not a period"),
    (lambda f: growth(f, "HPI", ["US"], 0), "'periods'"),
])
def test_bad_time_series_input(call, fragment):
    with pytest.raises(BadInput) as info:
        call(dallas("HPI"))
    assert fragment in info.value.message


def test_rebase_on_dates_reproduces_the_published_base():
    """FRED publishes CSUSHPINSA with January 2000 = 100: rebasing to 2000-01 must give the
    file's own numbers back."""
    cs = case_shiller()
    result = rebase(cs, "CS", ["CSUSHPINSA"], "2000-01").to_dict()
    assert result["index"][0] == "1987-01-01"
    assert result["series"]["CSUSHPINSA"] == pytest.approx(cs["CSUSHPINSA"].tolist(), rel=1e-12)


@pytest.mark.parametrize("text", ["2010Q1", "2010:Q1", "Q1 2010", "2010 q1"])
def test_a_quarter_on_monthly_dates_is_the_mean_of_its_three_months(text):
    cs = case_shiller()
    result = rebase(cs, "CS", ["CSUSHPINSA"], text).to_dict()["series"]["CSUSHPINSA"]
    base = np.mean([cs.loc[f"2010-0{m}-01", "CSUSHPINSA"] for m in (1, 2, 3)])
    assert result[-1] == pytest.approx(cs["CSUSHPINSA"].iloc[-1] / base * 100, rel=1e-12)


def test_cagr_on_dates_uses_days_between():
    cs = case_shiller()
    row = cagr(cs, "CS", ["CSUSHPINSA"], "2000-01", "2020-07").to_dict()["columns"][0]
    v0, v1 = cs.loc["2000-01-01", "CSUSHPINSA"], cs.loc["2020-07-01", "CSUSHPINSA"]
    years = (pd.Timestamp("2020-07-01") - pd.Timestamp("2000-01-01")).days / 365.25
    assert row["years"] == pytest.approx(years, rel=1e-12)
    assert row["cagr_percent"] == pytest.approx(((v1 / v0) ** (1 / years) - 1) * 100, rel=1e-9)


def test_division_by_zero_is_null_and_said():
    frame = pd.DataFrame({"x": [2.0, 0.0, 3.0, 6.0]},
                         index=pd.period_range("2000Q1", periods=4, freq="Q"))
    result = growth(frame, "S", ["x"], 1).to_dict()
    assert result["series"]["x"] == [None, -100.0, None, 100.0]
    assert result["notes"] == ["Column 'x': 1 value(s) are undefined because the earlier value "
                               "is 0; they are shown as null."]
