"""Every written form of a date or a number, typed wherever it stands (issue 21).

Each form gets a file made for it here (CSV text or an openpyxl workbook); the expected values
are written out by hand or computed with the standard library, never taken from the parser.
"""

import datetime as dt
import itertools
import random

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest_fixtures import xlsx_bytes
from upload.layout import detect_layout
from upload.pipeline import parse_file, read_sheet


def parse_csv(tmp_path, text: str, options=None, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    parsed = parse_file(path, name, out, options)
    sheet = parsed.sheets[0]
    frame = read_sheet(out / sheet.parquet)
    log = [e["detail"] for e in parsed.cleaning_log]
    return frame, sheet, log


def dtypes(sheet) -> dict:
    return {c["name"]: c["dtype"] for c in sheet.columns}


# -- numbers -------------------------------------------------------------------------------
NUMBER_FORMS = [  # (written, value)
    (".591E0", 0.591), ("-.5", -0.5), ("1.2E+03", 1200.0), ("24.41E0", 24.41),
    ('"1,234.5"', 1234.5), ("(1234)", -1234.0), ('"(1,234)"', -1234.0), ("12.5%", 12.5),
    ('"£1,480,000"', 1480000.0), ('"$ 221,900"', 221900.0), ("1 480 000 €", 1480000.0),
    ("123.4p", 123.4), ("5.6*", 5.6), ("-$5", -5.0), ("7", 7.0),
]


@pytest.mark.parametrize(("written", "value"), NUMBER_FORMS)
def test_each_number_form_is_read_and_the_first_row_is_data(tmp_path, written, value):
    rows = [written, "2", "3.5", "4"]
    text = "y,label\n" + "".join(f"{w},r{i}\n" for i, w in enumerate(rows))
    frame, sheet, log = parse_csv(tmp_path, text)
    assert list(frame.columns) == ["y", "label"]
    assert len(frame) == 4  # the first data row is not a second header row
    assert frame["y"].iloc[0] == pytest.approx(value)
    assert frame["y"].tolist()[1:] == [2.0, 3.5, 4.0]
    assert "Header detected in row 1." in log


def test_the_issue_file_keeps_its_first_row(tmp_path):
    frame, _, log = parse_csv(tmp_path, "y,x\n.591E0,24.41E0\n.3E1,25.0E0\n-.5,1E-1\n")
    assert list(frame.columns) == ["y", "x"]
    assert frame["y"].tolist() == [0.591, 3.0, -0.5]
    assert frame["x"].tolist() == [24.41, 25.0, 0.1]


@pytest.mark.parametrize("seed", range(6))
def test_header_sweep_every_number_form_in_the_first_data_row(tmp_path, seed):
    """Generated files: random number forms fill the first data row of 2–5 columns."""
    rng = random.Random(seed)
    width = rng.randint(2, 5)
    forms = [rng.choice(NUMBER_FORMS) for _ in range(width)]
    header = [f"v{i}" for i in range(width)]
    body = [[w for w, _ in forms]] + [[str(rng.randint(1, 99)) for _ in range(width)]
                                      for _ in range(5)]
    text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in body) + "\n"
    frame, _, _ = parse_csv(tmp_path, text)
    assert list(frame.columns) == header
    assert len(frame) == 6
    for i, (_, value) in enumerate(forms):
        assert frame[f"v{i}"].iloc[0] == pytest.approx(value)


def test_decimal_commas_with_dot_thousands(tmp_path):
    frame, _, log = parse_csv(tmp_path, 'k;v\na;"1.234,5"\nb;"987,25"\nc;"2.000.000,0"\n')
    assert frame["v"].tolist() == [1234.5, 987.25, 2000000.0]
    assert any("decimal comma" in line for line in log)


