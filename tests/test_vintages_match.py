"""Series matched across releases: names folded, renames found by values, rebasing, overrides;
and the vintages of one series checked cell by cell against the workbooks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.vintages import (
    ReleaseSheet,
    SeriesMap,
    match_series,
    normalise_series_name,
    release_label_from,
    release_sort_key,
    vintages,
)
from errors import BadInput, NotFound
from tests.vintages_fixtures import made_releases, raw_cells, real_releases, release


@pytest.mark.parametrize(("a", "b"), [
    ("US", "U.S."), ("us", "US "), ("UK", "U.K."), ("S. Africa", "South Africa"),
    ("S. Korea", "South Korea"), ("New  Zealand", "new zealand"), ("St. Louis", "Saint Louis"),
])
def test_names_that_differ_only_in_form_fold_to_one_key(a, b):
    assert normalise_series_name(a) == normalise_series_name(b)


@pytest.mark.parametrize(("a", "b"), [("US", "UK"), ("Austria", "Australia"),
                                      ("S. Korea", "S. Africa"), ("OECD-19", "OECD-20")])
def test_different_names_stay_different(a, b):
    assert normalise_series_name(a) != normalise_series_name(b)


def test_real_releases_match_by_name_and_the_renamed_aggregate_by_values():
    releases = real_releases("HPI")
    found = match_series(releases)
    by_name = {s.name: s for s in found.series}
    assert found.sheet == "HPI" and found.releases == ("2011Q2", "2020Q1")
    assert by_name["US"].aliases == (("2011Q2", "US"), ("2020Q1", "US"))
    assert by_name["US"].evidence[0].by == "name"
    aggregate = by_name["Aggregate - 2005 Fixed Weights"]
    assert aggregate.aliases == (("2011Q2", "OECD-19"),
                                 ("2020Q1", "Aggregate - 2005 Fixed Weights"))
    evidence = aggregate.evidence[0]
    assert (evidence.by, evidence.matched_to, evidence.release) == ("values", "OECD-19", "2020Q1")
    # The evidence recomputed from the raw cells of both workbooks.
    old, new = raw_cells("2011Q2", "HPI"), raw_cells("2020Q1", "HPI")
    pairs = [(old[(q, "OECD-19")], new[(q, "Aggregate - 2005 Fixed Weights")])
             for q, c in old if c == "OECD-19" and (q, "Aggregate - 2005 Fixed Weights") in new]
    a, b = np.array(pairs).T
    assert evidence.periods_compared == len(pairs) == 146
    assert evidence.largest_difference == pytest.approx(np.max(np.abs(b - a) / np.abs(a)))
    assert evidence.largest_difference <= 0.05
    # The other new aggregate tracks the old one too: the aggregate was split in two.
    dynamic = by_name["Aggregate - Dynamic Weights"]
    assert dynamic.added_in == "2020Q1" and dynamic.split_from == aggregate.name
    added = sorted(s.name for s in found.series if s.added_in == "2020Q1")
    assert added == sorted(["Luxembourg", "S. Africa", "Croatia", "Israel", "Slovenia",
                            "Aggregate - Dynamic Weights"])
    assert all(s.last_published_in is None for s in found.series)
    assert found.columns_for("OECD-19") == {"2011Q2": "OECD-19",
                                            "2020Q1": "Aggregate - 2005 Fixed Weights"}
    shape = found.to_dict()
    assert {"sheet", "series"} <= set(shape)
    assert {"name", "sheet", "aliases", "first_release", "last_release", "added_in",
            "last_published_in", "evidence"} <= set(shape["series"][-2])
    assert shape["series"][-2]["evidence"][0] == {
        "release": "2020Q1", "name": "Aggregate - 2005 Fixed Weights", "matched_to": "OECD-19",
        "by": "values", "periods_compared": 146,
        "largest_difference": evidence.largest_difference, "factor": None}
    kept = json.loads(json.dumps(found.to_dict()))
    assert SeriesMap.from_dict(kept) == found
    with pytest.raises(BadInput, match="This is not a series map"):
        SeriesMap.from_dict({"sheet": "HPI", "series": [{"name": "US"}]})


def test_a_renamed_column_and_a_rebased_renamed_column_are_found():
    releases, made = made_releases(6)
    # Rename Japan in the last two releases to a name that folds to nothing alike.
    releases = [r if k < 4 else release(r.label, r.frame.rename(columns={"Japan": "JP total"}))
                for k, r in enumerate(releases)]
    found = match_series(releases)
    assert found.names() == ["U.S.", "Spain", "JP total"]
    us = found.line("US")
    assert [e.by for e in us.evidence] == ["name", "normalised", "name", "name", "name"]
    japan = found.line("Japan")
    assert japan.evidence[3].by == "values" and japan.evidence[3].matched_to == "Japan"
    # Spain is rebased and keeps its name: matched by name, with the largest raw difference shown.
    spain = found.line("Spain")
    assert spain.evidence[3].by == "name"
    assert spain.evidence[3].largest_difference == pytest.approx(abs(made["factor"] - 1), rel=0.05)
    # Rebased and renamed: matched by values once divided by one factor.
    renamed = [r if k < 4 else release(r.label, r.frame.rename(columns={"Spain": "ES 2003=100"}))
               for k, r in enumerate(releases)]
    spain = match_series(renamed).line("Spain")
    evidence = spain.evidence[3]
    assert evidence.by == "values" and evidence.name == "ES 2003=100"
    old = releases[3].frame["Spain"]
    new = releases[4].frame["Spain"]
    common = old.index.intersection(new.index)
    assert evidence.periods_compared == len(common)
    assert evidence.factor == pytest.approx(np.median(new[common] / old[common]))
    assert evidence.factor == pytest.approx(made["factor"], rel=0.01)


def test_user_overrides_win_over_names_and_values():
    releases, _ = made_releases(4)
    overrides = {releases[2].label: {"U.S.": None}}
    found = match_series(releases, overrides)
    assert [s.name for s in found.series] == ["U.S.", "Spain", "Japan", "US"]
    assert found.line("US").last_published_in == releases[1].label
    assert found.line("U.S.").added_in == releases[2].label
    # Japan said to be Spain's continuation in release 3: the series that was Spain goes on under
    # the column "Japan" (its name now), Spain's column there starts a new series, and Japan's
    # old series stops, its name marked with where it began.
    last = releases[3].label
    found = match_series(releases, {last: {"Japan": "Spain"}})
    assert found.names() == ["U.S.", "Spain", "Japan", f"Japan (from {releases[0].label})"]
    continued = found.series[2]
    assert continued.aliases == tuple((r.label, "Spain") for r in releases[:3]) + ((last,
                                                                                    "Japan"),)
    assert continued.evidence[-1].by == "user"
    assert found.series[1].added_in == last
    assert found.series[3].last_published_in == releases[2].label


def test_an_aggregate_renamed_and_split_in_two_is_followed_by_values():
    releases, _ = made_releases(5)
    with_world = []
    for k, r in enumerate(releases):
        world = (r.frame["Japan"] + r.frame["Spain"]) / 2
        if k < 3:
            frame = r.frame.assign(World=world)
        else:  # renamed, and a second aggregate with other weights (within 3% of the first)
            frame = r.frame.assign(**{"World, dynamic weights": world * 1.02,
                                      "World, fixed weights": world * 1.001})
        with_world.append(release(r.label, frame))
    found = match_series(with_world)
    fixed = found.line("World")
    assert fixed.name == "World, fixed weights"
    assert fixed.evidence[2].by == "values" and fixed.evidence[2].matched_to == "World"
    old, new = with_world[2].frame["World"], with_world[3].frame["World, fixed weights"]
    common = old.index.intersection(new.index)
    assert fixed.evidence[2].periods_compared == len(common)
    assert fixed.evidence[2].largest_difference == pytest.approx(
        np.max(np.abs(new[common] / old[common] - 1)))
    dynamic = found.line("World, dynamic weights")
    assert dynamic.added_in == with_world[3].label and dynamic.split_from == fixed.name


@pytest.mark.parametrize(("overrides", "message"), [
    ({"1999Q1": {"US": None}}, "An override names the release '1999Q1', which is not in the"),
    ({"2005Q1": {"Peru": None}}, "Release '2005Q1' has no series column 'Peru'. Columns: 'US',"),
    ({"2005Q1": {"US": ""}}, "The override for column 'US' in release '2005Q1' must be a series"),
    ({"2005Q1": ["US"]}, "The override for release '2005Q1' must map a column name"),
    ({"2005Q1": {"US": "Japan", "Spain": "Japan"}},
     "In release '2005Q1', two columns are said to be the series 'Japan'"),
])
def test_bad_overrides_are_refused_by_name(overrides, message):
    releases, _ = made_releases(2)
    with pytest.raises(BadInput) as caught:
        match_series(releases, overrides)
    assert caught.value.message.startswith(message)


def test_releases_that_cannot_be_compared_are_refused():
    releases, _ = made_releases(2)
    with pytest.raises(BadInput, match="Two releases are labelled '2005Q1'"):
        match_series([releases[0], ReleaseSheet("2005Q1", releases[1].frame)])
    numbered = ReleaseSheet("x", pd.DataFrame({"a": [1.0, 2.0]}), "Sheet1")
    with pytest.raises(BadInput, match="Release 'x', sheet 'Sheet1', has no date or period"):
        match_series([numbered])
    monthly = ReleaseSheet("m", pd.DataFrame({"US": [1.0]}, index=pd.period_range(
        "2000-01", periods=1, freq="M")))
    with pytest.raises(BadInput, match="indexed differently"):
        match_series([releases[0], monthly])
    empty = ReleaseSheet("e", releases[0].frame.iloc[:0])
    with pytest.raises(BadInput, match="Release 'e' has no rows."):
        match_series([releases[0], empty])
    with pytest.raises(BadInput, match="tolerance"):
        match_series(releases, tolerance=2)


def test_vintages_of_a_real_series_are_the_workbook_cells():
    releases = real_releases("HPI")
    found = match_series(releases)
    result = vintages(releases, found, "US").to_dict()
    old, new = raw_cells("2011Q2", "HPI"), raw_cells("2020Q1", "HPI")
    expected_periods = [str(p) for p in pd.period_range("1975Q1", "2020Q1", freq="Q")]
    assert result["periods"] == expected_periods
    assert result["releases"] == ["2011Q2", "2020Q1"]
    for period, row, first, latest in zip(result["periods"], result["values"],
                                          result["first_published"], result["latest"],
                                          strict=True):
        assert row[0] == old.get((period, "US"))
        assert row[1] == new[(period, "US")]
        assert first == (old.get((period, "US")) or new[(period, "US")])
        assert latest == new[(period, "US")]


def test_vintages_follow_a_series_through_its_renames():
    releases = real_releases("RHPI")
    result = vintages(releases, match_series(releases), "OECD-19").to_dict()
    assert result["series"] == "Aggregate - 2005 Fixed Weights"
    old, new = raw_cells("2011Q2", "RHPI"), raw_cells("2020Q1", "RHPI")
    at = result["periods"].index("2011Q2")
    assert result["values"][at] == [old[("2011Q2", "OECD-19")],
                                    new[("2011Q2", "Aggregate - 2005 Fixed Weights")]]
    assert result["first_published_in"][at] == "2011Q2"
    assert result["first_published_in"][-1] == "2020Q1"


def test_an_unknown_series_is_not_found_and_the_known_ones_are_named():
    releases = real_releases("HPI")
    with pytest.raises(NotFound) as caught:
        vintages(releases, match_series(releases), "Atlantis")
    assert caught.value.message.startswith("No series 'Atlantis' in sheet 'HPI'. Series: "
                                           "'Australia', 'Belgium'")


@pytest.mark.parametrize(("filename", "last", "expected"), [
    ("2020Q1.xlsx", "2020Q1", "2020Q1"), ("hp1101.xlsx", "2011Q2", "2011Q2"),
    ("house prices (3).xlsx", "2011Q2", "2011Q2"), ("hpi 2019-q4 final.xlsx", None, "2019Q4"),
    ("Q3 2019.xlsx", None, "2019Q3"), ("cpi_2019-11.csv", "2019-10", "2019-11"),
    ("prices.csv", None, "prices"),
])
def test_release_labels_come_from_the_file_name_or_the_last_period(filename, last, expected):
    assert release_label_from(filename, last) == expected


def test_releases_are_ordered_by_period_then_last_period_then_text():
    rows = [("2020Q1", None), ("b", None), ("hp1101", "2011Q2"), ("2019-11", None),
            ("a", None), ("2011Q1", None)]
    ordered = [r[0] for r in sorted(rows, key=lambda r: release_sort_key(*r))]
    assert ordered == ["2011Q1", "hp1101", "2019-11", "2020Q1", "a", "b"]
