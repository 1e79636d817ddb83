"""Real workbooks and CSVs (tests/data, see SOURCES.md) through the whole parse.

Expected values come from independent reads of the same cells: openpyxl for the Dallas Fed and
JCHS workbooks, the csv module for CSV text, and raw calamine cells (header=None, no cleaning)
for formats openpyxl cannot open (.xls, .ods, the OECD file).
"""

import csv
import functools
import math
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from tests.ingest_fixtures import DATA
from upload.pipeline import parse_file, read_sheet

QUARTER = re.compile(r"^(\d{4}):Q([1-4])$")


def parse(tmp_path, name):
    parsed = parse_file(DATA / name, name, tmp_path)
    sheets = {s.name: s for s in parsed.sheets}
    frames = {s.name: read_sheet(tmp_path / s.parquet) for s in parsed.sheets}
    return parsed, sheets, frames


def log_of(parsed, sheet=None, step=None):
    return [e["detail"] for e in parsed.cleaning_log
            if (sheet is None or e["sheet"] == sheet) and (step is None or e["step"] == step)]


@functools.cache
def openpyxl_book(name):
    return openpyxl.load_workbook(DATA / name, read_only=True, data_only=True)


def openpyxl_rows(name, sheet):
    return [list(r) for r in openpyxl_book(name)[sheet].iter_rows(values_only=True)]


def raw_cells(name, sheet):
    """Cells exactly as stored (calamine, no cleaning): row 1 is rows[0]."""
    return CalamineWorkbook.from_path(str(DATA / name)).get_sheet_by_name(sheet).to_python(
        skip_empty_area=False)


def as_float(value):
    return float(value) if isinstance(value, (int, float)) else math.nan


@pytest.mark.parametrize(("name", "hpi", "last"), [("2020Q1.xlsx", "HPI", "2020Q1"),
                                                   ("2011Q2.xlsx", "HPI ", "2011Q2")])
def test_dallas_fed_workbooks(tmp_path, name, hpi, last):
    parsed, sheets, frames = parse(tmp_path, name)
    assert parsed.format == "xlsx"
    assert [s.name for s in parsed.sheets] == ["Note", "HPI", "RHPI", "PDI", "RPDI"]
    assert sheets["HPI"].original_name == hpi
    for sheet in ("HPI", "RHPI", "PDI", "RPDI"):
        rows = openpyxl_rows(name, hpi if sheet == "HPI" else sheet)
        quarters = [r[0] for r in rows if isinstance(r[0], str) and QUARTER.match(r[0])]
        frame = frames[sheet]
        assert isinstance(frame.index, pd.PeriodIndex) and frame.index.freqstr == "Q-DEC"
        assert str(frame.index[0]) == "1975Q1" and str(frame.index[-1]) == last
        expected_index = [f"{m[1]}Q{m[2]}" for m in map(QUARTER.match, quarters)]
        assert [str(p) for p in frame.index] == expected_index
        assert sheets[sheet].index == {"name": "period", "kind": "period", "freq": "Q-DEC",
                                       "start": "1975Q1", "end": last}
        header = rows[0]
        countries = [h for h in header[1:] if isinstance(h, str) and h.strip()]
        assert list(frame.columns) == countries
        assert all(str(t) == "float64" for t in frame.dtypes)
        data = [r for r in rows if isinstance(r[0], str) and QUARTER.match(r[0])]
        for country in ("Australia", "US", countries[-1]):
            column = header.index(country)
            expected = np.array([as_float(r[column]) for r in data])
            np.testing.assert_array_equal(frame[country].to_numpy(), expected)
        assert frame.loc[pd.Period("1975Q1", "Q"), "Australia"] == data[0][1]
    assert "Note" in sheets and list(frames["Note"].columns) == ["text"]


def test_dallas_2011_names_and_notes_are_logged(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "2011Q2.xlsx")
    assert "Sheet 'HPI ' is called 'HPI' here" in " ".join(log_of(parsed, "HPI", "sheet name"))
    assert "OECD-19" in frames["HPI"].columns
    notes = " ".join(log_of(parsed, "HPI", "notes"))
    assert "*2011:Q1 total is reweighted to exclude Ireland" in notes
    assert not any(c.startswith("column_") for c in frames["HPI"].columns)
    assert "Dropped blank row 2 between the header and the data." in log_of(parsed, "HPI")


