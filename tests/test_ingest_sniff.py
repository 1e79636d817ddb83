"""Formats are recognised from the bytes; the extension never decides."""

import shutil

import pytest

from errors import BadInput, UnsupportedFile
from tests.ingest_fixtures import DATA, encrypted_workbook, ods_table, word_document, xlsx_bytes
from upload.sniff import ACCEPTED, PASSWORD, detect_format, ole_stream_names


@pytest.mark.parametrize(("name", "fmt"), [
    ("2020Q1.xlsx", "xlsx"), ("2011Q2.xlsx", "xlsx"), ("bis_pp_long.xlsx", "xlsx"),
    ("UK_house_price_since_1952.xls", "xls"), ("Live_Table_122.ods", "ods"),
    ("HousingPreferences.csv", "csv"), ("ine_25171.csv", "csv"), ("CSUSHPINSA.csv", "csv"),
])
def test_real_files(name, fmt):
    assert detect_format(DATA / name, name) == fmt


def test_a_workbook_named_csv_is_a_workbook_and_text_named_xls_is_csv(tmp_path):
    shutil.copy(DATA / "2020Q1.xlsx", tmp_path / "data.csv")
    shutil.copy(DATA / "HousingPreferences.csv", tmp_path / "prices.xls")
    assert detect_format(tmp_path / "data.csv", "data.csv") == "xlsx"
    assert detect_format(tmp_path / "prices.xls", "prices.xls") == "csv"


def test_crafted_ods_and_utf16_text(tmp_path):
    (tmp_path / "a.ods").write_bytes(ods_table([["a", "b"], [1, 2]]))
    (tmp_path / "u.txt").write_bytes("a\tb\n1\t2\n".encode("utf-16"))
    assert detect_format(tmp_path / "a.ods", "a.ods") == "ods"
    assert detect_format(tmp_path / "u.txt", "u.txt") == "csv"


REFUSED = [
    ("report.xlsx", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "a PDF document"),
    ("chart.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "a PNG image"),
    ("photo.xls", b"\xff\xd8\xff\xe0" + b"\0" * 64, "a JPEG image"),
    ("anim.csv", b"GIF89a" + b"\0" * 64, "a GIF image"),
    ("junk.csv", bytes(range(256)) * 8, "binary data"),
    ("letter.xlsx", word_document(), "a Word document (.doc)"),
    ("api.csv", b'[{"price": 1, "area": 2},\n {"price": 3, "area": 4}]\n', "a JSON document"),
    ("config.csv", b'\xef\xbb\xbf  {"a": 1}', "a JSON document"),
]


@pytest.mark.parametrize(("filename", "content", "what"), REFUSED, ids=[r[0] for r in REFUSED])
def test_other_files_are_refused_naming_what_they_look_like(tmp_path, filename, content, what):
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(UnsupportedFile) as caught:
        detect_format(path, filename)
    assert caught.value.status == 415
    assert caught.value.message == (
        f"{filename!r} is not a spreadsheet: it looks like {what}. {ACCEPTED}")


def test_docx_renamed_xlsx_is_a_word_document(tmp_path):
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    (tmp_path / "f").write_bytes(out.getvalue())
    with pytest.raises(UnsupportedFile, match="a Word document"):
        detect_format(tmp_path / "f", "notes.xlsx")


def test_html_saved_as_xls_is_explained(tmp_path):
    (tmp_path / "f").write_bytes(b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr>")
    with pytest.raises(UnsupportedFile, match="is an HTML page, not a spreadsheet"):
        detect_format(tmp_path / "f", "export.xls")


def test_empty_file(tmp_path):
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(BadInput) as caught:
        detect_format(tmp_path / "f", "empty.xlsx")
    assert caught.value.message == "The file is empty." and caught.value.status == 400


def test_corrupt_zip(tmp_path):
    good = xlsx_bytes([[1, 2]])
    (tmp_path / "f").write_bytes(good[: len(good) // 2])
    with pytest.raises(BadInput) as caught:
        detect_format(tmp_path / "f", "broken.xlsx")
    assert caught.value.code == "corrupt_file"
    assert caught.value.message.startswith("'broken.xlsx' looks like a ZIP-based workbook but "
                                           "is damaged or incomplete")


def test_password_protected_workbook(tmp_path):
    (tmp_path / "f").write_bytes(encrypted_workbook())
    assert ole_stream_names(tmp_path / "f") == {"Root Entry", "EncryptionInfo",
                                                "EncryptedPackage"}
    with pytest.raises(UnsupportedFile) as caught:
        detect_format(tmp_path / "f", "secret.xlsx")
    assert caught.value.message == PASSWORD
    assert caught.value.message == ("This workbook is password-protected; save an unprotected "
                                    "copy and upload that.")
    assert caught.value.status == 415


def test_the_real_xls_directory_is_read(tmp_path):
    names = ole_stream_names(DATA / "UK_house_price_since_1952.xls")
    assert "Workbook" in names


def test_a_truncated_ole_file_is_damaged_not_a_crash(tmp_path):
    (tmp_path / "f").write_bytes(encrypted_workbook()[:700])
    with pytest.raises(BadInput, match="damaged"):
        detect_format(tmp_path / "f", "cut.xls")