def test_currency_percent_and_footnote_marks_are_logged(tmp_path):
    text = ("area,price,share,rate\nA,£1,12.5%,1.5p\nB,\"£2,000\",3%,2.5\nC,£3,4%,3.0*\n"
            "D,£4,1%,4.0\n")
    frame, _, log = parse_csv(tmp_path, text)
    assert frame["price"].tolist() == [1, 2000, 3, 4]
    assert frame["share"].tolist() == [12.5, 3.0, 4.0, 1.0]
    assert frame["rate"].tolist() == [1.5, 2.5, 3.0, 4.0]
    joined = " ".join(log)
    assert "Currency signs" in joined and "'price'" in joined
    assert "percent points (12.5% → 12.5)" in joined
    marks = next(line for line in log if "footnote marks" in line)
    assert "'p' on 1 value" in marks and "'*' on 1 value" in marks and "rows 2 and 4" in marks


# -- dates ---------------------------------------------------------------------------------
DATE_FORMS = [  # (written values, dtype, first value as pandas reads it unambiguously)
    (["2016-12-03", "2016-12-04", "2017-01-15"], "datetime64", pd.Timestamp(2016, 12, 3)),
    (["2016-12-03T10:00", "2016-12-04T11:30", "2017-01-15T00:00"], "datetime64",
     pd.Timestamp(2016, 12, 3, 10)),
    (["20161203T000000", "20161204T101500", "20170115T000000"], "datetime64",
     pd.Timestamp(2016, 12, 3)),
    (["3/12/2016", "4/02/2016", "13/01/2017"], "datetime64", pd.Timestamp(2016, 12, 3)),
    (["12/3/2016", "2/4/2016", "1/13/2017"], "datetime64", pd.Timestamp(2016, 12, 3)),
    (["03.12.2016", "04.02.2016", "13.01.2017"], "datetime64", pd.Timestamp(2016, 12, 3)),
    (["03-12-2016", "04-02-2016", "13-01-2017"], "datetime64", pd.Timestamp(2016, 12, 3)),
    (["3 Dec 2016", "4 Feb 2016", "13 January 2017"], "datetime64", pd.Timestamp(2016, 12, 3)),
    (["Dec-16", "Jan-17", "Feb-17"], "period[M]", pd.Period("2016-12", "M")),
    (["2016-12", "2017-01", "2017-02"], "period[M]", pd.Period("2016-12", "M")),
    (["2016M12", "2017M01", "2017M02"], "period[M]", pd.Period("2016-12", "M")),
    (["2016Q4", "2017Q1", "2017Q2"], "period[Q-DEC]", pd.Period("2016Q4", "Q")),
    (["2016:Q4", "2017:Q1", "2017:Q2"], "period[Q-DEC]", pd.Period("2016Q4", "Q")),
    (["Q4 2016", "Q1 2017", "Q2 2017"], "period[Q-DEC]", pd.Period("2016Q4", "Q")),
    (["2016 Q4", "2017 Q1", "2017 Q2"], "period[Q-DEC]", pd.Period("2016Q4", "Q")),
    (["2001-02", "2002-03", "2003-04"], "period[Y-MAR]", pd.Period("2002", "Y-MAR")),
]


@pytest.mark.parametrize(("written", "dtype", "first"), DATE_FORMS,
                         ids=[w[0] for w, _, _ in DATE_FORMS])
def test_each_date_form_is_typed_in_any_column(tmp_path, written, dtype, first):
    """Not the first column, and repeated: a date column that does not become the index."""
    values = written * 3
    text = "price,when,area\n" + "".join(f"{i},{w},a{i % 2}\n" for i, w in enumerate(values))
    frame, sheet, log = parse_csv(tmp_path, text)
    assert dtypes(sheet)["when"].startswith(dtype)
    assert frame["when"].iloc[0] == first
    assert frame["when"].notna().all()
    assert any("Column 'when' holds" in line and "typed as" in line for line in log)


def test_day_month_order_is_decided_per_column_and_said(tmp_path):
    text = "b,a\n1,3/12/2016\n2,4/02/2016\n"
    frame, _, log = parse_csv(tmp_path, text)
    assert frame["a"].tolist() == [pd.Timestamp(2016, 12, 3), pd.Timestamp(2016, 2, 4)]
    assert any("no day above 12 settles the order" in line for line in log)
    frame, sheet, log = parse_csv(tmp_path, text, {"types": {"a": "date_monthfirst"}})
    assert frame["a"].tolist() == [pd.Timestamp(2016, 3, 12), pd.Timestamp(2016, 4, 2)]
    assert "Column 'a' set to date_monthfirst as you chose." in log


