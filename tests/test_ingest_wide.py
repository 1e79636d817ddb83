"""Wide time series (one row per series, one column per period) get a turned copy beside them;
anything else is left alone. Synthetic CSVs through the whole parse, checked against the
text that was written."""

import math

import numpy as np
import pandas as pd

from upload.pipeline import parse_file, read_sheet


def parse_text(tmp_path, text: str, name: str = "wide.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    parsed = parse_file(path, name, out)
    frames = {s.name: read_sheet(out / s.parquet) for s in parsed.sheets}
    return parsed, frames


def quarters(n: int) -> list[str]:
    return [str(p) for p in pd.period_range("2019Q1", periods=n, freq="Q")]


def test_quarter_columns_are_turned_and_every_number_lands_in_its_place(tmp_path):
    labels = quarters(10)
    rng = np.random.default_rng(7)
    values = rng.normal(100, 10, size=(3, 10)).round(3)
    names = ["North", "South", "=HYPERLINK(\"x\")"]  # names are text, whatever they say
    lines = ["code,Region," + ",".join(labels)]
    lines += [f"{i},{n if ',' not in n else repr(n)}," + ",".join(map(str, row))
              for i, (n, row) in enumerate(zip(names, values, strict=True))]
    lines[3] = '2,"=HYPERLINK(""x"")",' + ",".join(map(str, values[2]))
    parsed, frames = parse_text(tmp_path, "\n".join(lines) + "\n")
    assert list(frames) == ["wide", "wide by quarter"]
    turned = frames["wide by quarter"]
    assert list(turned.columns) == names
    assert [str(p) for p in turned.index] == labels and turned.index.freqstr == "Q-DEC"
    np.testing.assert_array_equal(turned.to_numpy(), values.T)
    assert frames["wide"].shape == (3, 12)  # the sheet as uploaded is untouched
    detail = next(e["detail"] for e in parsed.cleaning_log if e["step"] == "wide table")
    assert "named from column 'Region'" in detail and "'code'" in detail


def test_a_few_dated_columns_are_not_a_time_series(tmp_path):
    lines = ["name,2020-01,2020-02,2020-03,notes", "a,1,2,3,x", "b,4,5,6,y"]
    parsed, frames = parse_text(tmp_path, "\n".join(lines) + "\n")
    assert list(frames) == ["wide"]
    assert not [e for e in parsed.cleaning_log if e["step"] == "wide table"]


def test_rows_without_a_unique_name_are_not_turned(tmp_path):
    header = "name," + ",".join(quarters(12))
    rows = [f"same,{','.join(str(i + j) for j in range(12))}" for i in range(2)]
    parsed, frames = parse_text(tmp_path, "\n".join([header, *rows]) + "\n")
    assert list(frames) == ["wide"]


def test_a_long_table_with_a_period_index_stays_as_it_is(tmp_path):
    lines = ["quarter,a,b"] + [f"{q},{i},{2 * i}" for i, q in enumerate(quarters(12))]
    parsed, frames = parse_text(tmp_path, "\n".join(lines) + "\n")
    assert list(frames) == ["wide"] and frames["wide"].index.freqstr == "Q-DEC"


def test_missing_cells_stay_missing_and_empty_series_are_left_out(tmp_path):
    labels = quarters(9)
    lines = ["Country," + ",".join(labels),
             "Spain,1,2,,4,5,6,7,8,9",
             "Not yet reported," + "," * 8,
             "France,9,8,7,6,5,4,3,2,"]
    parsed, frames = parse_text(tmp_path, "\n".join(lines) + "\n")
    turned = frames["wide by quarter"]
    assert list(turned.columns) == ["Spain", "France"]
    assert math.isnan(turned["Spain"].iloc[2]) and math.isnan(turned["France"].iloc[-1])
    assert turned["France"].iloc[0] == 9
    detail = next(e["detail"] for e in parsed.cleaning_log if e["step"] == "wide table")
    assert "1 row without a number ('Not yet reported') is left out" in detail


def test_the_dataset_opens_on_the_turned_sheet_and_the_api_names_its_source(client):
    from tests.upload_actions import UploadActions

    zillow = "State_zhvi_uc_sfrcondo_tier_0.33_0.67_sm_sa_month"
    dataset = UploadActions(client).dataset(zillow + ".csv")
    turned = dataset["sheets"][1]
    assert turned["name"] == zillow + " by month" and turned["turned_from"] == zillow
    assert dataset["sheets"][0]["turned_from"] is None
    assert (turned["n_rows"], turned["n_cols"]) == (261, 51)
    page = client.get(f"/datasets/{dataset['id']}").get_data(as_text=True)
    assert f'id="preview-heading">{zillow} by month <span' in page
    assert "turned so that each series is a column" in page
    rows = UploadActions(client).rows(dataset["id"], turned["name"], limit=1).get_json()
    assert rows["index"] == ["2000-01"] and "California" in rows["columns"]


def test_suggested_charts_use_the_turned_sheet_not_the_wide_one(client):
    from tests.upload_actions import UploadActions

    dataset = UploadActions(client).dataset("oecd_pp_oecd.xlsx")
    page = client.get(f"/datasets/{dataset['id']}").get_data(as_text=True)
    suggestions = page.split('id="charts-heading"', 1)[1].split("</section>", 1)[0]
    assert "(Table by year)" in suggestions and "(Table)" not in suggestions
    assert "Line: Australia, Austria, Belgium" in suggestions


def test_names_unique_only_beyond_the_name_limit_are_not_turned(tmp_path):
    from upload.naming import MAX_NAME

    header = "name," + ",".join(quarters(10))
    rows = [f"{'x' * MAX_NAME}{end}," + ",".join(str(i) for i in range(10)) for end in "ab"]
    parsed, frames = parse_text(tmp_path, "\n".join([header, *rows]) + "\n")
    assert list(frames) == ["wide"]  # cut to 200 characters, the two names would be one
