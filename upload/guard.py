"""Checks made before a parser allocates anything, so a hostile file costs milliseconds.

What each check stops (all tested with crafted files in tests/test_ingest_bad_inputs.py):
- zip bombs: members whose declared size is huge, or that inflate more than 100:1 (a real
  worksheet compresses 4–20:1), or too many members;
- dimension bombs: calamine ignores the `<dimension ref="A1:XFD1048576"/>` hint, but it allocates
  one dense rectangle spanning the cells that really exist, at 32 bytes a cell — a sheet with one
  cell in A1 and one in XFD1048576 asks for 512 GB and aborts the process. So the sheet XML is
  scanned for the furthest cell reference before calamine sees it;
- sheets too large or too wide to be useful (`check_extent`, `check_columns`).
The worker's memory and CPU limits (sandbox.py) remain the last line for anything missed here,
e.g. an archive whose declared sizes lie.
"""

from __future__ import annotations

import functools
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from errors import BadInput, TooLarge, Unprocessable
from upload.cleaning_log import column_letter

MB = 1024 * 1024


@dataclass(frozen=True)
class GuardLimits:
    max_unpacked_bytes: int = 500 * MB
    max_members: int = 10_000
    max_ratio: float = 100.0
    ratio_floor_bytes: int = MB  # the ratio is only judged on members larger than this
    max_sheet_cells: int = 50_000_000  # rows × columns of the rectangle a reader allocates
    max_columns: int = 2_000  # per sheet after cleaning


DEFAULT_LIMITS = GuardLimits()
_CHUNK = 4 * MB
_OVERLAP = 32


def check_archive(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS) -> None:
    """Refuse zip bombs from the sizes the archive declares, before inflating anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInput(f"The workbook is damaged ({exc}).", code="corrupt_file") from None
    if len(members) > limits.max_members:
        raise TooLarge(
            f"The workbook has {len(members):,} parts; Quartile opens at most "
            f"{limits.max_members:,}. This looks like a zip bomb, not a spreadsheet.",
            code="zip_bomb",
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes:
        raise TooLarge(
            f"The workbook would unpack to {total / MB:,.0f} MB; the limit is "
            f"{limits.max_unpacked_bytes / MB:,.0f} MB. If it is genuine, save the data as CSV.",
            code="zip_bomb",
        )
    for member in members:
        if member.file_size > limits.ratio_floor_bytes:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_ratio:
                raise TooLarge(
                    f"The workbook looks like a zip bomb: its part {member.filename!r} would "
                    f"expand {ratio:,.0f} times, to {member.file_size / MB:,.0f} MB "
                    f"(real spreadsheets expand less than {limits.max_ratio:g} times).",
                    code="zip_bomb",
                )


def check_xlsx_extent(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS) -> None:
    """Refuse a worksheet whose cells span a rectangle larger than `max_sheet_cells`."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            part = info.filename
            if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
                continue
            try:
                max_row, max_col = _cell_extent(archive, info, limits.max_sheet_cells)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                sheet = _sheet_names_by_part(archive).get(part, part)
                raise BadInput(f"The workbook is damaged: sheet {sheet!r} cannot be unpacked "
                               f"({exc}).", code="corrupt_file") from None
            cells = (max_row + 1) * (max_col + 1)
            if cells > limits.max_sheet_cells:
                sheet = _sheet_names_by_part(archive).get(part, part)
                span = f"A1:{column_letter(max_col)}{max_row + 1}"
                raise TooLarge(
                    f"Sheet {sheet!r} has cells spread over {span}, a rectangle of {cells:,} "
                    f"cells (most of them empty); Quartile reads sheets of up to "
                    f"{limits.max_sheet_cells:,} cells. This looks like a dimension bomb; if the "
                    "data are genuine, delete the stray cells far from the table.",
                    code="dimension_bomb",
                )


def check_extent(sheet: str, rows: int, cols: int, limits: GuardLimits = DEFAULT_LIMITS) -> None:
    """A sheet or CSV of `rows` × `cols` cells that the reader is about to materialise."""
    if rows * cols > limits.max_sheet_cells:
        raise TooLarge(
            f"Sheet {sheet!r} has {rows:,} rows × {cols:,} columns = {rows * cols:,} cells; "
            f"Quartile reads sheets of up to {limits.max_sheet_cells:,} cells.",
            code="too_many_cells",
        )


