"""The small-file shortcuts (issue 19) give the answers of the long way round."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from upload.coerce import share
from upload.dates import looks_like_date
from upload.periods import STR, parse_labels


@pytest.mark.parametrize("values", [
    ["yes", "no", "yes", "yes"],
    ["2020-01-01", "n/a", "2020-02-01", "2020-01-01", "x"],
    ["1975Q1", None, "1975Q2"],
])
def test_share_asks_once_per_value_and_answers_as_map_does(values):
    sample = pd.Series(values, dtype=object)
    calls = []

    def predicate(value):
        calls.append(value)
        return isinstance(value, str) and looks_like_date(value)

    expected = pd.Series(values, dtype=object).map(
        lambda v: isinstance(v, str) and looks_like_date(v)).mean()
    assert share(sample, predicate) == pytest.approx(expected)
    assert len(calls) == len(set(map(str, values)))


def test_share_of_nothing_is_nan_like_the_mean_of_nothing():
    assert np.isnan(share(pd.Series([], dtype=STR), looks_like_date))


def test_labels_of_a_text_column_are_none_and_periods_still_parse():
    assert parse_labels(pd.Series(["furnished", "1975Q1"] * 10, dtype=STR)) is None
    assert parse_labels(pd.Series(["1975Q1", "furnished"] * 10, dtype=STR)) is None
    quarters = parse_labels(pd.Series([None, " 1975q1", "1975Q2", "1975Q3"], dtype=STR))
    assert quarters is not None and quarters.kind == "period"
    assert [str(p) for p in quarters.index[1:]] == ["1975Q1", "1975Q2", "1975Q3"]


def test_kinds_of_answers_as_cell_kind_does_cell_by_cell():
    import datetime as dt

    from upload.layout import cell_kind, kinds_of

    rows = [["Price", "Area", "Furnished", None, ""],
            ["13300000", 7420, "yes", 1.5, "n/a"],
            ["1975Q1", " yes ", "yes", float("nan"), dt.date(2020, 1, 1)],
            ["1,234", "no", "yes", True, "2020-01-31"]]
    assert kinds_of(rows) == [[cell_kind(v) for v in row] for row in rows]


@pytest.mark.parametrize("values", [
    ["1975:Q1", "1975:Q2", "1975Q3", "Q4 1975"],
    ["DEC\n3, 2016", "2016\nQ1", "JAN", "3, 2016", "1975:Q1\n"],
    ["2020-01-31", "2020/02/29", "31/12/2020", "JAN 2021", "2021-22", "N/A"],
    ["MARCH 2020", "2020 APRIL", "2020M05", "05-2020", "12.5"],
    ["YES", "NO"],
])
def test_date_forms_found_are_those_a_full_extract_finds(values, monkeypatch):
    """Skipping the forms no key matches changes nothing: the same forms, parts and masks as
    running str.extract for every form (the skip switched off: every form "matches")."""
    from upload import dates

    keys = pd.Series(values, dtype=STR)
    found = dates._matches(keys, None)
    monkeypatch.setattr(dates, "_forms_in", lambda keys, forms: forms)
    every = dates._matches(keys, None)
    assert list(found) == list(every)
    for form, (parts, hit) in every.items():
        assert np.array_equal(found[form][1], hit)
        pd.testing.assert_frame_equal(found[form][0], parts)


def test_workbook_number_columns_type_as_before():
    from upload.coerce import type_column

    whole = type_column(pd.Series([1.0, 2, 3.0], dtype=object, name="n"))
    assert whole.kind == "number" and whole.series.dtype == "int64" and whole.series.name == "n"
    assert whole.series.tolist() == [1, 2, 3]
    gaps = type_column(pd.Series([1.5, "", 2.25], dtype=object, index=[4, 5, 6]))
    assert gaps.kind == "number" and gaps.series.dtype == "float64"
    assert list(gaps.series.index) == [4, 5, 6]
    np.testing.assert_array_equal(gaps.series.to_numpy(), [1.5, np.nan, 2.25])


def test_a_text_column_shared_by_sheets_is_typed_once_and_each_gets_its_own_copy(monkeypatch):
    from upload import coerce
    from upload.memo import SheetsMemo

    labels = pd.Series(["1975:Q1", "1975:Q2", "", "1975:Q4"], dtype=object, name=0,
                       index=pd.RangeIndex(3, 7))
    alone = coerce.type_column(labels.copy())
    calls = []
    read_text = coerce._from_text
    monkeypatch.setattr(coerce, "_from_text",
                        lambda text, decimal: calls.append(decimal) or read_text(text, decimal))
    memo = SheetsMemo()
    first = coerce.type_column(labels.copy(), memo=memo)
    second = coerce.type_column(labels.copy(), memo=memo)
    assert len(calls) == 1
    for typed in (first, second):
        assert typed.kind == alone.kind == "date"
        pd.testing.assert_series_equal(typed.series, alone.series)
        pd.testing.assert_series_equal(typed.dates.series, alone.dates.series)
        assert (typed.dates.form, typed.dates.described) == (alone.dates.form,
                                                             alone.dates.described)
    assert second.series is not first.series and second.dates is not first.dates
    second.dates.failed.append("changed")
    assert coerce.type_column(labels.copy(), memo=memo).dates.failed == []
    # another index, name or decimal mark is typed afresh
    coerce.type_column(labels.set_axis(pd.RangeIndex(4, 8)), memo=memo)
    coerce.type_column(labels.rename(1), memo=memo)
    coerce.type_column(labels.copy(), ",", memo=memo)
    assert len(calls) == 4


def test_plain_number_columns_of_a_sheet_type_as_type_column_does():
    from upload.coerce import plain_number_columns, type_column

    columns = {
        0: ["1975:Q1", "1975:Q2", "1975:Q3", "1975:Q4"],
        1: [1.0, 2, 3.0, 4],
        2: [1.5, "", 2.25, 3],
        3: ["", "", "", ""],
        4: [1.0, "n/a", 2.0, 3.0],  # text in it: left to type_column
        5: [True, 1.0, 0.0, 1.0],
        6: ["", 2.0**60, 1.0, 2.0],
        7: [float("nan"), "", float("inf"), 1.0],
        8: [float("nan"), "", "", ""],
        9: [3, 4, 5, "6"],
    }
    body = pd.DataFrame(columns, dtype=object, index=pd.RangeIndex(3, 7))
    body[10] = pd.Series([1.0, 2.0, 3.0, 4.0], index=body.index)  # float64: not an object column
    fast = plain_number_columns(body)
    assert sorted(fast) == [1, 2, 3, 6, 7, 8, 9]
    for c, typed in fast.items():
        expected = type_column(body[c])
        assert typed.kind == expected.kind
        pd.testing.assert_series_equal(typed.series, expected.series)
    assert plain_number_columns(body.iloc[:0]) == {}


@pytest.mark.parametrize("ints", [[1, -2, 3], [2**53 - 1, -(2**53) + 1], [2**53, 0],
                                  [-(2**63), 5], [2**63 - 1]])
def test_int64_columns_type_as_their_round_trip_through_float64_does(ints):
    from upload.coerce import _numbers, type_column

    values = pd.Series(ints, dtype="int64", index=pd.RangeIndex(2, 2 + len(ints)), name="n")
    typed, expected = type_column(values), _numbers(values.astype("float64"))
    assert typed.kind == expected.kind == "number"
    pd.testing.assert_series_equal(typed.series, expected.series)


@pytest.mark.parametrize("cells", [
    [" yes", "no ", None, "N/A", " - ", "yes", "NULL", "..", "furnished"],
    ["north", "south", None, "east"],
    ["n/a", "", None],
])
def test_text_columns_keep_their_stripped_cells_and_lose_only_missing_markers(cells):
    from upload.coerce import type_column

    values = pd.Series(cells, dtype=STR, index=pd.RangeIndex(5, 5 + len(cells)), name="c")
    typed = type_column(values)
    stripped = values.str.strip()
    expected = stripped.where(~stripped.str.lower().isin(["n/a", "-", "null", "..", ""]))
    if expected.isna().all():
        assert typed.kind == "empty"
        assert typed.markers == set(stripped.dropna())
    else:
        assert typed.kind == "text"
        pd.testing.assert_series_equal(typed.series, expected)


@pytest.mark.parametrize("text", ["12", " 1,234.5 ", "(1,234)", "12.5%", "$1,234", "−3", "123.4p",
                                  "7.1[r]", "1975:Q1", "2020-01-31", "n/a", "NA", "..", "x", "",
                                  "  ", "12a", "yes", "1.234,5", ".5E0", "Q4 1952", "1 480 000 €"])
def test_number_text_is_what_cell_kind_calls_a_number(text):
    from upload.layout import NUM, cell_kind, is_number_text

    assert is_number_text(text) == (cell_kind(text) == NUM)


def test_the_index_column_is_taken_out_by_position_wherever_it_stands():
    from upload.cleaning_log import CleaningLog
    from upload.periods import set_index

    quarters = ["2019Q1", "2019Q2", "2019Q3"]
    frame = pd.DataFrame({"x": ["a", "b", "c"], "quarter": quarters, "period": [1.0, 2.0, 3.0]})
    out, index = set_index("s", frame.astype({"x": STR, "quarter": STR}), set(), set(),
                           CleaningLog())
    assert list(out.columns) == ["x", "period"] and out.index.name == "quarter"
    assert index["start"] == "2019Q1" and out["period"].tolist() == [1.0, 2.0, 3.0]
    unnamed = pd.DataFrame({"column_1": quarters, "period": [1, 2, 3], "v": [4, 5, 6]})
    out, index = set_index("s", unnamed.astype({"column_1": STR}), {"column_1"}, set(),
                           CleaningLog())
    assert list(out.columns) == ["period", "v"] and index["name"] == "period_index"


@pytest.mark.parametrize("text", ["  Price (£)  ", "a\tb\nc", "x\u00a0y", "Zürich  Ost", "a\x00b",
                                  "line\u2028two", "soft\u00adhyphen", "über\u200bzero", "", " ",
                                  "日本 語", "\x85next", "a\x1cb"])
def test_tidy_text_reads_every_character_only_when_the_text_is_not_printable(text):
    import unicodedata

    from upload.naming import tidy_text

    slow = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    assert tidy_text(text) == " ".join(slow.split())


@pytest.mark.parametrize(("rows", "types", "data_last"), [
    ([["2019Q1", 1.5], ["2019Q2", 2.5]], [2, 1], True),
    ([["2019Q1", 1.5], ["Source: ONS", ""]], [2, 1], False),
    ([["2019Q1", 1.5], ["", ""], ["Note", "more"]], [2, 1], False),
    ([["north", "b"], ["south", "e"]], [3, 3], True),
    ([["north", "b"], ["south", ""]], [3, 3], False),
    ([["2019Q1", "n/a"]], [2, 1], False),
])
def test_a_last_row_of_data_means_no_notes_below_it(rows, types, data_last):
    from upload.layout import ends_with_data, footer_start

    assert ends_with_data(rows[-1], types) == data_last
    if data_last:
        assert footer_start(rows, types) == len(rows)


def test_code_columns_are_those_with_a_value_such_as_02134():
    from upload.readers import _code_columns

    rows = [["02134", "1", " 0", "x"], ["12", " 007 ", "0.5"], ["", "3"], ["0²"]]
    assert _code_columns(rows, 6) == [0, 1]
    assert _code_columns(rows, 1) == [0]
    assert _code_columns([], 3) == []


@pytest.mark.parametrize("index", [
    pd.PeriodIndex.from_ordinals([200, 201, 202], freq="Q-DEC").rename("period"),
    pd.PeriodIndex.from_ordinals([600, 601, 602], freq="M").rename("month"),
    pd.DatetimeIndex(["2020-01-31", "2020-02-29", "2020-03-31"], name="date"),
])
def test_sheets_laid_out_alike_are_stored_as_pandas_stores_them(index):
    from upload.pipeline import SheetSchemas, _from_pandas

    schemas = SheetSchemas()
    first = pd.DataFrame({"UK": [1.5, np.nan, 2.0], "US": [1, 2, 3], "up": [True, False, True]},
                         index=index)
    second = pd.DataFrame({"UK": [7.0, 8.5, np.nan], "US": [-4, 5, 6],
                           "up": [False, False, True]}, index=index[::-1])
    other = second.astype({"US": "float64"})
    floats = first[["UK"]].assign(US=[1.0, 2.0, np.nan])  # one dtype: one 2-D array
    for frame in (first, second, other, first.rename(columns={"UK": "GB"}), floats, floats * 2):
        table = schemas.table(frame)
        assert table.equals(_from_pandas(frame), check_metadata=True)
        assert table.schema.metadata == _from_pandas(frame).schema.metadata
        pd.testing.assert_frame_equal(table.to_pandas(), frame)
    assert len(schemas._schemas) == 4  # first and second share one, so do the floats
