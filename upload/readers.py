"""Raw cells out of files: workbooks through calamine, CSV/TSV through our sniffing and pyarrow.

Workbooks (XLSX/XLSM, XLS, ODS) come back sheet by sheet as raw rows (header=None, values only:
calamine never runs macros or formulas; cached formula results are read). CSV text is decoded
(UTF-8, UTF-8 with BOM, UTF-16 with BOM, else Windows-1252 — a file mixing UTF-8 and
Windows-1252 lines is read line by line and the decision logged), its delimiter sniffed among
, ; tab and |, and decimal commas noticed. The cleaner finds the header in a sample of the first
records; pyarrow then reads the body from that record on with types inferred, so a million rows
parse in well under a second.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum

from errors import BadInput, QuartileError, TooLarge, UnsupportedFile
from upload.cleaning_log import CleaningLog, plural, quote_list
from upload.guard import DEFAULT_LIMITS, GuardLimits, check_extent
from upload.sniff import PASSWORD

DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
SAMPLE_RECORDS = 100
SAMPLE_BYTES = 256 * 1024
NULL_VALUES = ["", "NA", "N/A", "#N/A", "NaN", "nan", "null", "NULL", ".."]
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
_DECIMAL_COMMA = re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_DECIMAL_POINT = re.compile(r"^-?\d+\.\d+$")


# -- workbooks ------------------------------------------------------------------------------
@dataclass
class RawSheet:
    name: str
    rows: list[list]
    merges: list


def read_workbook(
    path: str | Path, fmt: str, log: CleaningLog, limits: GuardLimits = DEFAULT_LIMITS
) -> Iterator[RawSheet]:
    """Each worksheet in order (chart and macro sheets are skipped and logged).

    `fmt` is the sniffed format. calamine picks its reader by file extension and otherwise
    tries each in turn, which hides the real error (a cell-limit refusal becomes "cannot
    detect file format"), so it is given a link named with the right extension.
    """
    with tempfile.TemporaryDirectory(prefix="quartile-book-") as folder:
        link = Path(folder) / f"book.{fmt}"
        link.symlink_to(Path(path).resolve())
        yield from _read_sheets(link, log, limits)


def _read_sheets(path: Path, log: CleaningLog, limits: GuardLimits) -> Iterator[RawSheet]:
    try:
        book = CalamineWorkbook.from_path(str(path))
        metadata = book.sheets_metadata
    except PasswordError:
        raise UnsupportedFile(PASSWORD, code="password_protected") from None
    except (CalamineError, ValueError, OSError) as exc:
        raise _unreadable(exc, None, limits) from None
    for meta in metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            log.add(meta.name, "skipped", "This is a chart or macro sheet, not a table; skipped.")
            continue
        try:
            sheet = book.get_sheet_by_name(meta.name)
            check_extent(meta.name, sheet.height, sheet.width, limits)
            rows = sheet.to_python(skip_empty_area=False)
            merges = sheet.merged_cell_ranges or []
        except PasswordError:
            raise UnsupportedFile(PASSWORD, code="password_protected") from None
        except (CalamineError, ValueError) as exc:
            raise _unreadable(exc, meta.name, limits) from None
        yield RawSheet(meta.name, rows, merges)


def _unreadable(exc: Exception, sheet: str | None, limits: GuardLimits) -> QuartileError:
    where = f" (sheet {sheet!r})" if sheet else ""
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    if "cell limit" in detail.lower():  # calamine's own refusal (ODS repeated rows/columns)
        return TooLarge(
            f"A sheet in the workbook{where} expands to more cells than Quartile reads "
            f"(calamine: {detail}); Quartile reads sheets of up to "
            f"{limits.max_sheet_cells:,} cells.",
            code="too_many_cells",
        )
    return BadInput(
        f"The workbook could not be read{where}: it is damaged or not a real spreadsheet "
        f"({detail}). Open it in a spreadsheet program, save it again and upload the new copy.",
        code="corrupt_file",
    )


# -- CSV / TSV ------------------------------------------------------------------------------
@dataclass
class TextTable:
    """A decoded CSV: the UTF-8 bytes, its dialect, and the first records as lists of text."""

    data: bytes
    delimiter: str
    decimal: str
    sample: list[list[str]]
    offsets: list[int]  # byte offset where each sample record starts
    quoted_newlines: bool
    split: bool  # most lines split into the same number (≥ 2) of fields

    def looks_like_a_table(self) -> bool:
        """Columns, or one column of numbers or dates (a FRED series without its date column)
        or of short labels ("Yes", "North East"). Prose and code are neither: they are refused
        rather than read as one column."""
        if self.split or len(self.sample) < 2:
            return True
        values = [row[0].strip() for row in self.sample[1:] if row and row[0].strip()]
        if not values:
            return False
        numeric = sum(_mostly_digits(v) for v in values)
        labels = sum(_mostly_digits(v) or _short_label(v) for v in values)
        return numeric >= len(values) / 2 or labels >= 0.8 * len(values)


def open_text_table(path: str | Path, log: CleaningLog) -> TextTable:
    raw = Path(path).read_bytes()
    data = _decode(raw, log)
    head = data[:SAMPLE_BYTES]
    if len(data) > SAMPLE_BYTES:
        head = head[: head.rfind(b"\n") + 1] or head
    text = head.decode("utf-8", errors="replace")
    delimiter, split = _sniff_delimiter(text)
    sample, offsets = _sample_records(text, delimiter)
    decimal = "," if delimiter in ";\t|" and _uses_decimal_comma(sample) else "."
    log.add(None, "delimiter", f"Columns are separated by {DELIMITERS[delimiter]}.")
    if decimal == ",":
        log.add(None, "decimal comma", "Numbers are written with a decimal comma (1.234,56); "
                "they were read as numbers.")
    quoted = '"' in text and bool(re.search(r'"[^"\n]*\n', text))
    return TextTable(data, delimiter, decimal, sample, offsets, quoted, split)


def _decode(raw: bytes, log: CleaningLog) -> bytes:
    """The file as UTF-8 bytes, with the decision logged."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
        if _valid_utf8(raw):
            log.add(None, "encoding", "The text is UTF-8 with a byte-order mark.")
            return raw
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        log.add(None, "encoding", "The text is UTF-16 (Excel's “Unicode text”); converted.")
        return raw.decode("utf-16", errors="replace").encode("utf-8")
    if _valid_utf8(raw):
        log.add(None, "encoding", "The text is UTF-8.")
        return raw
    if _UTF8_MULTIBYTE.search(raw):
        lines = raw.splitlines(keepends=True)
        bad = 0
        out = []
        for line in lines:
            try:
                out.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(_cp1252(line))
                bad += 1
        log.add(None, "encoding", f"The text mixes encodings: {plural(bad, 'line')} of "
                f"{len(lines):,} are not UTF-8 and were read as Windows-1252; check accented "
                "letters in those lines.")
        return "".join(out).encode("utf-8")
    log.add(None, "encoding", "The text is not UTF-8; it was read as Windows-1252 (Latin-1).")
    return _cp1252(raw).encode("utf-8")


def _valid_utf8(raw: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(raw), 1 << 20):
            decoder.decode(raw[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _cp1252(raw: bytes) -> str:
    """Windows-1252, with the five bytes it leaves undefined read as Latin-1."""
    return "".join(chunk.decode("cp1252") if ok else chunk.decode("latin-1")
                   for ok, chunk in _cp1252_runs(raw))


def _cp1252_runs(raw: bytes):
    undefined = re.compile(rb"[\x81\x8d\x8f\x90\x9d]+")
    position = 0
    for match in undefined.finditer(raw):
        yield True, raw[position : match.start()]
        yield False, match.group()
        position = match.end()
    yield True, raw[position:]


def _sniff_delimiter(text: str) -> tuple[str, bool]:
    """The delimiter whose field count is the same on most lines (quotes respected), and
    whether any delimiter splits the lines at all (comma when none does)."""
    lines = [line for line in text.splitlines()[:60] if line.strip()]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        mode, frequency = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        score = (round(frequency / len(counts), 2), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best, best_score[1] >= 2


def _short_label(cell: str) -> bool:
    """A few words without the brackets, quotes and operators of code or markup."""
    return len(cell) <= 40 and len(cell.split()) <= 4 and not _CODE_CHARS.intersection(cell)


_CODE_CHARS = frozenset("(){}[]=;<>#\"'`")


def _mostly_digits(cell: str) -> bool:
    """12.5, -3, 1,234, 2020-01-31, 1975:Q1, Q4 1952: at least half the characters are digits."""
    chars = [c for c in cell if not c.isspace()]
    return sum(c.isdigit() for c in chars) * 2 >= len(chars)


def _sample_records(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first records and the byte offset where each starts (quoted newlines allowed)."""
    lines = _lines(text)
    consumed = [0]

    def feed():
        for line in lines:
            consumed[0] += 1
            yield line

    reader = csv.reader(feed(), delimiter=delimiter)
    sizes = [len(line.encode("utf-8")) for line in lines]
    records, offsets = [], []
    position, used = 0, 0
    try:
        for record in reader:
            offsets.append(position)
            records.append(record)
            position += sum(sizes[used : consumed[0]])
            used = consumed[0]
            if len(records) >= SAMPLE_RECORDS:
                break
    except csv.Error as exc:
        raise BadInput(f"The CSV file could not be read: {exc}.", code="corrupt_file") from None
    offsets.append(position)
    return records, offsets


def _lines(text: str) -> list[str]:
    """Physical lines with their endings: split at \n only (str.splitlines also splits at
    \x0c, \u2028 and others, which may sit inside a field), or at \r in old Mac files."""
    if "\n" not in text and "\r" in text:
        return re.findall(r"[^\r]*\r|[^\r]+$", text)
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _uses_decimal_comma(rows: list[list[str]]) -> bool:
    cells = [c.strip() for row in rows for c in row]
    comma = sum(1 for c in cells if _DECIMAL_COMMA.match(c))
    point = sum(1 for c in cells if _DECIMAL_POINT.match(c))
    return comma > 0 and comma > point


def read_text_body(
    table: TextTable, start: int, width: int, log: CleaningLog, sheet: str,
    limits: GuardLimits = DEFAULT_LIMITS,
) -> pd.DataFrame:
    """Records from `start` (an index into the sample) on, as typed columns 0..width-1."""
    offset = table.offsets[min(start, len(table.offsets) - 1)]
    if start >= len(table.sample) and start < SAMPLE_RECORDS:
        return pd.DataFrame(columns=range(width))
    check_extent(sheet, table.data.count(b"\n", offset) + 1, width, limits)
    body = memoryview(table.data)[offset:]
    names = [f"c{i}" for i in range(width)]
    codes = [f"c{i}" for i in _code_columns(table.sample[start:], width)]
    invalid: list[tuple[int, str]] = []

    def skip(row) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    try:
        parsed = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=table.delimiter, newlines_in_values=table.quoted_newlines,
                invalid_row_handler=skip,
            ),
            convert_options=pacsv.ConvertOptions(
                null_values=NULL_VALUES, strings_can_be_null=True,
                true_values=["true", "True", "TRUE"], false_values=["false", "False", "FALSE"],
                decimal_point=table.decimal, column_types={c: pa.string() for c in codes},
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BadInput(f"The CSV file could not be read: {str(exc)[:200]}",
                       code="corrupt_file") from None
    del body
    frame = parsed.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del parsed
    frame.columns = range(width)
    if invalid:
        if len(invalid) > max(5, frame.shape[0] // 100):
            return _read_ragged(table, offset, width, log, sheet)
        _log_invalid(invalid, frame.shape[0], log, sheet)
    return frame


def _code_columns(rows: list[list[str]], width: int) -> list[int]:
    """The columns with values such as '02134': codes, kept as text, not the number 2134."""
    columns = zip(range(width), itertools.zip_longest(*rows, fillvalue=""), strict=False)
    return [i for i, cells in columns
            if _ZERO_FIRST.search("\0".join(cells))  # no cell starts with 0: no code
            and any(len(v) > 1 and v[0] == "0" and v.isdigit() for v in map(str.strip, cells))]


_ZERO_FIRST = re.compile(r"(?:^|\0)\s*0")


def _log_invalid(invalid: list[tuple[int, str]], n_rows: int, log: CleaningLog, sheet: str):
    texts = [t.strip() for _, t in invalid if t.strip()]
    log.add(sheet, "notes", f"Skipped {plural(len(invalid), 'line')} with the wrong number of "
            f"fields (usually notes or footers): {quote_list((t[:60] for t in texts), 3)}.")


def _read_ragged(table: TextTable, offset: int, width: int, log: CleaningLog,
                 sheet: str) -> pd.DataFrame:
    """Many records have too few or too many fields: read them all, padding short ones."""
    text = io.StringIO(table.data[offset:].decode("utf-8", errors="replace"))
    rows = list(csv.reader(text, delimiter=table.delimiter))
    wide = max((len(r) for r in rows), default=width)
    log.add(sheet, "ragged rows", "Rows have different numbers of fields; short rows were "
            f"padded with blanks ({wide} columns at most).")
    return pd.DataFrame([r + [""] * (wide - len(r)) for r in rows], dtype=object)