def test_financial_year_end_month_is_settable(tmp_path):
    text = "year,homes\n2001-02,10\n2002-03,12\n2003-04,15\n"
    frame, sheet, log = parse_csv(tmp_path, text, {"types": {"year": "date_fy_jun"}})
    assert dtypes(sheet)["year"] == "period[Y-JUN]"
    assert frame["year"].iloc[0] == pd.Period("2002", "Y-JUN")
    assert frame["year"].iloc[0].start_time == pd.Timestamp(2001, 7, 1)


def test_a_third_unreadable_is_still_dates_with_the_failures_listed(tmp_path):
    good = [dt.date(2016, 1, 1) + dt.timedelta(days=i) for i in range(14)]
    written = [d.strftime("%d/%m/%Y") for d in good] + ["soon", "tbc", "n.k.", "later", "?",
                                                       "unknown"]
    text = "v,when\n" + "".join(f"{i},{w}\n" for i, w in enumerate(written))
    frame, sheet, log = parse_csv(tmp_path, text)
    assert dtypes(sheet)["when"].startswith("datetime64")
    assert frame["when"].iloc[:14].tolist() == [pd.Timestamp(d) for d in good]
    assert frame["when"].iloc[14:].isna().all()
    line = next(entry for entry in log if "Column 'when' holds" in entry)
    assert "6 values could not be read as dates" in line and "'soon', 'tbc'" in line


def test_out_of_range_years_are_missing_with_a_note(tmp_path):
    text = "v,when\n1,2016-01-01\n2,0000-01-01\n3,9999-12-31\n4,2016-01-02\n"
    frame, sheet, log = parse_csv(tmp_path, text)
    assert frame["when"].isna().tolist() == [False, True, True, False]
    assert any("year outside 1000–2999" in line and "'9999-12-31'" in line for line in log)


def test_numbers_in_one_half_and_dates_in_the_other_stay_text(tmp_path):
    written = [str(i * 7) for i in range(10)] + [f"{i + 1}/03/2016" for i in range(10)]
    text = "v,mixed\n" + "".join(f"{i},{w}\n" for i, w in enumerate(written))
    frame, sheet, log = parse_csv(tmp_path, text)
    assert dtypes(sheet)["mixed"] == "str"
    assert any("Column 'mixed' stays text" in line and "plain numbers" in line for line in log)


def test_excel_serials_and_iso_basic_numbers_only_under_a_date_header(tmp_path):
    text = ("sale date,price,day\n42707,42707,20161203\n42708,42800,20161204\n"
            "42708,42800,20161204\n")
    frame, sheet, log = parse_csv(tmp_path, text)
    assert frame["sale date"].tolist() == [pd.Timestamp(2016, 12, d) for d in (3, 4, 4)]
    assert dtypes(sheet)["price"] == "int64"  # the same numbers under another header
    assert dtypes(sheet)["day"] == "int64"
    frame, _, _ = parse_csv(tmp_path, "date,v\n20161203,1\n20161204,2\n20161206,3\n")
    assert list(frame.index) == [pd.Timestamp(2016, 12, d) for d in (3, 4, 6)]


def test_workbook_dates_mixed_with_text(tmp_path):
    content = xlsx_bytes([["v", "when"], [1, dt.datetime(2016, 12, 3)], [2, "4/12/2016"],
                          [3, "unknown"], [4, dt.datetime(2016, 12, 5)]])
    path = tmp_path / "book.xlsx"
    path.write_bytes(content)
    parsed = parse_file(path, "book.xlsx", tmp_path)
    frame = read_sheet(tmp_path / parsed.sheets[0].parquet)
    assert frame["when"].tolist()[:2] == [pd.Timestamp(2016, 12, 3), pd.Timestamp(2016, 12, 4)]
    assert pd.isna(frame["when"].iloc[2])
    assert any("'unknown'" in e["detail"] for e in parsed.cleaning_log)


