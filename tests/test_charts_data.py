"""The numbers charts draw, checked against numpy, pandas, statsmodels and matplotlib here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from matplotlib import cbook

from rendition.charts import ChartSpec, prepare
from tests.charts_fixtures import dallas_frames, housing, housing_frames

H = "HousingPreferences"


def _prepare(body: dict, frames=None):
    return prepare(ChartSpec.from_dict(body), frames or housing_frames())


def test_ols_line_equals_polyfit_and_band_equals_statsmodels():
    data = _prepare({"kind": "scatter", "sheet": H, "x": "Area", "y": ["Price"]})
    fit = data.body.fits[0]
    table = housing()
    x, y = table["Area"].to_numpy(float), table["Price"].to_numpy(float)
    slope, intercept = np.polyfit(x, y, 1)
    assert fit.slope == pytest.approx(slope, rel=1e-10)
    assert fit.intercept == pytest.approx(intercept, rel=1e-10)
    model = sm.OLS(y, sm.add_constant(x)).fit()
    assert fit.r2 == pytest.approx(model.rsquared, rel=1e-10)
    band = model.get_prediction(sm.add_constant(fit.grid)).conf_int(alpha=0.05)
    np.testing.assert_allclose(fit.lower, band[:, 0], rtol=1e-9)
    np.testing.assert_allclose(fit.upper, band[:, 1], rtol=1e-9)
    np.testing.assert_allclose(fit.fitted, intercept + slope * fit.grid, rtol=1e-10)
    assert fit.grid[0] == x.min() and fit.grid[-1] == x.max()
    # the points are the table's rows
    np.testing.assert_array_equal(data.body.points[0].x, x)
    np.testing.assert_array_equal(data.body.points[0].y, y)


def test_ols_skips_rows_with_a_missing_value():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
                          "y": [2.0, 4.5, 5.0, np.nan, 9.0, 13.0]})
    fit = _prepare({"kind": "scatter", "sheet": "T", "x": "x", "y": ["y"]}, {"T": frame})
    fit = fit.body.fits[0]
    slope, intercept = np.polyfit([1.0, 2.0, 5.0, 6.0], [2.0, 4.5, 9.0, 13.0], 1)
    assert (fit.slope, fit.intercept, fit.n) == (pytest.approx(slope), pytest.approx(intercept), 4)


def test_ols_needs_spread_in_x():
    frame = pd.DataFrame({"x": [3.0, 3.0, 3.0], "y": [1.0, 2.0, 3.0]})
    data = _prepare({"kind": "scatter", "sheet": "T", "x": "x", "y": ["y"]}, {"T": frame})
    assert data.body.fits == (None,)


def test_histogram_counts_equal_numpy():
    data = _prepare({"kind": "hist", "sheet": H, "y": ["Price"], "options": {"bins": 20}})
    counts, edges = np.histogram(housing()["Price"].to_numpy(float), bins=20)
    np.testing.assert_allclose(data.body.edges, edges)
    np.testing.assert_array_equal(data.body.counts[0][1], counts)
    assert data.body.counts[0][1].sum() == len(housing())


def test_box_stats_equal_matplotlib_boxplot_stats():
    data = _prepare({"kind": "box", "sheet": H, "y": ["Price"], "group": "FurnishingStatus"})
    table = housing()
    assert data.body.categories == ("furnished", "semi-furnished", "unfurnished")
    for box in data.body.boxes:
        values = table.loc[table["FurnishingStatus"] == box.category, "Price"].to_numpy(float)
        (ref,) = cbook.boxplot_stats(values, whis=1.5)
        assert (box.q1, box.median, box.q3) == pytest.approx((ref["q1"], ref["med"], ref["q3"]))
        assert (box.whisker_low, box.whisker_high) == pytest.approx((ref["whislo"],
                                                                     ref["whishi"]))
        np.testing.assert_allclose(np.sort(box.outliers), np.sort(ref["fliers"]))
        assert box.n == values.size and box.mean == pytest.approx(values.mean())


def test_box_groups_numeric_categories_in_numeric_order():
    data = _prepare({"kind": "box", "sheet": H, "y": ["Price"], "group": "Bedrooms"})
    assert data.body.categories == tuple(str(b) for b in sorted(housing()["Bedrooms"].unique()))


def test_pie_counts_equal_value_counts():
    data = _prepare({"kind": "pie", "sheet": H, "x": "FurnishingStatus"})
    counts = housing()["FurnishingStatus"].value_counts()
    assert data.body.labels == ("furnished", "semi-furnished", "unfurnished")
    assert list(data.body.values) == [counts[c] for c in data.body.labels]


def test_pie_sums_by_group_equal_groupby():
    data = _prepare({"kind": "pie", "sheet": H, "group": "FurnishingStatus", "y": ["Price"]})
    sums = housing().groupby("FurnishingStatus")["Price"].sum()
    assert list(data.body.values) == [float(sums[c]) for c in data.body.labels]


def test_pie_of_columns_sums_each_column():
    data = _prepare({"kind": "pie", "sheet": H, "y": ["Bedrooms", "Bathrooms"]})
    table = housing()
    assert data.body.labels == ("Bedrooms", "Bathrooms")
    assert list(data.body.values) == [table["Bedrooms"].sum(), table["Bathrooms"].sum()]


@pytest.mark.parametrize("agg", ["sum", "mean", "count"])
def test_bar_aggregates_by_category(agg):
    data = _prepare({"kind": "bar", "sheet": H, "x": "Stories", "y": ["Price", "Area"],
                     "options": {"agg": agg}})
    ref = getattr(housing().groupby("Stories")[["Price", "Area"]], agg)()
    assert data.body.categories == tuple(str(s) for s in ref.index)
    for label, values in data.body.series:
        np.testing.assert_allclose(values, ref[label].to_numpy(float))


def test_bar_of_rows_counts_rows():
    data = _prepare({"kind": "bar", "sheet": H, "x": "Parking"})
    counts = housing()["Parking"].value_counts().sort_index()
    assert data.body.categories == tuple(str(c) for c in counts.index)
    np.testing.assert_array_equal(data.body.series[0][1], counts.to_numpy(float))


def test_bar_by_quarter_keeps_values_and_order():
    frames = dallas_frames("2020Q1")
    data = _prepare({"kind": "bar", "sheet": "HPI", "y": ["US"],
                     "options": {"start": "2019Q1"}}, frames)
    assert data.body.categories == ("2019Q1", "2019Q2", "2019Q3", "2019Q4", "2020Q1")
    hpi = frames["HPI"]
    expected = hpi.loc[hpi.index >= pd.Period("2019Q1", freq="Q"), "US"].to_numpy(float)
    np.testing.assert_array_equal(data.body.series[0][1], expected)


def test_heatmap_is_pearson_correlation():
    cols = ["Price", "Area", "Bedrooms", "Bathrooms"]
    data = _prepare({"kind": "heatmap", "sheet": H, "y": cols})
    ref = np.corrcoef(housing()[cols].to_numpy(float), rowvar=False)
    np.testing.assert_allclose(data.body.matrix, ref, rtol=1e-12)
    assert data.body.labels == tuple(cols)


def test_heatmap_uses_pairwise_complete_rows():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, np.nan], "b": [2.0, 1.0, 4.0, 3.0, 9.0],
                          "c": [5.0, 3.0, np.nan, 1.0, 0.0]})
    data = _prepare({"kind": "heatmap", "sheet": "T", "y": ["a", "b", "c"]}, {"T": frame})
    r_ab = np.corrcoef([1, 2, 3, 4], [2, 1, 4, 3])[0, 1]
    r_bc = np.corrcoef([2, 1, 3, 9], [5, 3, 1, 0])[0, 1]
    assert data.body.matrix[0, 1] == pytest.approx(r_ab)
    assert data.body.matrix[1, 2] == pytest.approx(r_bc)


def test_line_of_a_table_sorts_by_a_numeric_x():
    frame = pd.DataFrame({"x": [3.0, 1.0, 2.0], "y": [30.0, 10.0, 20.0]})
    data = _prepare({"kind": "line", "sheet": "T", "x": "x", "y": ["y"]}, {"T": frame})
    s = data.body.series[0]
    assert list(s.x) == [1.0, 2.0, 3.0] and list(s.y) == [10.0, 20.0, 30.0]


def test_int64_with_missing_values_is_numeric():
    frame = pd.DataFrame({"v": pd.array([1, None, 3], dtype="Int64")})
    s = _prepare({"kind": "line", "sheet": "T", "y": ["v"]}, {"T": frame}).body.series[0]
    assert s.y[0] == 1.0 and np.isnan(s.y[1]) and s.y[2] == 3.0


def test_default_titles_name_what_is_drawn():
    frames = dallas_frames("2020Q1")
    compare = _prepare({"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI"],
                        "y": ["Australia", "US"]}, frames)
    assert compare.title == "HPI vs RHPI: Australia, US"
    assert [s.label for s in compare.body.series] == [
        "Australia — HPI", "Australia — RHPI", "US — HPI", "US — RHPI"]
    many = _prepare({"kind": "line", "sheet": "HPI", "y": ["UK", "US", "Spain", "Japan"]},
                    frames)
    assert many.title == "HPI: UK, US, Spain and 1 more"
    titled = _prepare({"kind": "pie", "sheet": H, "x": "Mainroad", "options": {"title": "T"}})
    assert titled.title == "T"


def test_bar_over_a_date_index_labels_bars_with_dates():
    index = pd.date_range("2021-01-31", periods=3, freq="ME")
    frame = pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=index)
    data = _prepare({"kind": "bar", "sheet": "M", "y": ["v"]}, {"M": frame})
    assert data.body.categories == ("2021-01-31", "2021-02-28", "2021-03-31")


@pytest.mark.parametrize("values, dtype", [
    (["furnished", None, "semi", "furnished", "1"], "str"),
    ([3, -1, 3, 0, 7], "int64"),
    ([2.0, np.nan, 2.5, -0.0, 1e16, np.inf, 2.0], "float64"),
    ([0.1, 2.0, 0.1], "float32"),
    ([True, False, True], "bool"),
    ([1, None, 2, 1], "Int64"),
    ([True, None, False], "boolean"),
    ([1, 1.0, True, "x", None], "object"),  # one value to pandas, three texts
])
def test_each_row_is_labelled_by_the_text_of_its_own_value(values, dtype):
    """Bars and pie slices are the texts of the values: whole floats without ".0", missing
    values unlabelled, whatever the column's type (typed columns are labelled per distinct
    value, which must give the same texts as row by row)."""
    from rendition.charts.select import category_labels

    column = pd.Series(values, dtype=dtype, index=pd.RangeIndex(10, 10 + len(values)))
    frame = pd.DataFrame({"c": column})
    expected = []
    for v in column.astype(object):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            expected.append(None)
        elif isinstance(v, float) and v.is_integer():
            expected.append(str(int(v)))
        else:
            expected.append(str(v))
    labels = category_labels(frame, "c", "S")
    assert [None if pd.isna(v) else v for v in labels] == expected
    assert list(labels.index) == list(frame.index)
