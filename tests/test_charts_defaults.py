"""Default charts for the dataset page: sensible, valid, and drawable for the real files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rendition.charts import default_charts, sheet_meta, validate
from tests.charts_fixtures import dallas_frames, housing


def test_workbook_gets_lines_panels_and_the_hpi_rhpi_comparison():
    frames = dallas_frames("2020Q1")
    meta = {name: sheet_meta(frame) for name, frame in frames.items()}
    specs = default_charts(meta, dataset="ds-9")
    kinds = [(s.kind, s.sheet) for s in specs]
    assert kinds[:3] == [("line", "HPI"), ("small_multiples", "HPI"), ("compare_sheets", "HPI")]
    line, panels, compare = specs[:3]
    numeric = [c for c in frames["HPI"].columns if pd.api.types.is_numeric_dtype(frames["HPI"][c])]
    assert list(line.y) == numeric[:5]
    assert list(panels.y) == numeric[:4]
    assert compare.sheets == ("HPI", "RHPI") and list(compare.y) == numeric[:3]
    assert ("line", "RPDI") in kinds
    for spec in specs:
        assert spec.dataset == "ds-9"
        validate(spec, frames)


def test_table_gets_histogram_pie_box_scatter_heatmap():
    frame = housing()
    specs = default_charts({"HousingPreferences": sheet_meta(frame)})
    by_kind = {s.kind: s for s in specs}
    assert list(by_kind) == ["hist", "pie", "box", "scatter", "heatmap"]
    assert by_kind["hist"].y == ("Price",)
    assert by_kind["pie"].x == "FurnishingStatus"  # the first text column with 3-12 values
    assert (by_kind["box"].y, by_kind["box"].group) == (("Price",), "FurnishingStatus")
    assert (by_kind["scatter"].y, by_kind["scatter"].x) == (("Price",), "Area")
    assert by_kind["heatmap"].y == ("Price", "Area", "Bedrooms", "Bathrooms", "Stories",
                                    "Parking")
    for spec in specs:
        validate(spec, {"HousingPreferences": frame})


def test_metadata_may_be_a_plain_name_to_dtype_mapping():
    meta = {"S": {"index": "range", "columns": {"a": "Int64", "b": "float64", "c": "string"}}}
    specs = default_charts(meta)
    assert [s.kind for s in specs] == ["hist", "scatter"]  # c: distinct count unknown, no pie
    assert specs[1].x == "b"


def test_sheets_without_numbers_get_nothing():
    meta = {"Note": {"index": "range", "columns": [{"name": "text", "dtype": "str",
                                                     "distinct": 5}]}}
    assert default_charts(meta) == []


def test_sheet_meta_describes_the_frame():
    meta = sheet_meta(dallas_frames("2011Q2")["HPI"])
    assert meta["index"] == "period" and meta["rows"] == 146
    first = meta["columns"][0]
    australia = dallas_frames("2011Q2")["HPI"]["Australia"].to_numpy()
    magnitude = round(float(np.log10(np.median(np.abs(australia[australia != 0])))), 2)
    assert first == {"name": "Australia", "dtype": "float64", "distinct": 146,
                     "count": int(np.isfinite(australia).sum()), "magnitude": magnitude}
    assert 1 < magnitude < 2  # Australia's HPI (2005 = 100) has a median below 100


def test_sheet_meta_gives_no_magnitude_for_text_zeros_and_gaps():
    frame = pd.DataFrame({"t": ["a", "b"], "z": [0.0, np.nan], "small": [-0.004, 0.002]})
    columns = {c["name"]: c for c in sheet_meta(frame)["columns"]}
    assert "magnitude" not in columns["t"] and "magnitude" not in columns["z"]
    assert columns["small"]["magnitude"] == round(np.log10(0.003), 2)  # median |x| = 0.003


def test_the_first_line_keeps_to_one_scale():
    """Regression: Nationwide's sheet put an index (~100), a price (~£50,000) and a % change
    (~5) on one axis, where the index and the change lay flat along zero."""
    rng = np.random.default_rng(3)
    index = pd.period_range("1990Q1", periods=40, freq="Q")
    frame = pd.DataFrame({
        "All Index": np.linspace(80, 140, 40),  # median 110
        "All Price £": np.linspace(30_000, 90_000, 40),
        "All Annual Change %": rng.normal(5, 3, 40),  # median |x| about 5: 22 times smaller
        "New Index": np.linspace(90, 150, 40),
        "Older Index": np.linspace(600, 1_000, 40),  # median 800: 7.3 times larger
    }, index=index)
    specs = default_charts({"UK": sheet_meta(frame)})
    line = next(s for s in specs if s.kind == "line")
    assert line.y == ("All Index", "New Index", "Older Index")
    panels = next(s for s in specs if s.kind == "small_multiples")
    assert panels.y == tuple(frame.columns[:4])  # each panel has its own axis: all scales


def test_labels_on_one_row_each_are_not_a_category():
    """Regression: Live Table 122's column A names five total rows (England, Unitary
    Authorities, ...) once each; the page offered a pie of five 20% slices and a box plot of
    one value per box."""
    frame = pd.DataFrame({
        "group": ["England", "Unitary", None, None, "Shire", None, "London", "Met", None, None],
        "kind": ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a"],
        "dwellings": np.arange(10.0), "net": np.arange(10.0) ** 2})
    specs = default_charts({"LT": sheet_meta(frame)})
    by_kind = {s.kind: s for s in specs}
    assert by_kind["pie"].x == "kind" and by_kind["box"].group == "kind"
    alone = default_charts({"LT": sheet_meta(frame.drop(columns="kind"))})
    assert {s.kind for s in alone} == {"hist", "scatter"}


def test_the_scatter_pair_is_the_most_correlated_and_none_without_one():
    from rendition.charts.defaults import most_correlated_pair

    rng = np.random.default_rng(7)
    a = rng.normal(size=200)
    frame = pd.DataFrame({"price": a + rng.normal(size=200), "noise": rng.normal(size=200),
                          "area": a, "flat": np.ones(200), "name": ["x"] * 200})
    r = frame[["price", "noise", "area"]].corr().abs()
    assert r.loc["price", "area"] > max(r.loc["price", "noise"], r.loc["noise", "area"])
    assert most_correlated_pair(frame) == ["area", "price"]  # [x, y]: y the earlier column
    assert most_correlated_pair(frame[["flat", "name"]]) is None
    assert most_correlated_pair(frame[["price", "flat"]]) is None  # r undefined
