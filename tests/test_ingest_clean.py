"""The cleaner's decisions on small tables whose right answer is known by construction."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from errors import BadInput
from tests.ingest_fixtures import xlsx_bytes
from upload.clean import Override, clean_rows, override_for
from upload.cleaning_log import CleaningLog
from upload.coerce import type_column
from upload.layout import detect_layout
from upload.periods import parse_labels
from upload.pipeline import parse_file, read_sheet


def clean(rows, override=None, merges=None):
    log = CleaningLog()
    result = clean_rows("s", rows, log, override or Override(), merges=merges)
    return result, [e["step"] + ": " + e["detail"] for e in log.entries]


def test_titles_above_the_header_and_notes_below_the_data():
    rows = [
        ["House prices by region", "", ""],
        ["Index, 2015 = 100", "", ""],
        ["", "", ""],
        ["Quarter", "North", "South"],
        ["2020 Q1", 100.0, 101.5],
        ["2020 Q2", 102.0, ""],
        ["", "", ""],
        ["Source: invented for this test", "", ""],
        ["© Nobody", "", ""],
    ]
    result, log = clean(rows)
    assert list(result.frame.columns) == ["North", "South"]
    assert [str(p) for p in result.frame.index] == ["2020Q1", "2020Q2"]
    assert result.frame["North"].tolist() == [100.0, 102.0]
    assert math.isnan(result.frame["South"].iloc[1])
    assert ("header: Header detected in row 4 (rows 1–2 above it were titles: "
            "'House prices by region'; 'Index, 2015 = 100').") in log
    assert ("notes: Dropped 2 lines of notes below the data (rows 7–9), starting "
            "'Source: invented for this test'.") in log
    assert result.index == {"name": "Quarter", "kind": "period", "freq": "Q-DEC",
                            "start": "2020Q1", "end": "2020Q2"}


def test_merged_group_headers_are_joined_with_the_row_below():
    rows = [
        ["", "All Houses", "", "New Houses", ""],
        ["Period", "Index", "Price", "Index", "Price"],
        ["Q1 2000", 100.0, 50000.0, 100.0, 60000.0],
        ["Q2 2000", 101.0, 50500.0, 102.0, 61000.0],
    ]
    merges = [((0, 1), (0, 2)), ((0, 3), (0, 4))]
    result, log = clean(rows, merges=merges)
    assert list(result.frame.columns) == ["All Houses Index", "All Houses Price",
                                          "New Houses Index", "New Houses Price"]
    assert any(line.startswith("header: Header detected in rows 1–2") for line in log)
    without, _ = clean(rows)  # without the merge information only the top-left cell names
    assert list(without.frame.columns)[:2] == ["All Houses Index", "Price"]


def test_blank_rows_and_columns_are_dropped_and_named_in_the_log():
    rows = [["a", "", "b", ""], [1, "", 2, ""], ["", "", "", ""], [3, "", 4, ""]]
    result, log = clean(rows)
    assert list(result.frame.columns) == ["a", "b"]
    assert result.frame.to_numpy().tolist() == [[1, 2], [3, 4]]
    assert "blank columns: Dropped 2 blank columns ('B' and 'D')." in log
    assert "blank rows: Dropped 1 blank row (row 3)." in log


def test_names_are_stripped_deduplicated_and_unnamed_columns_numbered():
    rows = [["  Price ", "Price", "", "Size4"], [1, 2, 3, 4], [5, 6, 7, 8]]
    result, log = clean(rows)
    assert list(result.frame.columns) == ["Price", "Price_2", "column_3", "Size4"]
    assert [c["original"] for c in result.columns] == ["Price", "Price", None, "Size4"]
    assert "column names: Repeated column names were numbered: 'Price' again is 'Price_2'." in log
    assert ("column names: Column 'C' had no header; such columns are named column_N after "
            "their position.") in log


def test_footnote_digits_are_removed_only_under_titles():
    rows = [["Table 1"], ["Year", "Permits1", "Size4"], [2000, 1.5, 2.5], [2001, 1.6, 2.6]]
    result, log = clean(rows)
    assert list(result.frame.columns) == ["Permits", "Size"]
    plain, _ = clean(rows[1:])
    assert list(plain.frame.columns) == ["Permits1", "Size4"]


def test_text_numbers_are_converted_and_explained():
    rows = [
        ["id", "amount", "rate", "neg", "code", "status"],
        [1, "1,234.5", "12.5%", "(3)", "02134", " "],
        [2, "2,000", "7%", "−4", "10001", ".."],
        [3, "n/a", "1.5%", "5", "00501", "5"],
    ]
    result, log = clean(rows)
    frame = result.frame
    assert frame["amount"].tolist()[:2] == [1234.5, 2000.0] and math.isnan(frame["amount"][2])
    assert frame["rate"].tolist() == [12.5, 7.0, 1.5]
    assert frame["neg"].tolist() == [-3, -4, 5] and frame["neg"].dtype == "int64"
    assert frame["code"].tolist() == ["02134", "10001", "00501"]
    assert frame["status"].isna().sum() == 2 and frame["status"].iloc[2] == 5
    text = " ".join(log)
    assert "percent points (12.5% → 12.5)" in text
    assert "thousands separators (1,234) were converted in 'amount'" in text
    assert "Kept 'code' as text" in text


def test_whole_numbers_are_int64_and_anything_missing_makes_float64():
    whole = type_column(pd.Series([1.0, 2.0, 3.0], dtype=object)).series
    gaps = type_column(pd.Series([1.0, "", 3.0], dtype=object)).series
    assert whole.dtype == "int64" and gaps.dtype == "float64"


def test_decimal_comma_csv_with_semicolons(tmp_path):
    content = b"Region;Price;Share\nNorth;1.234,56;12,5\nSouth;987,10;7,25\n"
    (tmp_path / "f").write_bytes(content)
    parsed = parse_file(tmp_path / "f", "eu.csv", tmp_path)
    frame = read_sheet(tmp_path / parsed.sheets[0].parquet)
    assert frame["Price"].tolist() == [1234.56, 987.10]
    assert frame["Share"].tolist() == [12.5, 7.25]
    steps = {e["step"]: e["detail"] for e in parsed.cleaning_log}
    assert steps["delimiter"] == "Columns are separated by semicolons."
    assert "decimal comma" in steps


def test_pipe_delimited_with_quoted_newline(tmp_path):
    content = b'name|note|value\nA|"two\nlines"|1\nB|plain|2\n'
    (tmp_path / "f").write_bytes(content)
    parsed = parse_file(tmp_path / "f", "p.txt", tmp_path)
    frame = read_sheet(tmp_path / parsed.sheets[0].parquet)
    assert frame["note"].tolist() == ["two\nlines", "plain"]
    assert frame["value"].tolist() == [1, 2]


@pytest.mark.parametrize(("labels", "expected", "freq"), [
    (["1975:Q1", "1975:Q2"], ["1975Q1", "1975Q2"], "Q-DEC"),
    (["1975Q3", "1975Q4"], ["1975Q3", "1975Q4"], "Q-DEC"),
    (["Q4 1952", "Q1 1953"], ["1952Q4", "1953Q1"], "Q-DEC"),
    (["2025QIII", "2025QIV"], ["2025Q3", "2025Q4"], "Q-DEC"),
    (["2020-03", "2020-04"], ["2020-03", "2020-04"], "M"),
    (["Jan 2020", "February 2020"], ["2020-01", "2020-02"], "M"),
    (["1990", "1991"], ["1990", "1991"], "Y-DEC"),
])
def test_period_labels(labels, expected, freq):
    parsed = parse_labels(pd.Series(labels, dtype="str"))
    assert [str(p) for p in parsed.index] == expected
    assert parsed.index.freqstr == freq


def test_financial_years_are_periods_ending_in_march_never_february():
    assert parse_labels(pd.Series(["2001-02", "2002-03"], dtype="str")) is None
    rows = [["Year", "Homes"], ["2001-02", 10], ["2002-03", 12]]
    result, log = clean(rows)
    assert result.index is None  # a column: no period tool expects financial years
    assert result.frame["Year"].tolist() == [pd.Period("2002", "Y-MAR"),
                                             pd.Period("2003", "Y-MAR")]
    assert result.frame["Year"].iloc[0].start_time == pd.Timestamp(2001, 4, 1)
    assert any("financial years such as '2001-02', each ending in March" in line
               for line in log)


def test_descending_periods_are_sorted_and_logged():
    rows = [["Period", "v"], ["2025QII", 3.0], ["2025QI", 2.0], ["2024QIV", 1.0]]
    result, log = clean(rows)
    assert [str(p) for p in result.frame.index] == ["2024Q4", "2025Q1", "2025Q2"]
    assert result.frame["v"].tolist() == [1.0, 2.0, 3.0]
    assert any("newest first; they are now sorted oldest first" in line for line in log)


def test_real_dates_excel_serials_and_plain_years():
    dates, _ = clean([["when", "v"], [dt.datetime(2020, 3, 31), 1.0],
                      [dt.datetime(2020, 6, 30), 2.0]])
    assert dates.index["kind"] == "period" and dates.index["freq"] == "Q-DEC"
    assert dates.index["start"] == "2020Q1"
    daily, _ = clean([["date", "v"], [dt.datetime(2020, 3, 2), 1.0],
                      [dt.datetime(2020, 3, 3), 2.0], [dt.datetime(2020, 3, 5), 3.0]])
    assert isinstance(daily.frame.index, pd.DatetimeIndex) and daily.index["kind"] == "datetime"
    serials, _ = clean([["Date", "v"], [43831, 1.0], [43862, 2.0]])  # 2020-01-01, 2020-02-01
    assert serials.index["freq"] == "M" and serials.index["start"] == "2020-01"
    years, _ = clean([["Year", "v"], [1999, 1.0], [2000, 2.0], [2001, 3.0]])
    assert years.index == {"name": "Year", "kind": "year", "freq": "Y-DEC", "start": "1999",
                           "end": "2001"}
    not_years, _ = clean([["Price", "v"], [1999, 1.0], [2000, 2.0]])
    assert not_years.index is None  # numbers that merely look like years, under another name


def test_header_row_override_and_type_overrides():
    rows = [["junk", "junk"], ["code", "amount"], ["007", "12"], ["010", "15"]]
    result, log = clean(rows, Override(header_row=2, types={"code": "number",
                                                           "amount": "category",
                                                           "missing": "text"}))
    assert list(result.frame.columns) == ["code", "amount"]
    assert result.frame["code"].tolist() == [7, 10]
    assert isinstance(result.frame["amount"].dtype, pd.CategoricalDtype)
    assert "header: Header row 2 as you chose (row 1 above it was a title: 'junk junk')." in log
    assert "types: No column is named 'missing' any more; its type override was ignored." in log
    with pytest.raises(BadInput, match="Header row 9 is below the last row of the sheet"):
        clean(rows, Override(header_row=9))


def test_date_override_on_text():
    rows = [["when", "v"], ["31/12/2020", 1], ["01/01/2021", 2]]
    result, _ = clean(rows, Override(types={"when": "date"}))
    assert isinstance(result.frame.index, pd.DatetimeIndex)
    assert result.frame.index.tolist() == [pd.Timestamp("2020-12-31"), pd.Timestamp("2021-01-01")]


def test_override_options_name_a_sheet_by_cleaned_or_stored_name(tmp_path):
    options = {"sheets": {"HPI": {"header_row": 3, "types": {"a": "text"}}}}
    assert override_for(options, "HPI", "HPI ").header_row == 3
    assert override_for(options, "Other", "Other ").header_row is None
    assert override_for({"header_row": 2}, "x").header_row == 2
    content = xlsx_bytes([["title"], ["a", "b"], [1, 2]], title="HPI ")
    (tmp_path / "f").write_bytes(content)
    parsed = parse_file(tmp_path / "f", "f.xlsx", tmp_path,
                        {"sheets": {"HPI": {"header_row": 2, "types": {"a": "text"}}}})
    frame = read_sheet(tmp_path / parsed.sheets[0].parquet)
    assert frame["a"].tolist() == ["1"] and frame["b"].tolist() == [2]


def test_prose_sheets_become_one_text_column():
    rows = [["Notes about this workbook"], [""], ["The data come from somewhere."],
            ["Contact someone@example.org"]]
    result, log = clean(rows)
    assert list(result.frame.columns) == ["text"]
    assert result.frame["text"].tolist() == ["Notes about this workbook",
                                             "The data come from somewhere.",
                                             "Contact someone@example.org"]


def test_layout_of_a_csv_sample_without_header():
    found = detect_layout([["1", "2"], ["3", "4"]])
    assert found.header_rows == [] and found.body_start == 0
    result, log = clean([[1, 2], [3, 4]])
    assert list(result.frame.columns) == ["column_1", "column_2"]
    assert np.array_equal(result.frame.to_numpy(), [[1, 2], [3, 4]])


def test_csv_notes_lines_with_too_few_fields_are_skipped_and_logged(tmp_path):
    (tmp_path / "f").write_bytes(b"a,b\n1,2\n3,4\nSource: somewhere\n")
    parsed = parse_file(tmp_path / "f", "n.csv", tmp_path)
    frame = read_sheet(tmp_path / parsed.sheets[0].parquet)
    assert frame.to_numpy().tolist() == [[1, 2], [3, 4]]
    notes = [e["detail"] for e in parsed.cleaning_log if e["step"] == "notes"]
    assert notes == ["Skipped 1 line with the wrong number of fields (usually notes or "
                     "footers): 'Source: somewhere'."]


def test_ragged_csv_rows_are_padded(tmp_path):
    lines = ["a,b,c"] + [",".join(str(i * 10 + j) for j in range(1 + i % 3)) for i in range(12)]
    (tmp_path / "f").write_text("\n".join(lines) + "\n")
    parsed = parse_file(tmp_path / "f", "r.csv", tmp_path)
    frame = read_sheet(tmp_path / parsed.sheets[0].parquet)
    assert len(frame) == 12
    expected_c = [i * 10 + 2 if i % 3 == 2 else math.nan for i in range(12)]
    np.testing.assert_array_equal(frame["c"].to_numpy(dtype=float), expected_c)
    assert frame["a"].tolist() == [i * 10 for i in range(12)]
    assert any(e["step"] == "ragged rows" for e in parsed.cleaning_log)


def test_sheet_names_that_clash_after_stripping_stay_unique(tmp_path):
    def build(book):
        book.active.title = "HPI"
        book.active.append(["a"])
        book.active.append([1])
        other = book.create_sheet("HPI ")
        other.append(["b"])
        other.append([2])

    (tmp_path / "f").write_bytes(xlsx_bytes(build=build))
    parsed = parse_file(tmp_path / "f", "two.xlsx", tmp_path)
    assert [(s.name, s.original_name) for s in parsed.sheets] == [("HPI", "HPI"),
                                                                  ("HPI (2)", "HPI ")]
    assert len({s.parquet for s in parsed.sheets}) == 2
