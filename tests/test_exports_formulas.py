"""Every table the app lets a user download is safe to open in a spreadsheet program.

Walks every export operation of the OpenAPI document (any GET that can answer CSV, XLSX or
Markdown) over a dataset whose column names, group names and cells are formula payloads, and
checks no text cell of any export starts a formula, while numbers (negative ones too) stay
numbers. Regression for issue 20 hole 1: analysis exports passed the payloads through."""

import csv
import io
import re
from urllib.parse import quote

import openpyxl
import pandas as pd
import pytest

from tests.upload_actions import UploadActions
from upload.writers import FORMULA_STARTS, neutralise_text

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
PAYLOADS = [HYPERLINK, "+1+1", "@SUM(1+1)", "=cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"]
AMOUNTS = [-5.5, 2.0, 3.25, -1.0, 4.0, 7.5, -2.5, 1.0, 6.0, -3.0]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPREADSHEET_TYPES = {"text/csv": "csv", "text/markdown": "md", XLSX: "xlsx"}
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def hostile_csv() -> bytes:
    frame = pd.DataFrame({
        "@SUM(1+1)": [PAYLOADS[i % len(PAYLOADS)] for i in range(len(AMOUNTS))],  # groups
        HYPERLINK: AMOUNTS,  # a numeric column with a formula for a name
        "=cmd|' /C calc'!A0": [PAYLOADS[(i + 2) % len(PAYLOADS)] for i in range(len(AMOUNTS))],
    })
    return frame.to_csv(index=False).encode()


def export_operations(spec: dict) -> list[tuple[str, list[str]]]:
    """(path, formats) of every GET whose 200 answer can be a spreadsheet-like table."""
    found = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        content = (get.get("responses", {}).get("200", {}).get("content") or {})
        formats = sorted(SPREADSHEET_TYPES[t] for t in content if t in SPREADSHEET_TYPES)
        if formats:
            found.append((path, formats))
    return found


def urls_for(path: str, formats: list[str], dataset: dict, sheet: str, names: dict) -> list:
    """Concrete URLs of one export operation; a path parameter this test does not know fails,
    so a new export is taught here rather than skipped."""
    if "{kind}" in path:  # the analyses: the two whose tables carry names and group values
        queries = {"describe": {"sheet": sheet},
                   "groups": {"sheet": sheet, "value": names["amount"], "by": names["group"]}}
        return [(path.replace("{kind}", kind).replace("{dataset_id}", dataset["id"]),
                 {**query, "format": fmt}, fmt)
                for kind, query in queries.items() for fmt in formats]
    urls = []
    for fmt in formats:
        url = (path.replace("{dataset_id}", dataset["id"])
               .replace("{sheet}", quote(sheet, safe="")).replace("{fmt}", fmt))
        urls.append((url, {}, fmt))
    leftover = [u for u, _, _ in urls if "{" in u]
    assert not leftover, f"teach this test the parameters of {path}"
    return urls


def cells(body: bytes, fmt: str) -> list:
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(body))
        found = []
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"a formula cell: {cell.value!r}"
                    found.append(cell.value)
        return found
    text = body.decode("utf-8")
    if fmt == "md":
        rows = [[c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
                for line in text.splitlines() if line.startswith("|")]
        return [c for row in rows if set(row) != {"---"} for c in row]  # not the rule line
    return [c for row in csv.reader(io.StringIO(text)) if row and not row[0].startswith("# ")
            for c in row]


def live_formulas(values: list) -> list[str]:
    return [v for v in values if isinstance(v, str) and v.startswith(FORMULA_STARTS)
            and not PLAIN_NUMBER.fullmatch(v)]


def test_every_export_in_the_openapi_document_neutralises_formulas(client):
    upload = UploadActions(client).upload_bytes(hostile_csv(), "hostile.csv")
    assert upload.status_code == 201, upload.get_data(as_text=True)
    dataset = upload.get_json()
    sheet = dataset["sheets"][0]["name"]
    columns = [c["name"] for c in dataset["sheets"][0]["columns"]]
    names = {"group": columns[0], "amount": columns[1]}
    assert names["amount"] == HYPERLINK  # the payloads survived the upload, as uploaded

    operations = export_operations(client.get("/api/v1/openapi.json").get_json())
    paths = {path for path, _ in operations}
    assert "/api/v1/datasets/{dataset_id}/sheets/{sheet}/export/{fmt}" in paths
    assert "/api/v1/datasets/{dataset_id}/analyses/{kind}" in paths
    checked = []
    for path, formats in operations:
        for url, query, fmt in urls_for(path, formats, dataset, sheet, names):
            response = client.get(url, query_string=query)
            assert response.status_code == 200, (url, query, response.get_data(as_text=True))
            values = cells(response.data, fmt)
            assert values, (url, query)
            assert live_formulas(values) == [], (url, query)
            assert "'" + HYPERLINK in [str(v) for v in values], (url, query)  # shown, inert
            checked.append((url, query.get("format", fmt), values))
    assert {fmt for _, fmt, _ in checked} == {"csv", "md", "xlsx"}

    # Numbers stay numbers: the sheet's negative amounts, and describe's minimum.
    sheet_csv = next(v for u, f, v in checked if "/export/" in u and f == "csv")
    assert [float(v) for v in sheet_csv[4::3]] == AMOUNTS
    sheet_xlsx = next(v for u, f, v in checked if "/export/" in u and f == "xlsx")
    assert sheet_xlsx[4::3][:len(AMOUNTS)] == AMOUNTS  # numeric cells, not text (a provenance
    # sheet follows the data sheet)
    describe_csv = next(v for u, f, v in checked if "describe" in u and f == "csv")
    assert str(min(AMOUNTS)) in describe_csv


@pytest.mark.parametrize(("text", "safe"), [
    ("=1+2", "'=1+2"), ("+1+1", "'+1+1"), ("@SUM(1+1)", "'@SUM(1+1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("-cmd", "'-cmd"), ("-1.5", "-1.5"), ("+3", "+3"), ("-2e-3", "-2e-3"),
    ("-1+1", "'-1+1"), ("plain", "plain"), (-4.0, -4.0),
])
def test_only_text_that_could_be_a_formula_is_neutralised(text, safe):
    assert neutralise_text(text) == safe