def check_columns(sheet: str, n_cols: int, limits: GuardLimits = DEFAULT_LIMITS) -> None:
    """Wider sheets are refused: no analysis or preview is useful over thousands of columns."""
    if n_cols > limits.max_columns:
        raise Unprocessable(
            f"Sheet {sheet!r} has {n_cols:,} columns after cleaning; Quartile reads at most "
            f"{limits.max_columns:,} columns per sheet. If the data run across the sheet, "
            "transpose them so that each series is a column.",
            code="too_many_columns",
        )


# Cell references `r="AB12"` (any attribute order, any namespace prefix) and row numbers
# `<row r="12">`. The patterns start with a literal for speed; an attribute that merely ends in
# "r" can only make the estimate larger, which is the safe direction.
_REF = re.compile(rb'r="([A-Z]{0,3})(\d+)"')
# The highest column index written with 1, 2 or 3 letters: Z, ZZ, ZZZ.
_LAST_COLUMN = {1: 25, 2: 701, 3: 18277}


def _cell_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[int, int]:
    """(max_row, max_col), 0-based, of a sheet part; (-1, -1) when it cannot exceed `limit`.

    Most sheets are cleared by a bound: one regex pass that finds no reference with more
    letters or digits than a rectangle within `limit` allows. Only a sheet that fails every
    bound is measured exactly, from A1 (overestimating is the safe direction).
    """
    chunks = list(_chunks(archive, info)) if info.file_size <= _CHUNK else None

    def blocks():
        return chunks if chunks is not None else _chunks(archive, info)

    for beyond in _bounds(limit):
        if not any(beyond.search(c) for c in blocks()):
            return -1, -1
    max_row = max_col = -1
    for chunk in blocks():
        refs = set(_REF.findall(chunk))
        letters = {col for col, _ in refs if col}
        if letters:
            max_col = max(max_col, _letters_to_index(max(letters, key=lambda c: (len(c), c))))
        if refs:
            max_row = max(max_row, max(int(row) for _, row in refs) - 1)
    return max_row, max_col


@functools.cache
def _bounds(limit: int) -> tuple[re.Pattern, ...]:
    """Patterns that find a reference outside a rectangle of at most `limit` cells: columns
    of up to L letters and rows of up to k digits span at most (last column of L letters + 1)
    × (10**k − 1) cells. ZZ × 9,999 rows first (most tables), then Z × 999,999 (long ones),
    then ZZZ × 999 (wide ones), each with the most digits the limit allows."""
    out = []
    for letters in (2, 1, 3):
        columns = _LAST_COLUMN[letters] + 1
        digits = 0
        while columns * (10 ** (digits + 1) - 1) <= limit:
            digits += 1
        if digits:
            out.append(re.compile(rb'r="(?:[A-Z]{%d}|[A-Z]{0,%d}\d{%d})'
                                  % (letters + 1, letters, digits + 1)))
    return tuple(out)


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    """The inflated part in overlapping blocks, so that no reference is split unseen."""
    tail = b""
    with archive.open(info) as stream:
        while block := stream.read(_CHUNK):
            chunk = tail + block
            tail = chunk[-_OVERLAP:]
            yield chunk


def _letters_to_index(letters: bytes) -> int:
    index = 0
    for byte in letters:
        index = index * 26 + (byte - 64)
    return index - 1


def _sheet_names_by_part(archive: zipfile.ZipFile) -> dict[str, str]:
    """{'xl/worksheets/sheet1.xml': 'HPI', ...} for messages; {} if the workbook is odd."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    try:
        if archive.getinfo("xl/workbook.xml").file_size > 10 * MB:
            return {}
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {}
    for rel in rels.findall("rel:Relationship", ns):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
        targets[rel.get("Id")] = path
    out = {}
    for sheet in book.findall("m:sheets/m:sheet", ns):
        rid = sheet.get(f"{{{ns['r']}}}id")
        if rid in targets:
            out[targets[rid]] = sheet.get("name", "")
    return out
