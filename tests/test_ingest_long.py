"""Long time series (one row per series and period) get a pivoted copy beside them; anything
else is left alone. Expected numbers come from reading the text with the csv module."""

import csv
import io
import math

import pandas as pd
import pytest

from tests.test_ingest_wide import parse_text, quarters
from tests.upload_actions import DATA, UploadActions
from upload.pipeline import parse_file, read_sheet

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


def test_every_number_of_the_ine_export_lands_in_its_place(tmp_path):
    """INE's house price index: Latin-1, tab-separated, 20 regions x 75 quarters, long."""
    parsed = parse_file(DATA / "ine_25171.csv", "ine_25171.csv", tmp_path)
    assert [s.name for s in parsed.sheets] == ["ine_25171", "ine_25171 by quarter"]
    turned_meta = parsed.sheets[1]
    assert turned_meta.turned_from == "ine_25171"
    turned = read_sheet(tmp_path / turned_meta.parquet)
    assert turned.index.freqstr == "Q-DEC" and turned.index.is_monotonic_increasing
    text = (DATA / "ine_25171.csv").read_bytes().decode("latin-1")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert len(rows) == 1500
    expected = {}
    for row in rows:
        year, roman = row["Period"].split("Q")
        quarter = pd.Period(year=int(year), quarter=ROMAN[roman], freq="Q")
        region = row["Autonomous Communities and Cities"] or row["National Total"]
        expected[(quarter, region)] = float(row["Total"])
    assert turned.shape == (75, 20)
    assert list(turned.columns[:2]) == ["Nacional", "01 Andalucía"]  # the file's order
    for (quarter, region), value in expected.items():
        assert turned.loc[quarter, region] == value
    detail = next(e["detail"] for e in parsed.cleaning_log if e["step"] == "long table")
    assert "named by 1 column ('Autonomous Communities and Cities')" in detail
    assert "from 2007Q1 to 2025Q3" in detail


def long_csv(series: dict[tuple[str, ...], list[float]], header: list[str],
             periods: list[str]) -> str:
    lines = [",".join(header)]
    for key, numbers in series.items():
        lines += [",".join([*key, period, repr(v)]) for period, v in
                  zip(periods, numbers, strict=True) if not math.isnan(v)]
    return "\n".join(lines) + "\n"


def test_two_naming_columns_and_missing_periods(tmp_path):
    labels = quarters(10)
    series = {("North", "Index"): [float(i) for i in range(10)],
              ("North", "Rate"): [i / 10 for i in range(10)],
              ("South", "Index"): [100.0 + i for i in range(9)] + [math.nan]}
    parsed, frames = parse_text(
        tmp_path, long_csv(series, ["region", "measure", "quarter", "value"], labels), "l.csv")
    turned = frames["l by quarter"]
    assert list(turned.columns) == ["North · Index", "North · Rate", "South · Index"]
    assert [str(p) for p in turned.index] == labels
    assert turned["North · Rate"].tolist() == series[("North", "Rate")]
    assert turned["South · Index"].iloc[:9].tolist() == series[("South", "Index")][:9]
    assert math.isnan(turned["South · Index"].iloc[9])  # a period a series lacks stays empty
    assert frames["l"].shape == (29, 4)  # the sheet as uploaded is untouched


def test_several_number_columns_each_get_a_column(tmp_path):
    labels = [str(p) for p in pd.period_range("2020-01", periods=8, freq="M")]
    lines = ["area,month,sales,price"]
    lines += [f"{area},{m},{i},{i * 1000 + len(area)}" for area in ("A", "Bb")
              for i, m in enumerate(labels)]
    _, frames = parse_text(tmp_path, "\n".join(lines) + "\n", "s.csv")
    turned = frames["s by month"]
    assert list(turned.columns) == ["A · sales", "A · price", "Bb · sales", "Bb · price"]
    assert turned["Bb · price"].tolist() == [i * 1000 + 2.0 for i in range(8)]


