"""Unit-root tests, correlograms, filters and window statistics, each against statsmodels or
pandas called directly on the same data (Dallas Fed quarters, Case-Shiller months)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.filters.hp_filter import hpfilter
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.stattools import acf, adfuller, kpss, pacf

from analysis.filters import hp_filter, stl_decompose, window_statistics
from analysis.unitroot import adf_test, correlogram, kpss_test
from errors import BadInput, Unprocessable
from tests.stats_fixtures import DATA, dallas


@pytest.fixture(scope="module")
def rhpi():
    return dallas("RHPI")


@pytest.fixture(scope="module")
def case_shiller():
    raw = pd.read_csv(DATA / "CSUSHPINSA.csv")
    return pd.DataFrame({"CS": raw["CSUSHPINSA"].to_numpy(float)},
                        index=pd.PeriodIndex(raw["DATE"], freq="M"))


@pytest.mark.parametrize("rule, maxlag", [("AIC", None), ("BIC", 8), ("fixed", 2)])
def test_adf_equals_statsmodels_and_shows_the_lag_rule(rhpi, rule, maxlag):
    row = adf_test(rhpi, "RHPI", ["UK"], "c", rule, maxlag).to_dict()["columns"][0]
    top = maxlag if maxlag is not None else int(np.ceil(12 * (181 / 100) ** 0.25))
    stat, p, lags, nobs, crit, *_ = adfuller(
        rhpi["UK"].to_numpy(), maxlag=top, regression="c",
        autolag=None if rule == "fixed" else rule, result_object=False)
    assert row["statistic"] == pytest.approx(stat, rel=1e-12)
    assert row["p_value"] == pytest.approx(p, rel=1e-12)
    assert (row["lags"], row["nobs"]) == (lags, nobs)
    assert row["cv_5%"] == pytest.approx(crit["5%"])
    assert row["lag_rule"] == (f"fixed ({top})" if rule == "fixed" else f"{rule} (max {top})")


def test_kpss_equals_statsmodels_and_flags_a_bound_p_value(rhpi):
    row = kpss_test(rhpi, "RHPI", ["US"], "ct").to_dict()["columns"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stat, p, lags, crit = kpss(rhpi["US"].to_numpy(), regression="ct", nlags="auto",
                                   result_object=False)
    assert row["statistic"] == pytest.approx(stat, rel=1e-12)
    assert (row["p_value"], row["lags"]) == (pytest.approx(p), lags)
    assert row["p_value_bound"] == ("smaller" if p <= 0.01 else "greater" if p >= 0.1 else None)


def test_correlogram_equals_statsmodels_with_band_half_widths(rhpi):
    result = correlogram(rhpi, "RHPI", "US", 12).to_dict()
    values = rhpi["US"].to_numpy()
    a, a_ci = acf(values, nlags=12, alpha=0.05, fft=True, result_object=False)
    p, p_ci = pacf(values, nlags=12, alpha=0.05, result_object=False)
    rows = result["lags"]
    np.testing.assert_allclose([r["acf"] for r in rows], a[1:], rtol=1e-12)
    np.testing.assert_allclose([r["pacf"] for r in rows], p[1:], rtol=1e-12)
    np.testing.assert_allclose([r["acf_band"] for r in rows], a_ci[1:, 1] - a[1:], rtol=1e-10)
    assert rows[0]["pacf_band"] == pytest.approx(1.959963984540054 / np.sqrt(181))


def test_hp_filter_uses_1600_for_quarters_and_equals_statsmodels(rhpi):
    result = hp_filter(rhpi, "RHPI", "US").to_dict()
    cycle, trend = hpfilter(rhpi["US"].to_numpy(), lamb=1600)
    assert (result["lambda"], result["lambda_rule"]) == (1600, "quarterly")
    np.testing.assert_allclose(result["components"]["trend"], trend, rtol=1e-10)
    np.testing.assert_allclose(result["components"]["cycle"], cycle, rtol=1e-8, atol=1e-10)


def test_hp_filter_uses_129600_for_months_or_the_given_lambda(case_shiller):
    assert hp_filter(case_shiller, "CS", "CS").to_dict()["lambda"] == 129600
    result = hp_filter(case_shiller, "CS", "CS", 14400).to_dict()
    _, trend = hpfilter(case_shiller["CS"].to_numpy(), lamb=14400)
    assert result["lambda_rule"] == "set by you"
    np.testing.assert_allclose(result["components"]["trend"], trend, rtol=1e-10)


def test_stl_of_a_monthly_series_equals_statsmodels(case_shiller):
    result = stl_decompose(case_shiller, "CS", "CS").to_dict()
    fit = STL(case_shiller["CS"].to_numpy(), period=12).fit()
    assert result["period"] == 12
    for name, expected in (("trend", fit.trend), ("seasonal", fit.seasonal),
                           ("residual", fit.resid)):
        np.testing.assert_allclose(result["components"][name], expected, rtol=1e-10,
                                   atol=1e-10)


@pytest.mark.parametrize("expanding", [False, True])
def test_window_statistics_equal_pandas(rhpi, expanding):
    result = window_statistics(rhpi, "RHPI", "UK", 8, expanding).to_dict()
    series = rhpi["UK"]
    roll = series.expanding() if expanding else series.rolling(8)
    for name, expected in (("mean", roll.mean()), ("sd", roll.std()), ("min", roll.min()),
                           ("max", roll.max())):
        got = np.array([np.nan if v is None else v for v in result["components"][name]])
        np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda f: stl_decompose(f, "RHPI", "US", 100), BadInput,
     "STL with period 100 needs at least 200 observations; column 'US' has 181"),
    (lambda f: correlogram(f, "RHPI", "US", 500), BadInput, "'nlags' must be from 1 to 89"),
    (lambda f: adf_test(f, "RHPI", ["US"], "c", "fixed"), BadInput, "needs 'maxlag'"),
    (lambda f: hp_filter(f.assign(US=7.0), "RHPI", "US"), Unprocessable, "is constant"),
    (lambda f: window_statistics(f, "RHPI", "US", 500), BadInput, "'window' must be from 2"),
    (lambda f: kpss_test(f.reset_index(drop=True), "RHPI", ["US"]), BadInput,
     "has no period index"),
])
def test_bad_input_is_refused_with_a_reason(rhpi, call, error, message):
    with pytest.raises(error, match=message):
        call(rhpi)
