"""Decide what an uploaded file is from its bytes, never from its name.

A PDF renamed `.xlsx` must be refused as a PDF, and a CSV saved as `.xls` read as a CSV; the
extension is only used in messages. Returns one of "xlsx" (also XLSM), "xls", "ods", "csv".
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

from errors import BadInput, UnsupportedFile

ACCEPTED = "Quartile reads XLSX, XLSM, XLS, ODS, CSV and TSV files."
PASSWORD = "This workbook is password-protected; save an unprotected copy and upload that."
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEAD_BYTES = 8192
# A CSV never opens with "{", nor with "[" before an object, array, string or number.
_JSON_START = re.compile(rb'^(\{|\[\s*[\[{"\d\]-])')

# (magic prefix, what it looks like); checked in order on the first bytes.
_MAGICS = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"{\\rtf", "an RTF document"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
]


def detect_format(path: str | Path, filename: str = "") -> str:
    """The spreadsheet format of the file at `path`, or a 4xx error saying what it is instead."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    shown = repr(filename) if filename else "The file"
    if not head:
        raise BadInput("The file is empty.", code="empty_file")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_format(path, shown)
    if head.startswith(OLE_MAGIC):
        return _ole_format(path, shown)
    for magic, what in _MAGICS:
        if head.startswith(magic):
            raise _unsupported(shown, what)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text with a byte-order mark: Excel's "Unicode text" export
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text_head.startswith((b"<!doctype html", b"<html")) or b"<table" in text_head[:2048]:
        raise UnsupportedFile(
            f"{shown} is an HTML page, not a spreadsheet (some sites save web tables with an "
            f"Excel name). Open it in a spreadsheet program and save it as XLSX. {ACCEPTED}",
            code="unsupported_format",
        )
    if text_head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise UnsupportedFile(
            f"{shown} is an Excel 2003 XML spreadsheet, which Quartile does not read. "
            f"Save it as XLSX. {ACCEPTED}",
            code="unsupported_format",
        )
    if b"\x00" in head:
        raise _unsupported(shown, "binary data")
    if _JSON_START.match(text_head):
        raise _unsupported(shown, "a JSON document")
    return "csv"


def _unsupported(shown: str, what: str) -> UnsupportedFile:
    return UnsupportedFile(
        f"{shown} is not a spreadsheet: it looks like {what}. {ACCEPTED}",
        code="unsupported_format",
    )


def _zip_format(path: Path, shown: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:200].strip() if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError) as exc:
        raise BadInput(
            f"{shown} looks like a ZIP-based workbook but is damaged or incomplete "
            f"({exc}). Open it in a spreadsheet program, save it again and upload the new copy.",
            code="corrupt_file",
        ) from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if mimetype == ODS_MIMETYPE or "content.xml" in names and mimetype.startswith(ODS_MIMETYPE):
        return "ods"
    if "xl/workbook.bin" in names:
        what = "a binary Excel workbook (XLSB); save it as XLSX"
    elif "word/document.xml" in names:
        what = "a Word document"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint presentation"
    elif mimetype.startswith(b"application/vnd.oasis.opendocument"):
        what = "an OpenDocument file that is not a spreadsheet"
    else:
        what = "a ZIP archive"
    raise _unsupported(shown, what)


def _ole_format(path: Path, shown: str) -> str:
    try:
        streams = ole_stream_names(path)
    except ValueError as exc:
        raise BadInput(
            f"{shown} looks like an Excel 97-2003 file but is damaged ({exc}). Open it in a "
            "spreadsheet program, save it again and upload the new copy.",
            code="corrupt_file",
        ) from None
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        raise UnsupportedFile(PASSWORD, code="password_protected")
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "WordDocument" in streams:
        raise _unsupported(shown, "a Word document (.doc)")
    if "PowerPoint Document" in streams:
        raise _unsupported(shown, "a PowerPoint presentation (.ppt)")
    raise _unsupported(shown, "an Office file that holds no workbook")


# -- OLE2 / Compound File Binary: just enough to list the stream names ----------------------
_FREE, _END, _FATSECT, _DIFSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC


def ole_stream_names(path: str | Path) -> set[str]:
    """Names of the entries in a CFB file's directory ("Workbook", "EncryptedPackage", ...).

    Raises ValueError for a malformed file. Bounded: every chain walk stops after as many steps
    as the file has sectors, so a looping FAT cannot hang the parser.
    """
    with Path(path).open("rb") as handle:
        header = handle.read(512)
        if len(header) < 512 or not header.startswith(OLE_MAGIC):
            raise ValueError("the header is incomplete")
        shift = struct.unpack_from("<H", header, 30)[0]
        if shift not in (9, 12):
            raise ValueError("the sector size is invalid")
        size = 1 << shift
        handle.seek(0, 2)
        n_sectors = max(0, handle.tell() // size - 1)
        first_dir = struct.unpack_from("<I", header, 48)[0]
        difat_first, difat_count = struct.unpack_from("<II", header, 68)
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 76) if s < n_sectors]
        sector = difat_first
        for _ in range(min(difat_count, n_sectors)):
            if sector >= n_sectors:
                break
            entries = struct.unpack(f"<{size // 4}I", _sector(handle, sector, size))
            fat_sectors += [s for s in entries[:-1] if s < n_sectors]
            sector = entries[-1]
        fat: list[int] = []
        for s in fat_sectors[: n_sectors + 1]:
            fat.extend(struct.unpack(f"<{size // 4}I", _sector(handle, s, size)))
        names: set[str] = set()
        sector, steps = first_dir, 0
        while sector < n_sectors and steps <= n_sectors:
            block = _sector(handle, sector, size)
            for offset in range(0, size, 128):
                length = struct.unpack_from("<H", block, offset + 64)[0]
                kind = block[offset + 66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    raw = block[offset : offset + length - 2]
                    names.add(raw.decode("utf-16-le", errors="replace"))
            sector = fat[sector] if sector < len(fat) else _END
            steps += 1
        if not names:
            raise ValueError("its directory is empty")
        return names


def _sector(handle, number: int, size: int) -> bytes:
    handle.seek((number + 1) * size)
    block = handle.read(size)
    if len(block) < size:
        raise ValueError("a sector is cut short")
    return block
