"""Stored sheets read back exactly and fast; downloads cannot smuggle formulas."""

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.ingest_fixtures import DATA
from upload.pipeline import (
    ParsedUpload,
    export_csv,
    export_parquet,
    export_xlsx,
    parse_file,
    read_sheet,
)


@pytest.fixture(scope="module")
def dallas(tmp_path_factory):
    out = tmp_path_factory.mktemp("dallas")
    parsed = parse_file(DATA / "2020Q1.xlsx", "2020Q1.xlsx", out)
    return parsed, out


def test_read_sheet_restores_the_period_index_and_dtypes(dallas):
    parsed, out = dallas
    meta = next(s for s in parsed.sheets if s.name == "RHPI")
    frame = read_sheet(out / meta.parquet)
    assert isinstance(frame.index, pd.PeriodIndex) and frame.index.freqstr == "Q-DEC"
    assert frame.index.name == "period"
    assert [c["dtype"] for c in meta.columns] == [str(t) for t in frame.dtypes]
    assert (meta.n_rows, meta.n_cols) == frame.shape


def test_metadata_is_json_safe_and_shaped_like_the_api_contract(dallas):
    import json

    parsed, _ = dallas
    body = json.loads(json.dumps(parsed.to_dict()))
    assert set(body) == {"format", "sheets", "cleaning_log"}
    for sheet in body["sheets"]:
        assert {"name", "n_rows", "n_cols", "columns", "index"} <= set(sheet)
        assert all({"name", "dtype"} <= set(c) for c in sheet["columns"])
        if sheet["index"] is not None:
            assert set(sheet["index"]) == {"name", "kind", "freq", "start", "end"}
    assert all(set(e) == {"sheet", "step", "detail"} for e in body["cleaning_log"])
    with pytest.raises(AttributeError):
        parsed.format = "csv"  # frozen
    assert isinstance(parsed, ParsedUpload)


FORMULAS = pd.DataFrame({
    "Name": pd.Series(["=1+2", "+SUM(A1)", "-cmd", "@x", "\tTAB", "plain"], dtype="str"),
    "Value": [1.0, -2.0, 3.0, 4.0, 5.0, np.nan],
})


def test_csv_export_neutralises_formula_text_only():
    frame = pd.read_csv(io.BytesIO(export_csv(FORMULAS)))
    assert frame["Name"].tolist() == ["'=1+2", "'+SUM(A1)", "'-cmd", "'@x", "'\tTAB", "plain"]
    assert frame["Value"].tolist()[:5] == [1.0, -2.0, 3.0, 4.0, 5.0]  # numbers untouched


def test_xlsx_export_writes_strings_never_formulas():
    book = openpyxl.load_workbook(io.BytesIO(export_xlsx(FORMULAS)))
    sheet = book["data"]
    cells = [c for c in sheet["A"]][1:]
    assert [c.value for c in cells] == ["'=1+2", "'+SUM(A1)", "'-cmd", "'@x", "'\tTAB", "plain"]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in sheet["B"]][1:6] == [1, -2, 3, 4, 5]


def test_exports_put_the_period_index_first(dallas):
    parsed, out = dallas
    frame = read_sheet(out / next(s for s in parsed.sheets if s.name == "HPI").parquet)
    csv = pd.read_csv(io.BytesIO(export_csv(frame)))
    assert csv.columns[0] == "period" and csv["period"].iloc[0] == "1975Q1"
    assert len(csv) == len(frame)
    np.testing.assert_allclose(csv["Australia"].to_numpy(), frame["Australia"].to_numpy())
    xlsx = pd.read_excel(io.BytesIO(export_xlsx(frame)))
    assert xlsx.shape == (len(frame), frame.shape[1] + 1)
    back = pd.read_parquet(io.BytesIO(export_parquet(frame)))
    pd.testing.assert_frame_equal(back, frame)


def test_formula_like_column_names_are_neutralised_too():
    frame = pd.DataFrame({"=cmd()": pd.Series(["a"], dtype="str")})
    assert export_csv(frame).decode().splitlines()[0] == "'=cmd()"
