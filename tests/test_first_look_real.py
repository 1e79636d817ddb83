"""The first look on the real sample files (tests/data, see SOURCES.md): each expected number is
computed here with pandas/numpy, the housing table from the raw CSV itself."""

import functools

import numpy as np
import pandas as pd
import pytest

from analysis.first_look import HIGH_CORRELATION, MAX_PAIRS, first_look
from tests.ingest_fixtures import DATA
from upload.pipeline import parse_file, read_sheet


@functools.cache
def cleaned(name: str) -> dict[str, pd.DataFrame]:
    import tempfile
    from pathlib import Path

    out = Path(tempfile.mkdtemp(prefix="first-look-"))
    parsed = parse_file(DATA / name, name, out)
    return {s.name: read_sheet(out / s.parquet) for s in parsed.sheets}


def by_kind(result, kind):
    return [a for a in result.alerts if a.kind == kind]


def far_out(values: np.ndarray) -> tuple[int, float]:
    q1, q3 = np.percentile(values, [25, 75])
    low, high = q1 - 3 * (q3 - q1), q3 + 3 * (q3 - q1)
    beyond = values[(values < low) | (values > high)]
    if not len(beyond):
        return 0, None
    return len(beyond), beyond[np.argmax(np.maximum(beyond - high, low - beyond))]


def test_housing_csv_outliers_and_a_nearly_constant_column():
    raw = pd.read_csv(DATA / "HousingPreferences.csv")
    result = first_look(cleaned("HousingPreferences.csv")["HousingPreferences"],
                        "HousingPreferences")
    outliers = {a.columns[0]: a.figures for a in by_kind(result, "outliers")}
    expected = {c: far_out(raw[c].to_numpy(float)) for c in raw.select_dtypes("number")}
    assert {c: (f["count"], f["most_extreme"]) for c, f in outliers.items()} == \
        {c: e for c, e in expected.items() if e[0]}
    assert set(outliers) == {"Price", "Area"}
    shares = {c: raw[c].value_counts(normalize=True).iloc[0] for c in raw}
    (near,) = by_kind(result, "near_constant")
    assert near.columns == tuple(c for c, s in shares.items() if s >= 0.95) == \
        ("HotWaterHeating",)
    assert near.figures["share"] == pytest.approx(shares["HotWaterHeating"])
    assert near.message == "HotWaterHeating: 'no' in 520 of 545 values (95.4 %)."
    assert not raw.isna().any().any() and not by_kind(result, "missing")
    correlations = raw.select_dtypes("number").corr().abs().to_numpy()
    assert (correlations[np.triu_indices(6, 1)] < HIGH_CORRELATION).all()
    assert not by_kind(result, "correlation")


def test_dallas_fed_hpi_correlated_countries_and_full_series():
    frame = cleaned("2020Q1.xlsx")["HPI"]
    result = first_look(frame, "HPI")
    assert result.time_series and frame.notna().all().all()
    assert not [a for a in result.alerts if a.kind in ("stops_early", "gaps", "starts_late")]
    corr = frame.corr()
    pairs = sorted(((a, b, corr.loc[a, b]) for i, a in enumerate(frame)
                    for b in frame.columns[i + 1:] if abs(corr.loc[a, b]) >= HIGH_CORRELATION),
                   key=lambda p: -abs(p[2]))
    alerts = by_kind(result, "correlation")
    listed = [(a.columns[0], a.columns[1], a.figures["r"]) for a in alerts[:MAX_PAIRS]]
    assert [p[:2] for p in listed] == [p[:2] for p in pairs[:MAX_PAIRS]]
    assert [p[2] for p in listed] == pytest.approx([p[2] for p in pairs[:MAX_PAIRS]],
                                                   abs=1e-12)
    assert alerts[-1].figures["pairs"] == len(pairs) - MAX_PAIRS
    assert [link.params["kind"] for link in alerts[-1].links] == ["correlation", "growth"]


def test_dallas_fed_real_hpi_outliers():
    frame = cleaned("2020Q1.xlsx")["RHPI"]
    outliers = {a.columns[0]: a.figures for a in by_kind(first_look(frame, "RHPI"),
                                                          "outliers")}
    expected = {c: far_out(frame[c].dropna().to_numpy()) for c in frame}
    assert {c: (f["count"], f["most_extreme"]) for c, f in outliers.items()} == \
        {c: e for c, e in expected.items() if e[0]}
    assert "Croatia" in outliers


def test_uk_series_that_stop_at_2015q2():
    """Nationwide's Modern and Older houses series are discontinued after 2015 Q2."""
    frame = cleaned("UK_house_price_since_1952.xls")["UK HP Since 1952"]
    result = first_look(frame, "UK HP Since 1952")
    lasts = {c: frame[c].last_valid_index() for c in frame}
    end = max(lasts.values())
    (stops,) = by_kind(result, "stops_early")
    assert stops.columns == tuple(c for c in frame if lasts[c] < end)
    assert {lasts[c] for c in stops.columns} == {pd.Period("2015Q2", "Q")}
    assert stops.figures["periods"] == frame.index.get_loc(end) - frame.index.get_loc(
        pd.Period("2015Q2", "Q"))
    assert all(c.startswith(("Modern", "Older")) for c in stops.columns)
    firsts = {c: frame[c].first_valid_index() for c in frame}
    late = [c for a in by_kind(result, "starts_late") for c in a.columns]
    assert late == [c for c in frame if firsts[c] > frame.index[0]]
    assert not by_kind(result, "gaps")
    assert not any(frame[c].loc[firsts[c]:lasts[c]].isna().any() for c in frame)


@pytest.mark.parametrize(("sheet", "stopped"), [("HPI", "Ireland"), ("RHPI", "Ireland"),
                                              ("PDI", "UK")])
def test_dallas_fed_2011q2_series_that_stop_before_the_release(sheet, stopped):
    frame = cleaned("2011Q2.xlsx")[sheet]
    lasts = {c: frame[c].last_valid_index() for c in frame}
    end = max(lasts.values())
    (stops,) = by_kind(first_look(frame, sheet), "stops_early")
    assert stops.columns == tuple(c for c in frame if lasts[c] < end) == (stopped,)
    assert (stops.figures["period"], stops.figures["sheet_period"]) == (str(lasts[stopped]),
                                                                        str(end))
    assert stops.figures["periods"] == frame.index.get_loc(end) - frame.index.get_loc(
        lasts[stopped])


def test_bis_ragged_series_grouped_by_where_they_stop():
    frame = cleaned("bis_pp_long.xlsx")["Quarterly Series"]
    result = first_look(frame, "Quarterly Series")
    lasts = frame.apply(lambda s: s.last_valid_index())
    end = lasts.max()
    expected = {str(p): [c for c in frame if lasts[c] == p] for p in sorted(set(lasts)) if p < end}
    assert {a.figures["period"]: list(a.columns) for a in by_kind(result, "stops_early")} == \
        expected
    gaps = {a.columns[0]: a.figures["missing"] for a in by_kind(result, "gaps")}
    inside = {c: int(frame[c].loc[frame[c].first_valid_index():lasts[c]].isna().sum())
              for c in frame}
    assert gaps == {c: n for c, n in inside.items() if n}


def test_bis_documentation_sheet_constant_columns():
    frame = cleaned("bis_pp_long.xlsx")["Summary Documentation"]
    constant = [a.columns[0] for a in by_kind(first_look(frame, "Summary Documentation"),
                                              "constant")]
    assert constant == [c for c in frame if frame[c].nunique() == 1 and len(frame[c].dropna()) > 1]
    assert constant
