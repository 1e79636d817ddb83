"""Exuberance tests (PSY 2015): every window's ADF statistic against statsmodels, the sup
statistics against brute force, the Monte-Carlo null against MacKinnon's published distribution,
and the US housing boom of the early 2000s dated on the Dallas Fed's real house prices."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.adfvalues import mackinnonp
from statsmodels.tsa.stattools import adfuller

from analysis.exuberance import default_min_duration, episodes_from, exuberance
from analysis.exuberance_cv import LEVELS, default_window, simulate, simulate_null, window_from
from analysis.rolling_adf import sup_statistics, window_tstats
from errors import BadInput, Unprocessable
from tests.stats_fixtures import dallas


def sm_adf(values: np.ndarray, lag: int) -> float:
    return adfuller(values, maxlag=lag, autolag=None, regression="c", result_object=False)[0]


@pytest.mark.parametrize("lag", [0, 1, 3])
def test_every_window_statistic_equals_statsmodels_adfuller(lag):
    us = dallas("RHPI")["US"].to_numpy()
    window = default_window(len(us))
    t = window_tstats(us, lag, window)
    for start, end in [(0, window - 1), (0, 180), (37, 101), (100, 180), (155, 180), (3, 90)]:
        expected = sm_adf(us[start:end + 1], lag)
        assert t[start, end - window + 1] == pytest.approx(expected, rel=1e-8)
    assert np.isnan(t[10, 5])  # a start after the end: no window


def test_window_statistics_keep_their_digits_on_a_level_of_1e8():
    """1e8 + a random walk: statsmodels on the raw levels calls its design rank-deficient; the
    t-statistic does not change when a constant is subtracted (the regression has one), so
    statsmodels on y - 1e8 (exact in floating point) is the reference."""
    y = 1e8 + np.cumsum(np.random.default_rng(5).normal(size=200) + 0.3)
    t = window_tstats(y, 1, 30)
    for start, end in [(0, 29), (0, 199), (50, 120), (170, 199)]:
        expected = sm_adf(y[start:end + 1] - 1e8, 1)
        assert t[start, end - 29] == pytest.approx(expected, rel=1e-10)


def test_sup_statistics_equal_brute_force_over_windows():
    y = simulate_null(40, 1, 7)[0]
    window, lag = default_window(40), 1
    stats = sup_statistics(window_tstats(y, lag, window))
    ends = range(window - 1, 40)
    bsadf = [max(sm_adf(y[s:e + 1], lag) for s in range(e - window + 2)) for e in ends]
    forward = [sm_adf(y[:e + 1], lag) for e in ends]
    np.testing.assert_allclose(stats["bsadf"], bsadf, rtol=1e-8)
    assert stats["sadf"] == pytest.approx(max(forward), rel=1e-8)
    assert stats["gsadf"] == pytest.approx(max(bsadf), rel=1e-8)
    assert stats["adf"] == pytest.approx(sm_adf(y, lag), rel=1e-8)


def test_null_distribution_of_the_adf_matches_mackinnon():
    """The full-sample ADF of the simulated null follows the Dickey–Fuller distribution: the
    simulated 90/95/99 % quantiles sit at those levels of MacKinnon's (1994) response surface,
    within 4 Monte-Carlo standard errors (a quantile's level has sd √(p(1-p)/reps))."""
    reps = 1000
    cv = simulate(100, default_window(100), lag=0, reps=reps, seed=11)
    for level, q in zip(LEVELS, cv.adf, strict=True):
        assert mackinnonp(q, regression="c", N=1) == pytest.approx(
            level, abs=4 * np.sqrt(level * (1 - level) / reps))
    assert cv.sadf[0] < cv.sadf[1] < cv.sadf[2] and cv.gsadf[1] > cv.sadf[1] > cv.adf[1]
    assert len(cv.bsadf[1]) == 100 - cv.window + 1


def test_simulation_is_reproducible_and_refuses_absurd_runs():
    a = simulate(30, default_window(30), 1, 100, seed=3)
    assert a == simulate(30, default_window(30), 1, 100, seed=3)
    with pytest.raises(BadInput, match="samples of 20 to 2000 observations, not 5000"):
        simulate(5000, 400, 1, 2000)
    with pytest.raises(BadInput, match="Replications must be from 100 to 100,000, not "
                                       "10,000,000"):
        simulate(181, 26, 1, 10_000_000)
    with pytest.raises(BadInput, match="too short for an ADF regression with 4 lag"):
        window_from(100, 0.1, 4)


def test_episodes_keep_runs_of_the_minimum_duration():
    periods = tuple(f"p{i}" for i in range(14))
    flags = np.array([0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1], dtype=bool)
    got = episodes_from(flags, periods, 2, 3)
    assert got == [{"start": "p6", "end": "p8", "periods": 3, "ongoing": False},
                   {"start": "p11", "end": "p13", "periods": 3, "ongoing": True}]
    assert default_min_duration(181) == 5


@pytest.fixture(scope="module")
def lookup():
    """Critical values simulated once per key for the module (they take a second or two)."""
    store = {}

    def find(t, window, lag, reps):
        if (t, window, lag, reps) not in store:
            store[(t, window, lag, reps)] = simulate(t, window, lag, reps)
        return store[(t, window, lag, reps)]

    return find


@pytest.fixture(scope="module")
def rhpi_result(lookup):
    return exuberance(dallas("RHPI"), "RHPI", ["US", "S. Korea"], lookup, reps=100)


def test_us_housing_boom_of_the_early_2000s_is_an_explosive_episode(rhpi_result):
    us = next(s for s in rhpi_result.series if s.column == "US")
    assert us.gsadf > us.critical.gsadf[2]  # beyond the 99 % critical value
    boom = [e for e in us.episodes
            if pd.Period(e["start"]) <= pd.Period("2004Q1")
            and pd.Period(e["end"]) >= pd.Period("2005Q4")]
    assert boom and pd.Period(boom[0]["start"]) <= pd.Period("2002Q1")
    assert all(e["periods"] >= 5 for e in us.episodes)
    row = next(r for r in rhpi_result.summary_rows() if r["column"] == "US")
    assert row["GSADF"] == pytest.approx(max(us.bsadf))


def test_missing_critical_values_are_named_not_guessed():
    result = exuberance(dallas("RHPI"), "RHPI", ["US"], lambda *key: None)
    assert result.missing == ({"t": 181, "window": 26, "lag": 1, "reps": 2000},)
    body = result.to_dict()
    assert body["critical_values_ready"] is False and body["columns"][0]["episodes"] == []


@pytest.mark.parametrize("values, message", [
    ([np.nan] * 30, "has no values (all missing)"),
    ([5.0] * 30, "is constant (5); an exuberance test needs a series that varies"),
    (list(range(12)) + [np.nan] * 18, "has 12 observations; an exuberance test needs at least 20"),
    ([1.0, np.nan] + list(range(28)), "has a missing value at 2000Q2 inside its data"),
])
def test_bad_series_are_refused_with_a_reason(values, message):
    frame = pd.DataFrame({"x": values}, index=pd.period_range("2000Q1", periods=30, freq="Q"))
    with pytest.raises(Unprocessable, match=message.replace("(", r"\(").replace(")", r"\)")):
        exuberance(frame, "S", ["x"], lambda *key: None)


def test_a_sheet_without_periods_is_refused():
    frame = pd.DataFrame({"x": np.arange(50.0)})
    with pytest.raises(BadInput, match="has no period index"):
        exuberance(frame, "Plain", ["x"], lambda *key: None)


def test_report_section_escapes_names_and_shows_dashes_for_missing_values():
    from rendition.latex import TimeSeriesSection
    from rendition.latex.sections import render_section

    partial = {"kind": "exuberance", "sheet": "S", "lag": 1, "replications": 100,
               "significance": "95",
               "columns": [{"column": r"50% \input{x}", "gsadf": 1.5, "gsadf_critical": None,
                            "exuberant_now": None,
                            "episodes": [{"start": "2001Q1", "end": "2003Q2", "periods": 6}]}]}
    rendered = render_section(TimeSeriesSection(partial), {})
    assert r"\input{x}" not in rendered.body and r"50\%" in rendered.body
    assert "2001Q1" in rendered.body and "2003Q2" in rendered.body
    assert "Exuberance test (GSADF)" in rendered.bookmark


def test_the_price_to_income_ratio_is_tested_when_asked(lookup):
    from analysis.registry import ANALYSES

    sheets = {"HPI": dallas("HPI"), "PDI": dallas("PDI")}
    result = ANALYSES["exuberance"].run(
        sheets.__getitem__, {"sheet": "HPI", "divide_by": "PDI", "columns": ["US"],
                             "replications": 100}, {"critical_values": lookup})
    [us] = result.series
    ratio = (sheets["HPI"]["US"] / sheets["PDI"]["US"]).dropna()
    np.testing.assert_allclose(us.values, ratio.to_numpy(), rtol=1e-12)
    assert result.sheet == "HPI / PDI" and us.periods[0] == str(ratio.index[0])
    assert us.gsadf == pytest.approx(sup_statistics(window_tstats(
        ratio.to_numpy(), 1, us.window))["gsadf"])


# Phillips, Shi and Yu (2015, IER 56(4)), Table 1: the 95 % finite-sample critical values of the
# SADF and GSADF statistics at T = 100 (r0 = 0.01 + 1.8/√T = 0.190, ADF with a constant and lag 0,
# null a random walk with drift 1/T). Source: deanfantazzini/bubble, R/function_PSY.R at commit
# 08918f24464c7434eaf67b46b1414b7dbcb07b04, whose size_SADF/size_GSADF examples replicate PSY's
# Table 2 (size at the 5 % level) with these Table 1 values as the critical values.
PSY_T100_95 = {"sadf": 1.30, "gsadf": 2.00}
PSY_REPS = 2000  # the replications behind a published value (its own Monte-Carlo error)


def test_critical_values_agree_with_psy_2015_within_monte_carlo_error():
    """The app's simulated 95 % critical values at PSY's published setting (T = 100, lag 0, PSY's
    minimum window) agree with the published ones within 3.5 combined Monte-Carlo standard errors.
    The simulation runs in `batches` independent seeds; the estimate is the batch mean and its
    standard error the batches' spread / √batches (batch means). The published value carries
    the error of a run of PSY_REPS replications (the same spread, scaled) and its rounding to
    two decimals (uniform, sd 0.01/√12)."""
    t, batches, per_batch = 100, 16, 250
    window = default_window(t)
    assert window == 19  # ⌊(0.01 + 1.8/10)·100⌋, r0 = 0.190 as PSY's table
    runs = [simulate(t, window, lag=0, reps=per_batch, seed=1000 + b) for b in range(batches)]
    level = LEVELS.index(0.95)
    for name, published in PSY_T100_95.items():
        values = np.array([getattr(run, name)[level] for run in runs])
        spread = values.std(ddof=1)
        se_ours = spread / np.sqrt(batches)
        se_psy = spread * np.sqrt(per_batch / PSY_REPS)
        se = np.sqrt(se_ours**2 + se_psy**2 + 0.01**2 / 12)
        assert 0.01 < se < 0.1, (name, se)  # a sane error estimate, or the check means nothing
        assert values.mean() == pytest.approx(published, abs=3.5 * se), (name, values.mean(), se)
