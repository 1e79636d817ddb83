"""Default charts for the dataset page: sensible, valid, and drawable for the real files."""

from __future__ import annotations

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
    assert first == {"name": "Australia", "dtype": "float64", "distinct": 146}
