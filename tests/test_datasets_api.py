"""The datasets API: upload once, read many times, download, delete — and the contract's shapes."""

import io
import re

import openpyxl
import pandas as pd
import pytest

from tests.storage_fixtures import stored, stored_keys
from tests.upload_actions import DATA, UploadActions


@pytest.fixture
def uploads(client):
    return UploadActions(client)


def test_upload_2020q1_answers_201_with_the_contract(uploads):
    response = uploads.upload("2020Q1.xlsx")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"id", "name", "sha256", "sheets", "cleaning_log"}
    assert body["name"] == "2020Q1.xlsx"
    import hashlib

    assert body["sha256"] == hashlib.sha256((DATA / "2020Q1.xlsx").read_bytes()).hexdigest()
    sheets = {s["name"]: s for s in body["sheets"]}
    assert {"HPI", "RHPI", "PDI", "RPDI"} <= set(sheets)
    hpi = sheets["HPI"]
    assert hpi["index"]["kind"] == "period"
    assert hpi["index"]["freq"].startswith("Q")
    assert hpi["index"]["start"].replace(":", "") == "1975Q1"
    columns = {c["name"]: c["dtype"] for c in hpi["columns"]}
    assert "Australia" in columns and columns["Australia"].startswith("float")
    for entry in body["cleaning_log"]:
        assert set(entry) == {"sheet", "step", "detail"}
        assert entry["detail"]


def test_the_same_bytes_again_answer_200_with_the_same_dataset(uploads, app):
    first = uploads.upload("2020Q1.xlsx").get_json()
    again = uploads.upload("2020Q1.xlsx", as_name="copy.xlsx")
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert len(stored_keys(app, "blobs/")) == 1


def test_rows_are_paged_and_equal_the_workbook_cells(uploads):
    dataset = uploads.dataset("2020Q1.xlsx")
    page = uploads.rows(dataset["id"], "HPI", offset=4, limit=3).get_json()
    assert page["total"] == 181
    assert len(page["rows"]) == 3
    assert page["index"][0].replace(":", "") == "1976Q1"
    # independent read of the same cells with openpyxl: row 3 is 1975:Q1, so 1976:Q1 is row 7
    book = openpyxl.load_workbook(DATA / "2020Q1.xlsx", read_only=True, data_only=True)
    sheet = book["HPI"]
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    cells = [c.value for c in next(sheet.iter_rows(min_row=7, max_row=7))]
    book.close()  # a read-only workbook holds its file open until closed (a ResourceWarning)
    assert cells[0] == "1976:Q1"
    expected = dict(zip(header[1:], cells[1:], strict=False))
    got = dict(zip(page["columns"], page["rows"][0], strict=True))
    assert got["Australia"] == pytest.approx(expected["Australia"])
    assert got["Canada"] == pytest.approx(expected["Canada"])


def test_housing_csv_has_numeric_and_text_columns(uploads):
    dataset = uploads.dataset("HousingPreferences.csv")
    (sheet,) = dataset["sheets"]
    assert sheet["n_rows"] == 545
    dtypes = {c["name"]: c["dtype"] for c in sheet["columns"]}
    assert dtypes["Price"].startswith(("int", "float", "Int"))
    assert not dtypes["FurnishingStatus"].startswith(("int", "float"))
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    page = uploads.rows(dataset["id"], sheet["name"], limit=545).get_json()
    prices = [row[page["columns"].index("Price")] for row in page["rows"]]
    assert prices == frame["Price"].tolist()


def test_list_search_and_get(uploads, client):
    a = uploads.dataset("2020Q1.xlsx")
    b = uploads.dataset("HousingPreferences.csv")
    listing = client.get("/api/v1/datasets").get_json()
    assert [d["id"] for d in listing["datasets"]] == [b["id"], a["id"]]  # newest first
    assert listing["total"] == 2
    found = client.get("/api/v1/datasets?q=housing").get_json()
    assert [d["id"] for d in found["datasets"]] == [b["id"]]
    assert client.get(f"/api/v1/datasets/{a['id']}").get_json()["sha256"] == a["sha256"]


def test_downloads(uploads, client):
    dataset = uploads.dataset("2020Q1.xlsx")
    with client.get(f"/api/v1/datasets/{dataset['id']}/original") as original:
        assert original.status_code == 200
        assert original.data == (DATA / "2020Q1.xlsx").read_bytes()
    csv = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/HPI/export/csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    frame = pd.read_csv(io.BytesIO(csv.data))
    assert "Australia" in frame.columns and len(frame) == 181
    xlsx = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/HPI/export/xlsx")
    assert pd.read_excel(io.BytesIO(xlsx.data)).shape[0] == 181
    parquet = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/HPI/export/parquet")
    assert pd.read_parquet(io.BytesIO(parquet.data)).shape[0] == 181


def test_exports_neutralise_formula_cells(uploads, client):
    content = b"Name,Value\n=1+2,1\n+SUM(A1),2\n-cmd,3\n@x,4\nplain,5\n"
    dataset = uploads.upload_bytes(content, "formulas.csv").get_json()
    sheet = dataset["sheets"][0]["name"]
    csv = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/{sheet}/export/csv")
    names = pd.read_csv(io.BytesIO(csv.data))["Name"].tolist()
    assert names == ["'=1+2", "'+SUM(A1)", "'-cmd", "'@x", "plain"]
    xlsx = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/{sheet}/export/xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    values = [c.value for c in book.active["A"]][1:]
    assert values == ["'=1+2", "'+SUM(A1)", "'-cmd", "'@x", "plain"]


