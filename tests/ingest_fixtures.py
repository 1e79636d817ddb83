"""Crafted files for the ingestion tests: good ones, hostile ones, and a tiny CFB writer.

Everything is built in memory from the standard library, openpyxl or xlsxwriter, so each test
says exactly what is inside the file it feeds the parser.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import openpyxl

DATA = Path(__file__).parent / "data"


def xlsx_bytes(rows: list[list] | None = None, title: str | None = None, build=None) -> bytes:
    """An openpyxl workbook: `rows` appended to the active sheet, or `build(book)` run on it."""
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.title = title
    for row in rows or []:
        sheet.append(row)
    if build:
        build(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_member(content: bytes, member: str, change) -> bytes:
    """The same zip with `member`'s bytes replaced by `change(old_bytes)`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == member:
                data = change(data)
            dst.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED,
                         compresslevel=9)
    return out.getvalue()


def zip_bomb(megabytes: int = 200) -> bytes:
    """A valid-looking xlsx whose sheet XML inflates to `megabytes` of spaces."""
    base = xlsx_bytes([[1, 2, 3]])
    return replace_member(base, "xl/worksheets/sheet1.xml",
                          lambda data: data + b" " * (megabytes * 1024 * 1024))


def dimension_tag_bomb() -> bytes:
    """Three real cells, but a `<dimension>` claiming the whole A1:XFD1048576 grid."""
    def change(data: bytes) -> bytes:
        text = data.decode()
        start = text.index("<dimension")
        end = text.index("/>", start) + 2
        return (text[:start] + '<dimension ref="A1:XFD1048576"/>' + text[end:]).encode()

    return replace_member(xlsx_bytes([[1, 2, 3]]), "xl/worksheets/sheet1.xml", change)


def far_cell_bomb(ref: str = "XFD1048576") -> bytes:
    """Two real cells, A1 and `ref`: a dense reader would allocate everything in between."""
    def build(book):
        book.active["A1"] = 1
        book.active[ref] = 2

    return xlsx_bytes(build=build)


def ods_bytes(content_rows: str, name: str = "Sheet1") -> bytes:
    """A minimal OpenDocument spreadsheet whose table holds `content_rows` (table:table-row XML)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{name}">{content_rows}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def ods_cell(value) -> str:
    if isinstance(value, (int, float)):
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return (f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>'
            "</table:table-cell>")


def ods_table(rows: list[list]) -> bytes:
    xml = "".join("<table:table-row>" + "".join(ods_cell(v) for v in row) + "</table:table-row>"
                  for row in rows)
    return ods_bytes(xml)


# -- a minimal Compound File Binary (OLE2) writer ---------------------------------------------
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def cfb_bytes(streams: dict[str, bytes]) -> bytes:
    """A version-3 CFB file (512-byte sectors) holding `streams` at the root.

    Layout: sector 0 is the FAT, sector 1 the directory (up to 3 streams), then one chain of
    sectors per stream. Enough for readers that list the directory, as Office's own do first.
    """
    names = list(streams)
    assert len(names) <= 3
    data_sectors: list[bytes] = []
    starts = []
    fat = [_FATSECT, _END]
    for name in names:
        payload = streams[name] or b"\0"
        chunks = [payload[i : i + 512].ljust(512, b"\0") for i in range(0, len(payload), 512)]
        first = 2 + len(data_sectors)
        starts.append(first)
        for k in range(len(chunks)):
            fat.append(first + k + 1 if k + 1 < len(chunks) else _END)
        data_sectors += chunks
    fat += [_FREE] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    struct.pack_into("<109I", header, 76, 0, *([_FREE] * 108))
    directory = _dir_entry("Root Entry", 5, child=1 if names else _NOSTREAM)
    for i, name in enumerate(names):
        sibling = i + 2 if i + 1 < len(names) else _NOSTREAM
        directory += _dir_entry(name, 2, right=sibling, start=starts[i],
                                size=len(streams[name]))
    directory = directory.ljust(512, b"\0")
    return bytes(header) + struct.pack("<128I", *fat) + directory + b"".join(data_sectors)


def _dir_entry(name: str, kind: int, *, right: int = _NOSTREAM, child: int = _NOSTREAM,
               start: int = _END, size: int = 0) -> bytes:
    entry = bytearray(128)
    raw = name.encode("utf-16-le")
    entry[0 : len(raw)] = raw
    struct.pack_into("<HBB", entry, 64, len(raw) + 2, kind, 1)
    struct.pack_into("<III", entry, 68, _NOSTREAM, right, child)
    struct.pack_into("<IQ", entry, 116, start, size)
    return bytes(entry)


def encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE file with the encrypted zip."""
    return cfb_bytes({
        "EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"<encryption/>" * 20,
        "EncryptedPackage": b"\x00" * 1500,
    })


def word_document() -> bytes:
    """A .doc file's shape: an OLE file with a WordDocument stream and no Workbook."""
    return cfb_bytes({"WordDocument": b"\xec\xa5" + b"\0" * 1000, "1Table": b"\0" * 600})