def test_housing_preferences_csv(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "HousingPreferences.csv")
    (frame,) = frames.values()
    with open(DATA / "HousingPreferences.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(frame) == len(rows) - 1 == 545
    assert list(frame.columns) == rows[0]
    assert frame["Price"].dtype == "int64"
    assert frame["Price"].tolist() == [int(r[0]) for r in rows[1:]]
    assert pd.api.types.is_string_dtype(frame["FurnishingStatus"].dtype)
    assert frame["FurnishingStatus"].tolist() == [r[12] for r in rows[1:]]
    assert isinstance(frame.index, pd.RangeIndex)


def test_fred_monthly_dates_become_monthly_periods(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "CSUSHPINSA.csv")
    (frame,) = frames.values()
    with open(DATA / "CSUSHPINSA.csv", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert len(frame) == len(rows) == 436
    assert isinstance(frame.index, pd.PeriodIndex) and frame.index.freqstr == "M"
    assert [str(p) for p in frame.index] == [r[0][:7] for r in rows]
    assert frame["CSUSHPINSA"].tolist() == [float(r[1]) for r in rows]
    (meta,) = sheets.values()
    assert meta.index == {"name": "DATE", "kind": "period", "freq": "M", "start": "1987-01",
                          "end": "2023-04"}


def test_ine_latin1_tab_separated_long_format(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "ine_25171.csv")
    assert list(frames) == ["ine_25171", "ine_25171 by quarter"]  # pivoted: test_ingest_long
    frame = frames["ine_25171"]  # as uploaded
    lines = (DATA / "ine_25171.csv").read_bytes().decode("latin-1").splitlines()
    header, rows = lines[0].split("\t"), [line.split("\t") for line in lines[1:]]
    assert list(frame.columns) == header and len(frame) == len(rows) == 1500
    communities = frame["Autonomous Communities and Cities"]
    assert "01 Andalucía" in set(communities.dropna()) and "02 Aragón" in set(communities)
    assert communities.fillna("").tolist() == [r[1] for r in rows]
    assert communities.isna().sum() == 75
    np.testing.assert_allclose(frame["Total"].to_numpy(), [float(r[5]) for r in rows])
    assert "Windows-1252" in " ".join(log_of(parsed, None, "encoding"))
    assert "tabs" in " ".join(log_of(parsed, None, "delimiter"))
    assert any("but they repeat" in d for d in log_of(parsed, step="index"))


ZILLOW = "State_zhvi_uc_sfrcondo_tier_0.33_0.67_sm_sa_month.csv"


def test_zillow_wide_csv(tmp_path):
    parsed, sheets, frames = parse(tmp_path, ZILLOW)
    assert list(frames) == [ZILLOW[:-4], ZILLOW[:-4] + " by month"]
    frame = frames[ZILLOW[:-4]]  # as uploaded
    with open(DATA / ZILLOW, newline="") as h:
        rows = list(csv.reader(h))
    assert frame.shape == (51, 266) and list(frame.columns) == rows[0]
    blanks = sum(1 for r in rows[1:] for cell in r if cell == "")
    assert int(frame.isna().sum().sum()) == blanks == 223
    assert frame["RegionName"].tolist() == [r[2] for r in rows[1:]]
    assert frame["2021-09-30"].tolist() == [float(r[-1]) for r in rows[1:]]


def test_zillow_wide_csv_is_also_turned_into_monthly_columns(tmp_path):
    parsed, sheets, frames = parse(tmp_path, ZILLOW)
    name = ZILLOW[:-4] + " by month"
    turned = frames[name]
    with open(DATA / ZILLOW, newline="") as h:
        rows = list(csv.reader(h))
    states, dates = [r[2] for r in rows[1:]], rows[0][5:]
    assert turned.shape == (len(dates), len(states)) == (261, 51)
    assert list(turned.columns) == states
    assert isinstance(turned.index, pd.PeriodIndex) and turned.index.freqstr == "M"
    assert [str(p) for p in turned.index] == [d[:7] for d in dates]  # 2000-01-31 is 2000-01
    for row in rows[1:]:
        expected = [float(v) if v else math.nan for v in row[5:]]
        np.testing.assert_array_equal(turned[row[2]].to_numpy(), expected)
    assert sheets[name].index == {"name": "period", "kind": "period", "freq": "M",
                                  "start": "2000-01", "end": "2021-09"}
    (detail,) = log_of(parsed, ZILLOW[:-4], "wide table")
    assert "named from column 'RegionName'" in detail and "'SizeRank'" in detail


def test_oecd_years_across_are_also_turned_into_yearly_columns(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "oecd_pp_oecd.xlsx")
    turned = frames["Table by year"]
    raw = raw_cells("oecd_pp_oecd.xlsx", "Table")
    years = [int(float(y)) for y in raw[5][3:] if y]
    assert [p.year for p in turned.index] == years and turned.index.freqstr == "Y-DEC"
    source = next(r for r in raw if r[1] == "Australia")
    np.testing.assert_array_equal(
        turned["Australia"].to_numpy(),
        [as_float(v) if v != "" else math.nan for v in source[3 : 3 + len(years)]])
    assert "Russia" in turned.columns  # the list bullet "·  Russia" is not part of the name
    assert "Reference area" not in turned.columns  # a second header row, without numbers


def test_nationwide_xls_quarters_and_merged_headers(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "UK_house_price_since_1952.xls")
    assert parsed.format == "xls"
    frame = frames["UK HP Since 1952"]
    raw = raw_cells("UK_house_price_since_1952.xls", "UK HP Since 1952")
    data = [r for r in raw if isinstance(r[0], str) and re.match(r"^Q[1-4] \d{4}$", r[0])]
    assert len(frame) == len(data) == 285
    assert isinstance(frame.index, pd.PeriodIndex) and frame.index.freqstr == "Q-DEC"
    assert str(frame.index[0]) == "1952Q4" and str(frame.index[-1]) == "2023Q4"
    assert list(frame.columns[:3]) == ["All Houses (UK) Index", "All Houses (UK) Price £",
                                       "All Houses (UK) Annual Change %"]
    np.testing.assert_array_equal(frame["All Houses (UK) Price £"].to_numpy(),
                                  [as_float(r[2]) for r in data])
    modern = frame["Modern Houses (UK) Index"]
    assert str(modern.last_valid_index()) == "2015Q2"
    annual = frame["New Houses (UK) Annual Change %"]
    assert math.isnan(annual.iloc[0]) and raw[6][6] == " "  # a single space read as missing


def test_live_table_ods(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "Live_Table_122.ods")
    assert parsed.format == "ods"
    frame = frames["LT122"]
    raw = raw_cells("Live_Table_122.ods", "LT122")
    years = [v for v in raw[3] if isinstance(v, str) and re.match(r"^\d{4}-\d{2}", v)]
    assert [c for c in frame.columns if re.match(r"^\d{4}-\d{2}", c)] == years
    assert "Former ONS code" in frame.columns and "DCLG code" in frame.columns
    assert "Header detected in row 4" in " ".join(log_of(parsed, "LT122", "header"))
    england = frame[frame["Current ONS code"] == "E92000001"]
    assert england["2001-02"].iloc[0] == raw[5][7]
    dots = sum(1 for r in raw for v in r if v == "..")
    assert dots and "'..'" in " ".join(log_of(parsed, "LT122", "missing values"))
    text = " ".join(str(v) for col in frame.select_dtypes("str") for v in frame[col].dropna())
    assert "Contact:" not in text and "All figures are unrounded" not in text


def test_bis_dates_become_quarters(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "bis_pp_long.xlsx")
    frame = frames["Quarterly Series"]
    rows = openpyxl_rows("bis_pp_long.xlsx", "Quarterly Series")
    data = [r for r in rows[4:] if r[0] is not None]
    assert len(frame) == len(data) == 368
    assert frame.index.freqstr == "Q-DEC"
    assert str(frame.index[0]) == "1927Q1" and str(frame.index[-1]) == "2018Q4"
    assert frame.shape[1] == 23 and frame.columns[0] == "Australia Q:AU"
    counts = [sum(1 for r in data if isinstance(r[c], (int, float))) for c in range(1, 24)]
    assert frame.notna().sum().tolist() == counts
    assert list(frames["Summary Documentation"].columns) == [
        "Data set", "Code", "Frequency", "Country", "Unit", "Series title", "Coverage", "Source"]
    assert list(frames["Content"].columns) == ["text"]


def test_oecd_titles_and_footer(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "oecd_pp_oecd.xlsx")
    frame = frames["Table"]
    raw = raw_cells("oecd_pp_oecd.xlsx", "Table")
    years = [v for v in raw[5][3:] if v]
    assert list(frame.columns[1:]) == [str(int(float(y))) for y in years]
    australia = frame[frame.iloc[:, 0] == "Australia"].iloc[0]
    source = next(r for r in raw if r[1] == "Australia")
    assert australia.iloc[1:].tolist() == pytest.approx(
        [as_float(v) if v != "" else math.nan for v in source[3 : 3 + len(years)]], nan_ok=True)
    assert not frame.iloc[:, 0].astype(str).str.contains("©").any()
    assert "rows 1–4 above it were titles" in " ".join(log_of(parsed, "Table", "header"))


def test_jchs_appendix_tables(tmp_path):
    parsed, sheets, frames = parse(tmp_path, "Harvard_JCHS_State_Nations_Housing_2022.xlsx")
    assert "W-3" in sheets and sheets["W-3"].original_name == "W-3 "
    a1 = frames["A-1"]
    rows = openpyxl_rows("Harvard_JCHS_State_Nations_Housing_2022.xlsx", "A-1")
    years = [r[0] for r in rows if isinstance(r[0], (int, float))]
    assert [p.year for p in a1.index] == [int(y) for y in years]
    assert sheets["A-1"].index["kind"] == "year" and sheets["A-1"].index["freq"] == "Y-DEC"
    assert a1.columns[0] == "Permits (Thousands) Single-Family"
    first = next(r for r in rows if r[0] == years[0])
    assert a1.iloc[0, 0] == first[1] and a1.iloc[0, 1] == first[2]
    assert "'Permits1' → 'Permits'" in " ".join(log_of(parsed, "A-1", "column names"))
    w8 = frames["W-8"]
    assert w8.shape == (382, 33) and list(w8.columns[1:4]) == ["1990", "1991", "1992"]
    assert frames["W-7"].shape == (912, 5)