def test_delete_removes_the_dataset_and_emptying_the_trash_its_unused_bytes(uploads, client,
                                                                             app):
    dataset = uploads.dataset("HousingPreferences.csv")
    keep = uploads.dataset("2020Q1.xlsx")
    response = client.delete(f"/api/v1/datasets/{dataset['id']}")
    assert response.status_code == 204
    assert client.get(f"/api/v1/datasets/{dataset['id']}").status_code == 404
    blob = stored(app, f"blobs/{dataset['sha256'][:2]}/{dataset['sha256']}")
    assert blob.exists()  # in the trash, restorable
    assert client.post("/api/v1/trash/empty").get_json() == {"purged": 1}
    assert not blob.exists()
    assert uploads.rows(keep["id"], "HPI").status_code == 200  # nothing else harmed


def test_unknown_sheet_is_404_naming_the_sheets(uploads):
    dataset = uploads.dataset("2020Q1.xlsx")
    response = uploads.rows(dataset["id"], "Nope")
    assert response.status_code == 404
    message = response.get_json()["error"]["message"]
    assert "'Nope'" in message and "'HPI'" in message


def test_cli_ingest_uses_the_same_path(runner, client):
    result = runner.invoke(args=["quartile", "ingest", str(DATA / "2011Q2.xlsx")])
    assert result.exit_code == 0, result.output
    dataset_id = result.output.split("\t")[0]
    body = client.get(f"/api/v1/datasets/{dataset_id}").get_json()
    assert "HPI" in [s["name"] for s in body["sheets"]]  # 'HPI ' with its space stripped
    again = runner.invoke(args=["quartile", "ingest", str(DATA / "2011Q2.xlsx")])
    assert "already stored" in again.output


def test_reparse_with_a_forced_header_row(uploads, client):
    content = b"Title line\nA,B\n1,2\n3,4\n"
    dataset = uploads.upload_bytes(content, "titled.csv").get_json()
    sheet = dataset["sheets"][0]
    response = client.post(
        f"/api/v1/datasets/{dataset['id']}/reparse",
        json={"sheets": {sheet["original_name"]: {"header_row": 1}}},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    reparsed = response.get_json()["sheets"][0]
    assert reparsed["columns"][0]["name"] == "Title line"


def test_the_preview_pages_through_the_sheet_and_follows_a_reparse(uploads, client):
    """The preview table is kept per page of a stored parse: each page shows its own rows,
    and a reparse (a new parse) shows the new columns, never a kept table of the old one."""
    dataset = UploadActions(client).dataset("HousingPreferences.csv")
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    for offset in (0, 50, 0, 500):
        page = client.get(f"/datasets/{dataset['id']}?offset={offset}").get_data(as_text=True)
        shown = min(50, len(frame) - offset)
        assert f"Rows {offset + 1} to {offset + shown} of {len(frame)}" in page
        prices = re.findall(r'<td class="num">([\d,]+)</td>', page)[::6]  # Price, Area...
        assert prices[0] == f"{frame['Price'].iloc[offset]:,}"

    titled = uploads.upload_bytes(b"Title line\nA,B\n1,2\n3,4\n", "titled.csv").get_json()
    before = client.get(f"/datasets/{titled['id']}").get_data(as_text=True)
    assert '<th scope="col" class="num">A</th>' in before
    client.post(f"/api/v1/datasets/{titled['id']}/reparse",
                json={"sheets": {titled["sheets"][0]["original_name"]: {"header_row": 1}}})
    after = client.get(f"/datasets/{titled['id']}").get_data(as_text=True)
    assert '>Title line</th>' in after and '<th scope="col" class="num">A</th>' not in after


def test_preview_cells_are_formatted_as_the_page_always_showed_them():
    from web.datasets import preview_cells

    rows = [[1.0 / 3, 12, None, "2020-01-31T00:00:00", "2020-01-31T06:30:00", True, "yes"]]
    assert preview_cells(rows) == [[
        (True, "0.333333"), (True, "12"), (False, None), (False, "2020-01-31"),
        (False, "2020-01-31T06:30:00"), (True, "True"), (False, "yes")]]


def test_preview_groups_thousands_in_columns_of_large_numbers_and_words_the_types(client):
    """Issue 17: "13300000" read as a code; "int64" and "str" are pandas' words."""
    from web.datasets import preview_cells

    # a column reaching 10,000 groups every value; years and small counts stay as typed
    rows = [[13_300_000, 7420, 2020, 16200.0, 2.5], [1_750_000, 16_200, 1999, 3.0, 0.25]]
    assert [[text for _, text in row] for row in preview_cells(rows)] == [
        [f"{13_300_000:,}", "7,420", "2020", "16,200", "2.5"],
        [f"{1_750_000:,}", "16,200", "1999", "3", "0.25"]]
    dataset = UploadActions(client).dataset("HousingPreferences.csv")
    page = client.get(f"/datasets/{dataset['id']}").get_data(as_text=True)
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    assert f'class="num">{frame["Price"].iloc[0]:,}</td>' in page
    assert '<th scope="col" class="num">Price</th>' in page  # headers over their numbers
    assert '<th scope="col">Mainroad</th>' in page
    kinds = re.findall(r'title="([^"]+)" data-kind>([^<]+)<', page)
    assert ("int64", "integer") in kinds
    assert {kind for dtype, kind in kinds if dtype in ("str", "object")} == {"text"}
    assert not any(word in {k for _, k in kinds} for word in ("int64", "float64", "str"))
