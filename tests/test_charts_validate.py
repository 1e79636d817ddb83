"""validate(): every bad spec is a clear 4xx naming the sheet or column, and harms nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from errors import BadInput, Unprocessable
from rendition.charts import ChartSpec, prepare, render_bokeh, render_plotly, render_png, validate
from tests.charts_fixtures import dallas_frames, housing_frames


def _frames(name: str) -> dict[str, pd.DataFrame]:
    if name == "housing":
        return housing_frames()
    if name == "signed":
        return {"S": pd.DataFrame({"cat": ["a", "b", "c"], "v": [3.0, -1.0, 2.0],
                                   "w": [0.0, 0.0, 0.0]})}
    if name == "wide":
        return {"W": pd.DataFrame(np.ones((3, 51)), columns=[f"c{i}" for i in range(51)])}
    if name == "blank":
        return {"B": pd.DataFrame({"v": [np.nan, np.nan], "cat": ["a", "b"]})}
    return dallas_frames(name)


H = "HousingPreferences"
CASES = [
    # (frames, spec, error class, message)
    ("2020Q1", {"kind": "line", "sheet": "HPX", "y": ["US"]}, BadInput,
     "Unknown sheet 'HPX'; the sheets given are 'HPI', 'RHPI', 'PDI', 'RPDI'."),
    ("2020Q1", {"kind": "line", "sheet": "HPI", "y": ["Australa"]}, BadInput,
     "Unknown column 'Australa' in sheet 'HPI'. Did you mean 'Australia'?"),
    ("housing", {"kind": "line", "sheet": H, "y": ["Price", "Colour"]}, BadInput,
     "Unknown column 'Colour' in sheet 'HousingPreferences'."),
    ("housing", {"kind": "line", "sheet": H, "y": ["FurnishingStatus"]}, Unprocessable,
     "Column 'FurnishingStatus' in sheet 'HousingPreferences' holds text, not numbers; it "
     "cannot go on the numeric y axis."),
    ("housing", {"kind": "scatter", "sheet": H, "x": "Mainroad", "y": ["Price"]}, Unprocessable,
     "Column 'Mainroad' in sheet 'HousingPreferences' holds text, not numbers; it cannot go "
     "on the numeric x axis."),
    ("housing", {"kind": "hist", "sheet": H, "y": ["Basement"]}, Unprocessable,
     "Column 'Basement' in sheet 'HousingPreferences' holds text"),
    ("housing", {"kind": "box", "sheet": H, "y": ["Prefarea"], "group": "Bedrooms"},
     Unprocessable, "Column 'Prefarea' in sheet 'HousingPreferences' holds text"),
    ("housing", {"kind": "heatmap", "sheet": H, "y": ["Price", "Guestroom"]}, Unprocessable,
     "Column 'Guestroom' in sheet 'HousingPreferences' holds text"),
    ("signed", {"kind": "pie", "sheet": "S", "x": "cat", "y": ["v"]}, Unprocessable,
     "A pie cannot show negative values: v is negative for 'b'. Use a bar chart instead."),
    ("signed", {"kind": "pie", "sheet": "S", "x": "cat", "y": ["w"]}, Unprocessable,
     "Nothing to draw: every slice of the pie is zero or missing."),
    ("housing", {"kind": "line", "sheet": H, "y": []}, BadInput,
     "Empty selection: choose at least one y column for the line chart."),
    ("housing", {"kind": "scatter", "sheet": H, "x": "Area", "y": []}, BadInput,
     "Empty selection: choose at least one y column for the scatter chart."),
    ("housing", {"kind": "heatmap", "sheet": H, "y": ["Price"]}, BadInput,
     "Choose at least 2 y columns for the heatmap chart."),
    ("housing", {"kind": "pie", "sheet": H}, BadInput,
     "Empty selection: a pie needs a category column (x) or y columns."),
    ("housing", {"kind": "bar", "sheet": H, "x": "FurnishingStatus", "options": {"agg": "sum"}},
     BadInput, "Empty selection: a bar chart of sums needs at least one y column."),
    ("wide", {"kind": "line", "sheet": "W", "y": [f"c{i}" for i in range(51)]}, Unprocessable,
     "Too many series (51); a chart shows at most 50. Choose fewer columns."),
    ("2020Q1", {"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI", "PDI"],
                "y": [f"c{i}" for i in range(17)]}, Unprocessable,
     "Too many series (columns × sheets) (51)"),
    ("housing", {"kind": "pie", "sheet": H, "x": "Area"}, Unprocessable,
     "Too many slices (284); a pie shows at most 50."),
    ("2020Q1", {"kind": "line", "sheet": "HPI", "y": ["US"],
                "options": {"start": "2030Q1", "end": "2031Q4"}}, Unprocessable,
     "The period range 2030Q1–2031Q4 is outside the data of sheet 'HPI' (1975Q1–2020Q1)."),
    ("2011Q2", {"kind": "line", "sheet": "HPI", "y": ["US"], "options": {"end": "1960Q4"}},
     Unprocessable, "The period range …–1960Q4 is outside the data of sheet 'HPI' "
     "(1975Q1–2011Q2)."),
    ("2020Q1", {"kind": "line", "sheet": "HPI", "y": ["US"],
                "options": {"start": "2010Q1", "end": "2000Q1"}}, Unprocessable,
     "The period range is empty: start '2010Q1' is after end '2000Q1'."),
    ("2020Q1", {"kind": "line", "sheet": "HPI", "y": ["US"], "options": {"start": "Q1 of 2000"}},
     BadInput, "Option 'start' is 'Q1 of 2000', which is not a period"),
    ("housing", {"kind": "line", "sheet": H, "y": ["Price"], "options": {"start": "2000Q1"}},
     BadInput, "Sheet 'HousingPreferences' has no period or date index, so options start/end"),
    ("housing", {"kind": "hist", "sheet": H, "x": "Area", "y": ["Price"]}, BadInput,
     "A hist chart takes no 'x' column; leave x empty."),
    ("2020Q1", {"kind": "line", "sheet": "HPI", "y": ["US"], "group": "UK"}, BadInput,
     "A line chart takes no 'group' column; leave group empty."),
    ("2020Q1", {"kind": "line", "sheet": "HPI", "y": ["US"], "sheets": ["RHPI"]}, BadInput,
     "Only compare_sheets uses 'sheets'; a line chart draws one sheet."),
    ("housing", {"kind": "scatter", "sheet": H, "y": ["Price"]}, BadInput,
     "A scatter chart needs an 'x' column."),
    ("2020Q1", {"kind": "compare_sheets", "sheet": "HPI", "y": ["US"]}, BadInput,
     "compare_sheets needs at least two sheets: name them in 'sheets'."),
    ("2020Q1", {"kind": "compare_sheets", "sheet": "HPI", "sheets": ["HPI"], "y": ["US"]},
     BadInput, "compare_sheets needs at least two sheets"),
    ("2020Q1", {"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI", "Rents"],
                "y": ["US"]}, BadInput, "Unknown sheet 'Rents'"),
    ("housing", {"kind": "bar", "sheet": H, "x": "Mainroad", "group": "Basement",
                 "y": ["Price"]}, BadInput,
     "A bar chart takes one category column: give x or group, not both"),
    ("housing", {"kind": "pie", "sheet": H, "x": "FurnishingStatus", "y": ["Price", "Area"]},
     BadInput, "A pie of sums by 'FurnishingStatus' shows one y column; choose exactly one."),
    ("housing", {"kind": "pie", "sheet": H, "x": "FurnishingStatus", "y": ["Price"],
                 "options": {"agg": "count"}}, BadInput, "A pie of counts takes no y column"),
    ("housing", {"kind": "bar", "sheet": H, "y": ["Price"]}, Unprocessable,
     "Too many bars (545); a bar chart shows at most 500."),
    ("signed", {"kind": "line", "sheet": "S", "y": ["v"], "options": {"log_y": True}},
     Unprocessable, "A log scale needs positive values, but 'v' has zero or negative ones."),
    ("housing", {"kind": "pie", "sheet": H, "x": "Mainroad", "options": {"log_y": True}},
     BadInput, "A pie chart has no y axis to put on a log scale."),
    ("blank", {"kind": "line", "sheet": "B", "y": ["v"]}, Unprocessable,
     "Column 'v' in sheet 'B' has no values in the selection."),
    ("blank", {"kind": "box", "sheet": "B", "y": ["v"], "group": "cat"}, Unprocessable,
     "No values of v in any group of 'cat'."),
]


@pytest.mark.parametrize(("frames", "body", "error", "message"), CASES,
                         ids=[f"{c[1]['kind']}-{i}" for i, c in enumerate(CASES)])
def test_bad_spec_is_refused_with_a_clear_message(frames, body, error, message):
    data = _frames(frames)
    before = {name: frame.copy(deep=True) for name, frame in data.items()}
    spec = ChartSpec.from_dict(body)
    with pytest.raises(error) as err:
        validate(spec, data)
    assert message in err.value.message
    assert err.value.status == (400 if error is BadInput else 422)
    for name, frame in data.items():  # nothing harmed
        pd.testing.assert_frame_equal(frame, before[name])


@pytest.mark.parametrize("render", [render_png, render_bokeh, render_plotly])
def test_renderers_refuse_what_validate_refuses(render):
    spec = ChartSpec.from_dict({"kind": "line", "sheet": H, "y": ["FurnishingStatus"]})
    with pytest.raises(Unprocessable, match="'FurnishingStatus'"):
        render(spec, housing_frames())


def test_valid_spec_passes():
    spec = ChartSpec.from_dict({"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI"],
                                "y": ["Australia", "US"]})
    assert validate(spec, dallas_frames("2020Q1")) is None


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        ("2000Q1", "2001Q4", "2000Q1", "2001Q4"),
        ("2000:Q3", None, "2000Q3", "2020Q1"),  # Dallas Fed spelling
        ("1960Q1", "1975Q2", "1975Q1", "1975Q2"),  # partly outside: clipped
        ("2005", "2005", "2005Q1", "2005Q4"),  # a year holds its four quarters
        ("2005-02", "2005-12", "2005Q2", "2005Q4"),  # months: whole quarters inside
    ],
)
def test_period_range_keeps_whole_periods_inside(start, end, first, last):
    options = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "HPI", "y": ["US"], "options": options})
    data = prepare(spec, dallas_frames("2020Q1"))
    x = data.body.series[0].x
    expected = pd.period_range(first, last, freq="Q").to_timestamp(how="start")
    np.testing.assert_array_equal(x, expected.to_numpy(dtype="datetime64[ns]"))


def test_period_range_on_a_datetime_index():
    index = pd.date_range("2000-01-31", periods=24, freq="ME")
    frames = {"M": pd.DataFrame({"v": np.arange(24.0)}, index=index)}
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "M", "y": ["v"],
                                "options": {"start": "2000Q2", "end": "2000-08"}})
    x = prepare(spec, frames).body.series[0].x
    assert list(pd.DatetimeIndex(x).strftime("%Y-%m")) == ["2000-04", "2000-05", "2000-06",
                                                            "2000-07", "2000-08"]