def test_a_sales_table_date_column_repeats_and_is_typed(tmp_path):
    days = [f"{d}/{m:02d}/2016" for m, d in itertools.product(range(1, 13), (3, 17))] * 2
    text = "Price,Date,Type\n" + "".join(f"{100 + i},{d},{'DS'[i % 2]}\n"
                                         for i, d in enumerate(days))
    frame, sheet, log = parse_csv(tmp_path, text)
    assert sheet.index is None
    assert dtypes(sheet)["Date"].startswith("datetime64")
    assert frame["Date"].iloc[1] == pd.Timestamp(2016, 1, 17)
    assert any("they repeat" in line for line in log)


def test_house_numbers_are_not_numbers_with_footnote_marks(tmp_path):
    text = "no,street\n14,High St\n12a,High St\n16,Low Rd\n3a,Low Rd\n5,Mill Ln\n"
    frame, sheet, _ = parse_csv(tmp_path, text)
    assert dtypes(sheet)["no"] == "str" and frame["no"].tolist()[:2] == ["14", "12a"]


def test_a_workbook_column_half_numbers_half_dates_stays_text_and_says_why(tmp_path):
    rows = [["v", "mixed"]] + [[i, i * 7] for i in range(8)] + \
        [[i, f"{i + 1}/03/2016"] for i in range(8)]
    path = tmp_path / "mixed.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    parsed = parse_file(path, "mixed.xlsx", tmp_path)
    assert dtypes(parsed.sheets[0])["mixed"] == "str"
    assert any("Column 'mixed' stays text" in e["detail"] for e in parsed.cleaning_log)


def test_financial_years_show_as_written_in_rows(client):
    from tests.upload_actions import UploadActions

    body = UploadActions(client).upload_bytes(b"year,homes\n2001-02,10\n2002-03,12\n",
                                              "fy.csv").get_json()
    rows = client.get(f"/api/v1/datasets/{body['id']}/sheets/fy/rows").get_json()
    assert [r[0] for r in rows["rows"]] == ["2001-02", "2002-03"]


def test_a_first_row_whose_text_repeats_below_is_data_not_a_header(tmp_path):
    text = "no,street\n12a,High St\n14,High St\n16,Low Rd\n3,Low Rd\n5,Mill Ln\n7,Mill Ln\n"
    frame, _, log = parse_csv(tmp_path, text)
    assert list(frame.columns) == ["no", "street"] and len(frame) == 6
    assert frame["street"].iloc[0] == "High St"


# Every number form, rendered from a number hypothesis draws: the first data row is never taken
# for a header, whatever forms fill it (layout only, so a hundred tables take a second).
def _render(value: float, form: str) -> str:
    magnitude = abs(value)
    sign = "-" if value < 0 else ""
    return {
        "plain": f"{value:.3f}", "e": f"{value:.3E}",
        "dot_e": f"{sign}.{int(magnitude * 1000) % 1000:03d}E0",
        "thousands": f"{sign}{magnitude:,.1f}", "paren": f"({magnitude:,.0f})",
        "percent": f"{value:.1f}%", "pound": f"{sign}£{magnitude:,.0f}",
        "dollar_space": f"{sign}$ {magnitude:,.0f}",
        "euro_after": f"{magnitude:,.0f} €".replace(",", " "),
        "provisional": f"{value:.1f}p", "starred": f"{value:.1f}*",
    }[form]


FORMS = ["plain", "e", "dot_e", "thousands", "paren", "percent", "pound", "dollar_space",
         "euro_after", "provisional", "starred"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e7, 1e7, allow_nan=False), st.sampled_from(FORMS)),
                min_size=1, max_size=6))
def test_hypothesis_first_data_row_of_any_number_forms_is_data(cells):
    header = [f"col {i}" for i in range(len(cells))]
    first = [_render(value, form) for value, form in cells]
    rest = [[f"{(r + 1) * (c + 2)}" for c in range(len(cells))] for r in range(4)]
    found = detect_layout([header, first, *rest])
    assert found.header_rows == [0] and found.body_start == 1, first
