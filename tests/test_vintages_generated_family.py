"""The benchmark's family of generated Dallas Fed releases (bench/dallas_releases.py), taken
through Quartile's own ingestion: what the generator did is what matching and vintages find."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.vintages import ReleaseSheet, match_series, revisions, vintages
from bench.dallas_releases import REVISED_QUARTERS, make_releases
from tests.vintages_fixtures import raw_cells
from upload.pipeline import parse_file, read_sheet


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    out = tmp_path_factory.mktemp("family")
    releases = []
    for path in make_releases(out / "xlsx", count=4, real_ends=False):
        store = out / path.stem
        store.mkdir()
        parsed = parse_file(path, path.name, store)
        sheet = next(s for s in parsed.sheets if s.name == "HPI")
        releases.append(ReleaseSheet(path.stem, read_sheet(store / sheet.parquet), "HPI"))
    return releases


def test_the_generated_releases_are_matched_as_the_generator_made_them(family):
    assert [r.label for r in family] == ["2019Q2", "2019Q3", "2019Q4", "2020Q1"]
    found = match_series(family)
    us = found.line("US")
    assert [name for _, name in us.aliases] == ["US", "U.S.", "US", "US"]
    assert [e.by for e in us.evidence] == ["normalised", "name", "name"]
    africa = found.line("South Africa")
    assert africa.added_in == "2019Q3" and africa.aliases[-1] == ("2020Q1", "South Africa")
    assert [e.by for e in africa.evidence] == ["normalised", "name"]
    aggregate = found.line("OECD-19")
    assert aggregate.name == "Aggregate - 2005 Fixed Weights"
    assert aggregate.evidence[0].by == "values"
    assert found.line("Aggregate - Dynamic Weights").added_in == "2019Q3"


def test_only_the_newest_quarters_of_each_generated_release_are_revised(family):
    found = match_series(family)
    result = vintages(family, found, "Australia")
    cells = raw_cells("2020Q1", "HPI")
    for r, release in enumerate(result.releases):
        end = result.periods.index(release)
        for p in range(end + 1):
            value = result.values[p, r]
            truth = cells[(result.periods[p], "Australia")]
            if p <= end - REVISED_QUARTERS:
                assert value == truth
            else:
                assert abs(value / truth - 1) < 0.05
    table = revisions(family, found, "Australia").for_series("Australia")
    moved = np.isfinite(table.vs_previous[:, 1:]) & (table.vs_previous[:, 1:] != 0)
    assert moved.sum(axis=0).tolist() == [REVISED_QUARTERS] * 3
