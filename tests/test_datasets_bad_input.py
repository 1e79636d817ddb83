"""Bad uploads: a clear 4xx with a message a person understands, and nothing earlier harmed."""

import io
import zipfile

import openpyxl
import pytest

from store.objects import objects_for
from tests.storage_fixtures import stored_keys
from tests.upload_actions import DATA, UploadActions


def xlsx_bytes(build) -> bytes:
    book = openpyxl.Workbook()
    build(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A valid-looking xlsx whose sheet XML inflates to ~300 MB of zeros."""
    out = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(xlsx_bytes(lambda b: None)))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in base.infolist():
            data = base.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data + b" " * (300 * 1024 * 1024)
            bomb.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def dimension_bomb() -> bytes:
    raw = io.BytesIO(xlsx_bytes(lambda b: b.active.append([1, 2, 3])))
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index("<dimension")
                end = text.index("/>", start) + 2
                data = (text[:start] + '<dimension ref="A1:XFD1048576"/>' + text[end:]).encode()
            dst.writestr(item, data)
    return out.getvalue()


def corrupt_zip() -> bytes:
    good = xlsx_bytes(lambda b: b.active.append([1]))
    return good[: len(good) // 2]


def empty_sheet() -> bytes:
    return xlsx_bytes(lambda b: None)


BAD_FILES = [
    (
        "pdf renamed",
        b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        "report.xlsx",
        (415,),
        "PDF",
    ),
    ("png renamed", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "chart.xlsx", (415,), "PNG"),
    ("empty file", b"", "empty.xlsx", (400,), "empty"),
    ("corrupt zip", None, "broken.xlsx", (400, 415, 422), ""),
    ("zip bomb", None, "bomb.xlsx", (413, 422), "zip bomb"),
    ("sheet with no data", None, "blank.xlsx", (422,), "no data"),
    ("binary junk", bytes(range(256)) * 64, "junk.csv", (415,), ""),
    ("prose", b"# Notes\n\nPrices rose in every quarter of the year.\nSee the annex.\n" * 5,
     "notes.csv", (415,), "is not a table"),
    ("python code", b"import os\n\n\ndef main():\n    print(os.getcwd())\n" * 5,
     "script.csv", (415,), "is not a table"),
    ("json", b'{\n  "price": 1,\n  "area": 2,\n  "rooms": 3\n}\n', "data.csv", (415,),
     "JSON document"),
]


def _content(name):
    return {
        "corrupt zip": corrupt_zip,
        "zip bomb": zip_bomb,
        "sheet with no data": empty_sheet,
    }[name]()


@pytest.fixture
def uploads(client):
    return UploadActions(client)


@pytest.mark.parametrize(
    ("case", "content", "filename", "statuses", "phrase"), BAD_FILES, ids=[c[0] for c in BAD_FILES]
)
def test_bad_upload_is_a_clear_4xx_and_harms_nothing(
    uploads, client, app, case, content, filename, statuses, phrase
):
    before = uploads.dataset("HousingPreferences.csv")
    response = uploads.upload_bytes(content if content is not None else _content(case), filename)
    assert response.status_code in statuses, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["status"] == response.status_code
    assert phrase.lower() in error["message"].lower()
    assert len(error["message"]) > 15
    # nothing earlier harmed, nothing of the bad file kept
    listing = client.get("/api/v1/datasets").get_json()
    assert [d["id"] for d in listing["datasets"]] == [before["id"]]
    assert uploads.rows(before["id"], before["sheets"][0]["name"]).status_code == 200
    assert len(stored_keys(app, "blobs/")) == 1


def test_dimension_bomb_is_read_by_its_real_cells(uploads):
    response = uploads.upload_bytes(dimension_bomb(), "dimension.xlsx")
    if response.status_code == 201:
        sheet = response.get_json()["sheets"][0]
        assert sheet["n_cols"] <= 3 and sheet["n_rows"] <= 1
    else:
        assert response.status_code in (413, 422)
        assert "dimension" in response.get_json()["error"]["message"].lower()


def test_over_the_size_limit_is_413_naming_the_limit(make_app):
    # (kept under the test client's 500 KB spooling threshold, which would leak a temp file)
    app = make_app(MAX_CONTENT_LENGTH=256 * 1024)
    response = UploadActions(app.test_client()).upload_bytes(b"a,b\n" * 100_000, "big.csv")
    assert response.status_code == 413
    assert "256 KB limit" in response.get_json()["error"]["message"]


def test_ten_thousand_columns(uploads):
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    response = uploads.upload_bytes(f"{header}\n{row}\n".encode(), "wide.csv")
    assert response.status_code in (201, 422)
    if response.status_code == 422:
        assert "columns" in response.get_json()["error"]["message"]


HOSTILE = ["<script>alert(1)</script>", "../../etc/passwd", "\\input{/etc/passwd}", "x" * 500]


def test_hostile_sheet_and_column_names_are_just_text(uploads, client, app):
    def build(book):
        sheet = book.active
        sheet.title = "<script>alert(1)"
        sheet.append(HOSTILE)
        sheet.append([1, 2, 3, 4])
        sheet.append([5, 6, 7, 8])

    response = uploads.upload_bytes(xlsx_bytes(build), "../../evil<script>.xlsx")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert "/" not in body["name"]
    names = [c["name"] for c in body["sheets"][0]["columns"]]
    assert names[:3] == HOSTILE[:3]
    assert len(names[3]) <= 255
    page = client.get(f"/datasets/{body['id']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not any("passwd" in key or "<" in key for key in stored_keys(app, "sheets/"))


def test_mixed_encoding_csv_does_not_crash(uploads):
    content = "Name,Value\nZürich,1\n".encode() + "Málaga,2\n".encode("cp1252")
    response = uploads.upload_bytes(content, "mixed.csv")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["sheets"][0]["n_rows"] == 2
    assert any(
        "encoding" in e["step"].lower() or "encod" in e["detail"].lower()
        for e in body["cleaning_log"]
    )


def test_same_file_upload_does_not_reparse(uploads, app):
    uploads.dataset("2020Q1.xlsx")
    parses = [(i.key, i.modified) for i in objects_for(app.config["FILES_DIR"]).keys("sheets/")]
    uploads.upload((DATA / "2020Q1.xlsx").name)
    assert [(i.key, i.modified) for i in objects_for(app.config["FILES_DIR"]).keys("sheets/")
            ] == parses
