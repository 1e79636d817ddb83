"""describe_sheet / describe_workbook against numpy and scipy on the real 2020Q1 HPI sheet."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.describe import describe_sheet, describe_workbook
from tests.stats_fixtures import dallas, dallas_workbook, housing


def test_describe_hpi_matches_numpy_and_scipy():
    frame = dallas("HPI")
    result = describe_sheet(frame, "HPI").to_dict()
    assert result["kind"] == "describe" and result["sheet"] == "HPI"
    assert result["n_rows"] == len(frame) == 181
    assert result["index"]["first"] == "1975Q1" and result["index"]["last"] == "2020Q1"
    by_name = {c["name"]: c for c in result["columns"]}
    assert list(by_name) == list(frame.columns)
    for name in frame.columns:
        x = frame[name].to_numpy(dtype=float)
        kept = x[~np.isnan(x)]
        c = by_name[name]
        assert c["type"] == "numeric"
        assert c["count"] == len(kept) and c["missing"] == len(x) - len(kept)
        assert c["mean"] == pytest.approx(np.nanmean(x), rel=1e-12)
        assert c["std"] == pytest.approx(np.nanstd(x, ddof=1), rel=1e-10)
        q = np.nanpercentile(x, [0, 25, 50, 75, 100])
        assert [c["min"], c["q25"], c["median"], c["q75"], c["max"]] == pytest.approx(q)
        assert c["skew"] == pytest.approx(stats.skew(kept, bias=False), rel=1e-8)
        assert c["kurtosis"] == pytest.approx(stats.kurtosis(kept, bias=False), rel=1e-8)


def test_describe_one_known_cell_by_hand():
    frame = dallas("HPI")
    us = describe_sheet(frame, "HPI").to_dict()["columns"]
    us = next(c for c in us if c["name"] == "US")
    values = frame["US"].tolist()
    assert us["max"] == max(values) and us["min"] == min(values)
    assert us["mean"] == pytest.approx(sum(values) / len(values), rel=1e-12)


def test_describe_categorical_and_missing_columns():
    frame = housing()
    frame.loc[[0, 1, 2], "Area"] = np.nan
    frame["Empty"] = np.nan
    frame["Constant"] = 7.0
    result = describe_sheet(frame, "Housing").to_dict()
    cols = {c["name"]: c for c in result["columns"]}
    furn = cols["FurnishingStatus"]
    counts = frame["FurnishingStatus"].value_counts()
    assert furn["type"] == "categorical" and furn["unique"] == 3
    assert furn["top"] == "semi-furnished" and furn["freq"] == counts["semi-furnished"] == 227
    assert furn["mean"] is None and furn["std"] is None
    area = cols["Area"]
    assert area["count"] == 542 and area["missing"] == 3
    assert area["mean"] == pytest.approx(frame["Area"].iloc[3:].mean())
    assert cols["Empty"]["count"] == 0 and cols["Empty"]["mean"] is None
    assert cols["Constant"]["std"] == 0 and cols["Constant"]["skew"] is None
    assert cols["Constant"]["kurtosis"] is None


def test_describe_to_dict_is_json_safe():
    import json

    frame = pd.DataFrame({"x": [1.0, np.nan, np.inf], "t": pd.array(["a", None, "a"],
                                                                    dtype="string")})
    text = json.dumps(describe_sheet(frame, "S").to_dict(), allow_nan=False)
    assert '"top": "a"' in text


def test_describe_workbook_covers_every_sheet_and_tables():
    book = dallas_workbook()
    result = describe_workbook(book)
    assert [d.sheet for d in result.sheets] == ["HPI", "RHPI", "PDI", "RPDI"]
    assert result.to_dict()["sheets"][2]["sheet"] == "PDI"
    assert list(result.by_sheet) == ["HPI", "RHPI", "PDI", "RPDI"]
    rpdi = result["RPDI"].to_dict()["columns"]
    assert rpdi[0]["mean"] == pytest.approx(np.nanmean(book["RPDI"].iloc[:, 0].to_numpy()))
    tables = result.tables()
    assert len(tables) == 4 and tables[0][1].shape[0] == book["HPI"].shape[1]


def test_infinite_cells_are_counted_apart_and_left_out():
    frame = pd.DataFrame({"x": [1.0, np.inf, 3.0, np.nan, -np.inf, 8.0]})
    (col,) = describe_sheet(frame, "S").to_dict()["columns"]
    finite = np.array([1.0, 3.0, 8.0])
    assert (col["count"], col["missing"], col["infinite"]) == (3, 1, 2)
    assert col["mean"] == pytest.approx(finite.mean())
    assert col["std"] == pytest.approx(finite.std(ddof=1))
    assert col["max"] == 8.0 and col["min"] == 1.0


def test_huge_magnitudes_do_not_overflow():
    """Fourth powers of 1e200 overflow float64; the statistics must still be right."""
    import statistics

    x = np.array([1e200, 3e200, -2e200, 5e200, 4e200, 1.5e200])
    (col,) = describe_sheet(pd.DataFrame({"x": x}), "S").to_dict()["columns"]
    assert col["mean"] == pytest.approx(statistics.fmean(x), rel=1e-12)
    assert col["std"] == pytest.approx(statistics.stdev(x), rel=1e-12)  # exact fractions inside
    assert col["skew"] == pytest.approx(stats.skew(x / 1e200, bias=False), rel=1e-9)
    assert col["kurtosis"] == pytest.approx(stats.kurtosis(x / 1e200, bias=False), rel=1e-9)
    assert col["q75"] == pytest.approx(np.percentile(x / 1e200, 75) * 1e200, rel=1e-12)
