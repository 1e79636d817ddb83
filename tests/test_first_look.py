"""The first look's alerts (analysis/first_look.py) on small synthetic frames, each expected
number computed here with numpy/pandas; and the no-alert case, the big-sheet sample."""

import numpy as np
import pandas as pd
import pytest

from analysis import first_look as fl
from analysis.first_look import first_look, pairwise_pearson


def alerts_of(result, kind):
    return [a for a in result.alerts if a.kind == kind]


def uniform_frame(n=200, seed=1):
    """Independent uniform columns: no outliers (the fences lie beyond the range), no ties,
    no correlation near 0.9."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(5, 9, n),
                         "label": [f"row {i}" for i in range(n)]})


def test_a_clean_sheet_has_no_alerts():
    frame = uniform_frame()
    assert abs(np.corrcoef(frame["a"], frame["b"])[0, 1]) < 0.9
    result = first_look(frame, "clean")
    assert result.alerts == ()
    assert result.to_dict()["alerts"] == []
    assert (result.n_rows, result.n_columns, result.correlation_rows) == (200, 3, 200)


def test_missing_values_at_or_above_five_percent_are_counted():
    frame = uniform_frame(40)
    frame.loc[frame.index[:6], "a"] = np.nan      # 15 %
    frame.loc[frame.index[:1], "b"] = np.nan      # 2.5 %: below the threshold
    frame.loc[frame.index[::4], "label"] = None   # text, 25 %
    (a, label) = alerts_of(first_look(frame, "s"), "missing")
    assert a.columns == ("a",) and a.severity == "warning"
    assert a.figures == {"missing": int(frame["a"].isna().sum()), "n": 40,
                         "share": frame["a"].isna().mean()}
    assert a.message == "a: 6 of 40 values missing (15.0 %)."
    assert label.columns == ("label",)
    assert label.figures["missing"] == int(frame["label"].isna().sum()) == 10
    assert a.links[0].params == {"kind": "describe", "sheet": "s"}


def test_columns_missing_as_many_values_share_one_alert():
    frame = uniform_frame(40)
    for name in ("2001", "2002", "2003", "2004"):
        frame[name] = np.where(np.arange(40) < 8, np.nan, 1.0 + np.arange(40) % 7)
    frame.loc[frame.index[:12], "2004"] = np.nan
    first, last = alerts_of(first_look(frame, "wide"), "missing")
    assert first.columns == ("2001", "2002", "2003")
    assert first.message == "2001, 2002, 2003: 8 of 40 values missing in each (20.0 %)."
    assert (last.columns, last.figures["missing"]) == (("2004",), int(frame["2004"].isna().sum()))


def test_infinite_values_are_not_counted_as_missing():
    frame = uniform_frame(40)
    frame.loc[frame.index[:3], "a"] = np.inf
    frame.loc[frame.index[3], "a"] = np.nan
    assert first_look(frame, "s").alerts == ()  # 1 of 40 missing (2.5 %); 3 are ±inf
    frame.loc[frame.index[4:6], "a"] = np.nan
    (alert,) = first_look(frame, "s").alerts
    assert alert.figures["missing"] == int(np.isnan(frame["a"]).sum()) == 3


def test_an_empty_column_is_one_alert():
    frame = uniform_frame(30).assign(empty=np.nan)
    (alert,) = first_look(frame, "s").alerts
    assert (alert.kind, alert.title, alert.columns) == ("missing", "Empty column", ("empty",))
    assert alert.figures["share"] == 1.0


def test_constant_and_nearly_constant_columns():
    n = 200
    frame = uniform_frame(n).assign(
        seven=7.0, unit="Index, 1995 = 100",
        flag=["no"] * 194 + ["yes"] * 6,         # 97 %
        mostly=["x"] * 180 + ["y"] * 20)         # 90 %: below 95 %
    result = first_look(frame, "s")
    constant = {a.columns[0]: a for a in alerts_of(result, "constant")}
    assert set(constant) == {"seven", "unit"}
    assert constant["seven"].figures == {"value": 7.0, "count": n, "n": n}
    assert constant["unit"].message == "unit: every one of its 200 values is 'Index, 1995 = 100'."
    (near,) = alerts_of(result, "near_constant")
    counts = frame["flag"].value_counts()
    assert near.columns == ("flag",) and near.severity == "note"
    assert near.figures == {"value": counts.index[0], "count": int(counts.iloc[0]), "n": n,
                            "share": counts.iloc[0] / n}
    # a constant column is in no correlation or outlier alert
    assert all("seven" not in a.columns for a in result.alerts if a.kind != "constant")


def test_nearly_constant_on_a_big_column_is_counted_exactly_after_the_sample():
    rng = np.random.default_rng(3)
    flag = np.where(rng.random(50_000) < 0.96, "no", "yes")
    (near,) = first_look(pd.DataFrame({"flag": flag}), "s").alerts
    assert near.figures["count"] == int((flag == "no").sum())


def test_highly_correlated_pairs_name_the_pair_and_r():
    rng = np.random.default_rng(5)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "twice": 2 * x + rng.normal(scale=0.2, size=300),
                          "minus": -x + rng.normal(scale=0.4, size=300),
                          "other": rng.normal(size=300)})
    frame.loc[frame.index[:30], "minus"] = np.nan  # pairwise-complete rows
    alerts = alerts_of(first_look(frame, "s"), "correlation")
    expected = frame.corr()  # pandas: pairwise complete observations
    pairs = {(a, b): expected.loc[a, b] for a in frame for b in frame
             if a < b and abs(expected.loc[a, b]) >= 0.9}
    assert {tuple(sorted(a.columns)) for a in alerts} == set(pairs)
    strongest = max(pairs, key=lambda p: abs(pairs[p]))
    assert tuple(sorted(alerts[0].columns)) == strongest
    for alert in alerts:
        assert alert.figures["r"] == pytest.approx(pairs[tuple(sorted(alert.columns))],
                                                   abs=1e-12)
        a, b = alert.columns
        assert alert.figures["n"] == int((frame[a].notna() & frame[b].notna()).sum())
        assert alert.message == f"{a} and {b}: r = {alert.figures['r']:.3f}."
        assert alert.links[0].params == {"kind": "correlation", "sheet": "s",
                                         "columns": [a, b]}


def test_more_than_five_pairs_are_summed_up_in_one_alert():
    rng = np.random.default_rng(6)
    base = rng.normal(size=100)
    frame = pd.DataFrame({f"c{i}": base + rng.normal(scale=0.05, size=100) for i in range(5)})
    alerts = alerts_of(first_look(frame, "s"), "correlation")
    assert len(alerts) == fl.MAX_PAIRS + 1
    assert alerts[-1].figures["pairs"] == 10 - fl.MAX_PAIRS  # 5 columns: 10 pairs
    assert [link.params for link in alerts[-1].links] == [{"kind": "correlation", "sheet": "s"}]


def test_pairwise_pearson_equals_pandas_on_missing_values_and_large_magnitudes():
    rng = np.random.default_rng(7)
    values = rng.normal(size=(500, 6)) * [1, 1e6, 1e-6, 1, 5, 1] + [0, 3e9, 0, 1e5, 0, 0]
    values[:, 3] += values[:, 0]
    values[rng.random(values.shape) < 0.2] = np.nan
    r, n = pairwise_pearson(values)
    frame = pd.DataFrame(values)
    np.testing.assert_allclose(r, frame.corr().to_numpy(), atol=1e-9)
    present = frame.notna().astype(int).to_numpy()
    np.testing.assert_array_equal(n, present.T @ present)


def test_extreme_outliers_beyond_three_iqr():
    rng = np.random.default_rng(8)
    values = rng.uniform(10, 20, 200)
    values[[3, 50]] = [95.0, -80.0]
    result = first_look(pd.DataFrame({"v": values}), "s")
    (alert,) = alerts_of(result, "outliers")
    q1, q3 = np.percentile(values, [25, 75])
    low, high = q1 - 3 * (q3 - q1), q3 + 3 * (q3 - q1)
    assert alert.figures["count"] == int(((values < low) | (values > high)).sum()) == 2
    assert (alert.figures["below"], alert.figures["above"]) == (1, 1)
    assert (alert.figures["low"], alert.figures["high"]) == pytest.approx((low, high))
    assert alert.figures["most_extreme"] == -80.0  # further beyond its fence than 95
    assert alert.message.endswith("the most extreme is -80.")
    assert [link.page for link in alert.links] == ["analysis", "chart"]


def test_a_few_far_out_values_in_a_million_normal_ones_are_chance():
    """A normal sample has about 2.3 values per million beyond the fences: not an alert; one
    typo a thousand times too big is."""
    values = np.random.default_rng(9).normal(size=1_000_000)
    q1, q3 = np.percentile(values, [25, 75])
    beyond = ((values < q1 - 3 * (q3 - q1)) | (values > q3 + 3 * (q3 - q1))).sum()
    assert 0 < beyond <= 10
    assert fl.outlier_alert(values, "s", "v") is None
    values[10] = 1000.0
    assert fl.outlier_alert(values, "s", "v").figures["most_extreme"] == 1000.0


def quarterly(n=40):
    return pd.period_range("2000Q1", periods=n, freq="Q")


def test_series_that_stop_early_start_late_or_have_gaps():
    index = quarterly()
    rng = np.random.default_rng(10)
    frame = pd.DataFrame({name: 100 + rng.normal(size=40).cumsum()
                          for name in ("full", "stops", "also_stops", "gappy", "late")},
                         index=index)
    frame.loc[index[32]:, ["stops", "also_stops"]] = np.nan
    frame.loc[index[10]:index[12], "gappy"] = np.nan
    frame.loc[index[20], "gappy"] = np.nan
    frame.loc[:index[3], "late"] = np.nan
    result = first_look(frame, "HPI")
    assert result.time_series
    assert not alerts_of(result, "missing")  # the series alerts say where the values are
    (stops,) = alerts_of(result, "stops_early")
    last = frame["stops"].last_valid_index()
    assert stops.columns == ("stops", "also_stops")
    assert stops.figures == {"period": str(last), "sheet_period": str(index[-1]),
                             "periods": len(index) - 1 - index.get_loc(last), "count": 2}
    assert stops.message == ("stops, also_stops stop at 2007Q4, 8 periods before the sheet's "
                             "last (2009Q4).")
    assert stops.links[0].params == {"kind": "line", "sheet": "HPI",
                                     "y": ["stops", "also_stops"]}
    (gaps,) = alerts_of(result, "gaps")
    assert gaps.columns == ("gappy",)
    assert gaps.figures["missing"] == int(frame["gappy"].isna().sum()) == 4
    assert gaps.figures["gaps"] == [{"start": "2002Q3", "end": "2003Q1", "periods": 3},
                                    {"start": "2005Q1", "end": "2005Q1", "periods": 1}]
    assert "2002Q3–2003Q1, 2005Q1" in gaps.message
    (late,) = alerts_of(result, "starts_late")
    assert (late.severity, late.figures["period"], late.figures["periods"]) == (
        "note", str(frame["late"].first_valid_index()), 4)


def test_trailing_empty_periods_are_not_held_against_every_series():
    frame = pd.DataFrame({"a": np.arange(12.0), "b": np.arange(12.0) ** 1.5},
                         index=quarterly(12))
    frame.iloc[-2:] = np.nan
    assert not alerts_of(first_look(frame, "s"), "stops_early")


def test_hostile_column_names_reach_the_alert_unchanged():
    """Escaping is the page's job (autoescape, url_for): the compute keeps the names as they
    are, so a link finds its column."""
    name = '<script>alert("x")</script> & co'
    frame = uniform_frame(40).assign(**{name: 1.0})
    (alert,) = first_look(frame, "s").alerts
    assert alert.columns == (name,) and alert.message.startswith(name)


def test_a_big_sheet_correlates_on_a_sample():
    """Speed is measured in bench/bench_first_look.py (1,000,000 rows); here the sample."""
    rng = np.random.default_rng(11)
    n = 300_000
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "y": 3 * x + rng.normal(scale=0.5, size=n),
                          **{f"z{i}": rng.normal(size=n) for i in range(3)},
                          "city": rng.choice(["Leeds", "York", "Hull"], n),
                          "id": np.arange(n).astype(str)})
    result = first_look(frame, "big")
    assert result.correlation_rows == fl.SAMPLE_ROWS
    (pair,) = alerts_of(result, "correlation")
    assert pair.figures["r"] == pytest.approx(np.corrcoef(frame["x"], frame["y"])[0, 1],
                                              abs=0.002)
    assert pair.figures["sampled"] and "on a sample of 100,000 rows" in pair.message
    assert [a.kind for a in result.alerts] == ["correlation"]
