"""Revisions and changes between releases, every figure recomputed here from the workbook cells
(openpyxl) or from the generated releases with plain loops, numpy and scipy."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.vintages import (
    ReleaseSheet,
    changes,
    match_series,
    release_similarity,
    revisions,
    vintages,
)
from analysis.vintages.kinds import VINTAGE_ANALYSES
from errors import BadInput
from tests.vintages_fixtures import cleaned, made_releases, raw_cells, real_releases, release

# The same series in both workbooks, by the names each workbook gives it (read off the sheets).
RENAMED = {"OECD-19": "Aggregate - 2005 Fixed Weights"}


def pairs_by_period(sheet: str) -> dict[str, dict[str, tuple[float | None, float]]]:
    """{series name in 2020Q1: {quarter: (value in 2011Q2 or None, value in 2020Q1)}}."""
    old, new = raw_cells("2011Q2", sheet), raw_cells("2020Q1", sheet)
    back = {v: k for k, v in RENAMED.items()}
    out: dict[str, dict] = {}
    for (quarter, name), value in new.items():
        out.setdefault(name, {})[quarter] = (old.get((quarter, back.get(name, name))), value)
    return out


def test_revisions_between_the_real_releases_are_the_cell_differences():
    releases = real_releases("HPI")
    result = revisions(releases, match_series(releases))
    cells = pairs_by_period("HPI")
    assert sorted(result.series) == sorted(cells)
    checked = 0
    for name, by_quarter in cells.items():
        table = result.for_series(name).to_dict()
        assert table["periods"] == sorted(by_quarter, key=lambda q: pd.Period(q, "Q"))
        for quarter, row, prev, prev_pct, latest, latest_pct in zip(
                table["periods"], table["values"], table["vs_previous"], table["vs_previous_pct"],
                table["vs_latest"], table["vs_latest_pct"], strict=True):
            old, new = by_quarter[quarter]
            assert row == [old, new]
            assert prev[0] is None and latest[1] == 0
            if old is None:
                assert prev[1] is None and latest[0] is None
                continue
            assert prev[1] == pytest.approx(new - old, abs=1e-12)
            assert prev_pct[1] == pytest.approx(100 * (new - old) / abs(old))
            assert latest[0] == pytest.approx(new - old, abs=1e-12)
            assert latest_pct[0] == pytest.approx(100 * (new - old) / abs(old))
            checked += 1
    assert checked == 20 * 146 - 2  # 20 series in 2011Q2; Ireland lacks two quarters there


def test_latest_revisions_are_ranked_by_size_as_recomputed_from_the_cells():
    releases = real_releases("RHPI")
    ranked = revisions(releases, match_series(releases)).to_dict(by_period=False)["latest_ranked"]
    expected = []
    for name, by_quarter in pairs_by_period("RHPI").items():
        common = sorted((pd.Period(q, "Q"), o, n) for q, (o, n) in by_quarter.items()
                        if o is not None)
        if not common:
            continue
        pct = np.array([100 * (n - o) / abs(o) for _, o, n in common])
        period, old, new = common[-1]
        expected.append({"series": name, "period": str(period), "previous": old, "latest": new,
                         "revision_pct": pct[-1], "mean_abs_revision_pct": np.abs(pct).mean(),
                         "periods_compared": len(common),
                         "largest_revision_period": str(common[int(np.argmax(np.abs(pct)))][0])})
    expected.sort(key=lambda e: -abs(e["revision_pct"]))
    assert [r["series"] for r in ranked[:len(expected)]] == [e["series"] for e in expected]
    for got, want in zip(ranked, expected, strict=False):
        assert got["period"] == want["period"] and got["previous"] == want["previous"]
        assert got["revision"] == pytest.approx(want["latest"] - want["previous"])
        for key in ("revision_pct", "mean_abs_revision_pct"):
            assert got[key] == pytest.approx(want[key])
        assert got["periods_compared"] == want["periods_compared"]
        assert got["largest_revision_period"] == want["largest_revision_period"]
    new_only = [r for r in ranked if r["periods_compared"] == 0]
    assert {r["series"] for r in new_only} == {"Luxembourg", "S. Africa", "Croatia", "Israel",
                                               "Slovenia", "Aggregate - Dynamic Weights"}


def horizon_revisions_by_hand(releases: list[ReleaseSheet], names: tuple[str, ...],
                              horizons: int) -> dict[int, list]:
    """The module's definition, written out with Period arithmetic and loops:
    {h: [(revision, first value), ...]} for the column called one of `names` in each release."""
    last = [r.frame.index.max() for r in releases]
    empty = pd.Series(dtype=float)
    frames = [next((r.frame[n] for n in names if n in r.frame), empty) for r in releases]
    periods = sorted(set().union(*[set(s.dropna().index) for s in frames]))
    out: dict[int, list] = {h: [] for h in range(1, horizons + 1)}
    for p in periods:
        first = next(k for k, s in enumerate(frames) if p in s.index and np.isfinite(s[p]))
        if first == 0 or p <= last[first - 1]:
            continue  # not new data when first published
        for h in out:
            target = last[first] + h
            if max(last) < target:
                continue
            r_h = max(k for k in range(len(frames)) if last[k] <= target)
            if p in frames[r_h].index and np.isfinite(frames[r_h][p]):
                out[h].append((frames[r_h][p] - frames[first][p], frames[first][p]))
    return out


def check_horizons(rows, by_hand) -> None:
    for row in rows:
        revision = np.array([r for r, _ in by_hand[row.horizon]])
        first = np.array([f for _, f in by_hand[row.horizon]])
        assert row.n == len(revision)
        assert row.mean_revision == pytest.approx(revision.mean())
        assert row.mean_abs_revision == pytest.approx(np.abs(revision).mean())
        assert row.mean_abs_share_pct == pytest.approx(
            100 * np.abs(revision).mean() / np.abs(first).mean())
        if revision.std() > 0:
            assert row.t_stat == pytest.approx(stats.ttest_1samp(revision, 0).statistic)
            fit = sm.OLS(revision, np.ones(len(revision))).fit(
                cov_type="HAC", cov_kwds={"maxlags": row.horizon - 1})
            assert row.hac_lags == row.horizon - 1
            assert row.t_stat_hac == pytest.approx(fit.tvalues[0])
        else:
            assert row.t_stat is None


def test_revisions_by_horizon_match_a_direct_computation_and_scipy():
    releases, _ = made_releases(10)
    result = revisions(releases, match_series(releases), horizons=6)
    by_hand = horizon_revisions_by_hand(releases, ("US", "U.S."), 6)
    rows = result.horizons_for("U.S.")
    assert [row.horizon for row in rows] == [1, 2, 3, 4, 5, 6]
    assert [row.n for row in rows] == [8, 7, 6, 5, 4, 3]
    check_horizons(rows, by_hand)


def test_horizons_with_a_missing_release_and_a_series_added_with_its_history():
    releases, _ = made_releases(8)
    # Without the fourth release, the quarter first published in the third is still at its first
    # estimate one quarter later: a revision of 0 at horizon 1.
    gappy = releases[:3] + releases[4:]
    # Peru arrives in the third release with its whole history: only later quarters count.
    gappy = [r if k < 2 else release(r.label, r.frame.assign(Peru=np.arange(len(r.frame)) + 1.0))
             for k, r in enumerate(gappy)]
    result = revisions(gappy, match_series(gappy), horizons=4)
    us = horizon_revisions_by_hand(gappy, ("US", "U.S."), 4)
    assert us[1][1][0] == 0.0 and us[1][0][0] != 0.0
    check_horizons(result.horizons_for("U.S."), us)
    peru = horizon_revisions_by_hand(gappy, ("Peru",), 4)
    check_horizons(result.horizons_for("Peru"), peru)
    assert result.horizons_for("Peru")[0].n == 5  # 2005Q3 to 2006Q3, none of its history


def test_revisions_need_two_releases_and_sane_horizons():
    releases, _ = made_releases(3)
    found = match_series(releases[:1])
    with pytest.raises(BadInput, match="at least 2 releases of the sheet; the family has 1"):
        revisions(releases[:1], found)
    with pytest.raises(BadInput, match="Horizons must be a whole number"):
        revisions(releases, match_series(releases), horizons=0)
    with pytest.raises(BadInput, match="series map was built for other releases"):
        revisions(releases, found)


def test_changes_between_the_real_releases():
    releases = real_releases("HPI")
    result = changes(releases, match_series(releases), threshold_pct=1.0).to_dict()
    old, new = raw_cells("2011Q2", "HPI"), raw_cells("2020Q1", "HPI")
    old_quarters = {q for q, _ in old}
    assert result["previous"] == "2011Q2" and result["latest"] == "2020Q1"
    assert result["periods_added"] == sorted({q for q, _ in new} - old_quarters,
                                             key=lambda q: pd.Period(q, "Q"))
    assert result["periods_added"][0] == "2011Q3" and len(result["periods_added"]) == 35
    assert result["periods_removed"] == []
    assert result["series_renamed"] == [{"from": "OECD-19", "to": RENAMED["OECD-19"],
                                         "series": RENAMED["OECD-19"]}]
    assert sorted(result["series_added"]) == sorted(
        {n for _, n in new} - {n for _, n in old} - {RENAMED["OECD-19"]})
    assert result["series_removed"] == [] and result["rebased"] == []
    expected = set()
    for name, by_quarter in pairs_by_period("HPI").items():
        for quarter, (o, n) in by_quarter.items():
            if o is not None and abs(100 * (n - o) / abs(o)) > 1.0:
                expected.add((name, quarter, round(100 * (n - o) / abs(o), 9)))
    got = {(r["series"], r["period"], round(r["change_pct"], 9)) for r in result["revised"]}
    assert got == expected
    sizes = [abs(r["change_pct"]) for r in result["revised"]]
    assert sizes == sorted(sizes, reverse=True)


def test_a_rebased_series_is_detected_in_the_real_pdi_sheet():
    releases = real_releases("PDI")
    result = changes(releases, match_series(releases)).to_dict()
    old, new = raw_cells("2011Q2", "PDI"), raw_cells("2020Q1", "PDI")
    ratio = np.array([new[(q, "Canada")] / v for (q, c), v in old.items() if c == "Canada"])
    assert [r["series"] for r in result["rebased"]] == ["Canada"]
    assert result["rebased"][0]["factor"] == pytest.approx(np.median(ratio))
    assert result["rebased"][0]["periods_compared"] == len(ratio) == 146
    canada = [r for r in result["revised"] if r["series"] == "Canada"]
    assert all(r["rebased"] for r in canada)
    for r in canada:  # revisions beyond the new base: measured after dividing by the factor
        scaled = r["latest"] / np.median(ratio)
        assert r["change_pct"] == pytest.approx(100 * (scaled - r["previous"]) / r["previous"])


def test_changes_in_generated_releases_rebase_rename_and_dropped_quarters():
    releases, made = made_releases(6)
    found = match_series(releases)
    at = changes(releases, found, previous=releases[3].label, latest=releases[4].label).to_dict()
    assert at["rebased"][0]["series"] == "Spain"
    assert at["rebased"][0]["factor"] == pytest.approx(made["factor"], rel=0.02)
    renamed = changes(releases, found, previous=releases[1].label, latest=releases[2].label)
    assert renamed.series_renamed == ({"from": "US", "to": "U.S.", "series": "U.S."},)
    # A release that drops its last two quarters and a series.
    cut = release("cut", releases[-1].frame.iloc[:-2].drop(columns=["Japan"]))
    family = releases + [cut]
    result = changes(family, match_series(family)).to_dict()
    assert result["periods_removed"] == [str(p) for p in releases[-1].frame.index[-2:]]
    assert result["series_removed"] == ["Japan"] and result["revised"] == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"previous": "1990Q1"}, "There is no release '1990Q1'. Releases: '2005Q1', '2005Q2'"),
    ({"previous": "2005Q2", "latest": "2005Q2"},
     "Compare two different releases, not '2005Q2' with itself."),
    ({"latest": "2005Q1"}, "Release '2005Q1' is the oldest; there is nothing before it"),
    ({"previous": "2005Q3", "latest": "2005Q1"},
     "Release '2005Q3' comes after '2005Q1'; give the older release as previous"),
    ({"threshold_pct": -1}, "The revision threshold must be a percentage of 0 or more"),
])
def test_bad_change_requests_are_refused_by_name(kwargs, message):
    releases, _ = made_releases(3)
    with pytest.raises(BadInput) as caught:
        changes(releases, match_series(releases), **kwargs)
    assert caught.value.message.startswith(message)


def test_releases_indexed_by_dates_work_like_periods():
    releases, _ = made_releases(4)
    # Dates as pandas stores them, in seconds in some releases and nanoseconds in others.
    dated = [ReleaseSheet(r.label, r.frame.set_axis(r.frame.index.to_timestamp(how="end")
                                                     .normalize().as_unit("s" if k % 2 else
                                                                          "ns")), "HPI")
             for k, r in enumerate(releases)]
    a = revisions(releases, match_series(releases), "Japan")
    b = revisions(dated, match_series(dated), "Japan")
    np.testing.assert_array_equal(a.by_period[0].vs_previous, b.by_period[0].vs_previous)
    assert [r.n for r in a.horizons_for("Japan")] == [r.n for r in b.horizons_for("Japan")]


def test_every_result_is_strict_json_with_null_for_missing_values():
    releases = real_releases("PDI")  # new series, renamed and rebased ones, missing quarters
    found = match_series(releases)
    results = [found, vintages(releases, found, "Ireland"), revisions(releases, found),
               changes(releases, found), release_similarity(cleaned("2020Q1"), cleaned("2011Q2"))]
    for result in results:
        text = json.dumps(result.to_dict(), allow_nan=False)
        assert "NaN" not in text and "Infinity" not in text
    table = revisions(releases, found, "Luxembourg").to_dict()["by_period"][0]
    assert all(row[0] is None for row in table["values"])  # not in 2011Q2


def test_the_vintage_kinds_validate_parameters_like_every_analysis():
    releases, _ = made_releases(4)
    found = match_series(releases)
    kinds = VINTAGE_ANALYSES
    assert sorted(kinds) == ["changes", "revisions", "vintages"]
    result = kinds["vintages"].run(releases, found, {"sheet": "HPI", "series": "US"})
    assert result.series == "U.S." and result.releases == tuple(r.label for r in releases)
    result = kinds["revisions"].run(releases, found, {"sheet": "HPI", "horizons": "2"})
    assert len(result.series) == 3 and [r.horizon for r in result.horizons_for("Spain")] == [1, 2]
    result = kinds["changes"].run(releases, found, {"sheet": "HPI", "threshold_pct": 0.5})
    assert result.threshold_pct == 0.5 and result.latest == releases[-1].label
    bad = [("vintages", {"sheet": "HPI"}, "Parameter 'series' is required for vintages."),
           ("revisions", {"sheet": "HPI", "horizon": 3}, "Unknown parameter(s) for revisions: "
                                                         "horizon."),
           ("changes", {"sheet": "HPI", "threshold_pct": "lots"},
            "Parameter 'threshold_pct' must be a percentage of 0 or more, not 'lots'.")]
    for kind, params, message in bad:
        with pytest.raises(BadInput) as caught:
            kinds[kind].run(releases, found, params)
        assert caught.value.message.startswith(message)
    assert kinds["changes"].to_dict()["parameters"][3]["name"] == "threshold_pct"