def test_a_number_that_labels_each_series_is_not_a_value(tmp_path):
    labels = quarters(8)
    lines = ["code,region,quarter,price"]
    lines += [f"{code},{region},{q},{code * 100 + i}" for code, region in ((7, "North"),
              (9, "South")) for i, q in enumerate(labels)]
    parsed, frames = parse_text(tmp_path, "\n".join(lines) + "\n", "c.csv")
    turned = frames["c by quarter"]
    assert list(turned.columns) == ["North", "South"]  # not "North · code", "North · price"
    assert turned["South"].tolist() == [900.0 + i for i in range(8)]


@pytest.mark.parametrize("case", ["two numbers for one period", "too few periods",
                                  "one series", "numbers as labels"])
def test_other_tables_are_left_alone(tmp_path, case):
    labels = quarters(10)
    if case == "two numbers for one period":
        text = long_csv({("N",): [1.0] * 10, ("S",): [2.0] * 10}, ["r", "q", "v"], labels)
        text += "N,2019Q1,5.0\n"
    elif case == "too few periods":
        text = long_csv({("N",): [1.0] * 7, ("S",): [2.0] * 7}, ["r", "q", "v"], labels[:7])
    elif case == "one series":  # periods unique: they become the index, nothing to pivot
        text = long_csv({("N",): [1.0] * 10}, ["r", "q", "v"], labels)
    else:  # a per-house table: no column of periods
        text = (DATA / "HousingPreferences.csv").read_text()
    parsed, frames = parse_text(tmp_path, text, "t.csv")
    assert list(frames) == ["t"]
    assert not [e for e in parsed.cleaning_log if e["step"] == "long table"]


def test_the_dataset_opens_on_the_pivoted_sheet(client):
    dataset = UploadActions(client).dataset("ine_25171.csv")
    assert [s["turned_from"] for s in dataset["sheets"]] == [None, "ine_25171"]
    page = client.get(f"/datasets/{dataset['id']}").get_data(as_text=True)
    assert 'id="preview-heading">ine_25171 by quarter <span' in page
    growth = client.post(f"/api/v1/datasets/{dataset['id']}/analyses/growth", json={
        "sheet": "ine_25171 by quarter", "columns": ["Nacional"], "periods": 4})
    assert growth.status_code == 200, growth.get_data(as_text=True)
    body = growth.get_json()
    at = body["index"].index("2025Q3")
    # INE's national index: 183.389 in 2025Q3, 2024Q3's value from the file by hand
    text = (DATA / "ine_25171.csv").read_bytes().decode("latin-1")
    year_before = next(float(r["Total"]) for r in csv.DictReader(io.StringIO(text), delimiter="\t")
                       if r["Period"] == "2024QIII" and not r["Autonomous Communities and Cities"])
    assert body["series"]["Nacional"][at] == pytest.approx(
        (183.389 / year_before - 1) * 100, rel=1e-12)


def test_very_long_series_names_are_cut_like_column_names(tmp_path):
    from upload.naming import MAX_NAME

    long_name = "Región " + "muy " * 600  # 2,407 characters
    lines = ["region,quarter,price"]
    lines += [f"{r},{q},{i}" for r in (long_name, "Norte") for i, q in enumerate(quarters(8))]
    _, frames = parse_text(tmp_path, "\n".join(lines) + "\n", "n.csv")
    turned = frames["n by quarter"]
    assert list(turned.columns) == [long_name[:MAX_NAME].rstrip(), "Norte"]


def test_a_table_of_many_numbers_is_not_read_for_periods(monkeypatch):
    # more number columns than a long series has values: left alone before any text column
    # is read for periods (the per-house table has six)
    from upload import long
    from upload.clean import CleanSheet

    def no_reading(frame):
        raise AssertionError("the text columns were read for periods")

    monkeypatch.setattr(long, "_period_column", no_reading)
    frame = pd.DataFrame({"q": quarters(10), **{f"n{i}": [1.0 * i] * 10 for i in range(4)}})
    assert long.turn_long("t", CleanSheet(frame, [], None), None) is None
