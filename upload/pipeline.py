"""The ingestion pipeline: sniff → guard → read → clean → one Parquet file per sheet.

`parse_file` runs in a worker process and returns small metadata only: frames go to Parquet on
disk, never through a pipe. `ingest_file` runs it in the "file parser" pool, whose CPU, memory
and wall-clock limits mean no upload can take the web server down. `read_sheet` reads a stored
sheet back (PeriodIndex included) for analyses; `export_csv`/`export_xlsx`/`export_parquet`
turn a cleaned sheet into downloads.
"""

from __future__ import annotations

import ctypes
import functools
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.errors import Pandas4Warning

from errors import Unprocessable, UnsupportedFile
from sandbox import LimitedPool, Limits
from upload.clean import CleanSheet, build_table, clean_rows, override_for
from upload.cleaning_log import CleaningLog
from upload.guard import DEFAULT_LIMITS, GuardLimits, check_archive, check_xlsx_extent
from upload.layout import detect_layout
from upload.long import turn_long
from upload.memo import SheetsMemo
from upload.naming import sheet_names, tidy_text
from upload.readers import open_text_table, read_text_body, read_workbook
from upload.sniff import ACCEPTED, detect_format
from upload.wide import turn_wide
from upload.writers import export_csv, export_parquet, export_xlsx

__all__ = ["LIMITS", "POOL", "PRELOAD", "ParsedUpload", "SheetMeta", "export_csv", "export_parquet",
           "export_xlsx", "ingest_file", "parse_file", "read_sheet"]

# A parse may use a minute of CPU and 2 GB of address space beyond the warm worker's. The limit
# is on address space (RLIMIT_AS), which is far above resident memory once pyarrow's allocator
# and thread stacks have reserved theirs: the 1,000,000-row CSV peaks near 0.6 GB resident.
# Two workers: a second upload does not wait behind a big one.
LIMITS = Limits(wall_seconds=60.0, cpu_seconds=60, memory_bytes=2 * 1024**3)
PRELOAD = ("pandas", "pyarrow", "pyarrow.csv", "pyarrow.parquet", "python_calamine",
           "upload.pipeline", "upload.warmup")
POOL = LimitedPool("file parser", size=2, limits=LIMITS, preload=PRELOAD)


@dataclass(frozen=True)
class SheetMeta:
    name: str
    original_name: str
    n_rows: int
    n_cols: int
    columns: tuple[dict, ...]  # {"name", "original", "dtype"}
    index: dict | None  # {"name", "kind", "freq", "start", "end"}
    parquet: str  # file name inside out_dir (generated, never from user text)
    turned_from: str | None = None  # the wide or long sheet this one turns (upload/wide, long)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "original_name": self.original_name, "n_rows": self.n_rows,
            "n_cols": self.n_cols, "columns": [dict(c) for c in self.columns],
            "index": dict(self.index) if self.index else None, "parquet": self.parquet,
            "turned_from": self.turned_from,
        }


@dataclass(frozen=True)
class ParsedUpload:
    format: str  # "xlsx" | "xls" | "ods" | "csv"
    sheets: tuple[SheetMeta, ...]
    cleaning_log: tuple[dict, ...]  # {"sheet": str | None, "step", "detail"}

    def to_dict(self) -> dict:
        return {"format": self.format, "sheets": [s.to_dict() for s in self.sheets],
                "cleaning_log": [dict(e) for e in self.cleaning_log]}


def ingest_file(
    path: str | Path, filename: str, out_dir: str | Path, options: dict | None = None,
    pool: LimitedPool | None = None, limits: GuardLimits | None = None,
) -> ParsedUpload:
    """`parse_file` in a limited worker; its QuartileError (4xx) comes back unchanged, and an
    overrun (time, CPU, memory) is a 422 while the pool replaces the worker."""
    return (pool or POOL).run(parse_file, str(path), filename, str(out_dir), options, limits)


def parse_file(
    path: str | Path, filename: str, out_dir: str | Path, options: dict | None = None,
    limits: GuardLimits | None = None,
) -> ParsedUpload:
    """Sniff, guard, read, clean and store every sheet of one file (runs in the worker)."""
    limits = limits or DEFAULT_LIMITS
    _limit_malloc_arenas()
    out = Path(out_dir)
    log = CleaningLog()
    fmt = detect_format(path, filename)
    log.add(None, "format", f"Read as {_FORMAT_NAMES[fmt]} (recognised from the content).")
    if fmt in ("xlsx", "ods"):
        check_archive(path, limits)
    if fmt == "xlsx":
        check_xlsx_extent(path, limits)
    if fmt == "csv":
        sheets = _parse_text(path, filename, out, options, log, limits)
    else:
        sheets = _parse_workbook(path, fmt, out, options, log, limits)
    pa.default_memory_pool().release_unused()
    stored = tuple(s for s in sheets if s is not None)
    if not stored:
        raise Unprocessable(
            "The file has no data: " + ("every sheet is blank or holds only a header."
                                        if fmt != "csv" else "it holds no rows of data."),
            code="no_data",
        )
    return ParsedUpload(fmt, stored, tuple(log.entries))


_FORMAT_NAMES = {"xlsx": "an Excel workbook (XLSX)", "xls": "an Excel 97-2003 workbook (XLS)",
                 "ods": "an OpenDocument spreadsheet (ODS)", "csv": "delimited text (CSV/TSV)"}


def _parse_workbook(path, fmt: str, out: Path, options, log: CleaningLog, limits) -> list:
    raw = list(read_workbook(path, fmt, log, limits))
    names = sheet_names([s.name for s in raw], log)
    taken = list(names)  # grows with the names of turned copies
    stored, refused = [], []
    memo = SheetsMemo()  # the sheets often share a column of period labels
    schemas = SheetSchemas()  # ...and their layout
    for number, (sheet, name) in enumerate(zip(raw, names, strict=True)):
        log.rename_sheet(sheet.name, name)
        override = override_for(options, name, sheet.name)
        try:
            cleaned = clean_rows(name, sheet.rows, log, override, merges=sheet.merges,
                                 limits=limits, memo=memo)
        except Unprocessable as exc:
            log.add(name, "skipped", exc.message)
            refused.append(exc)
            continue
        sheet.rows = []  # free the raw cells before the next sheet is cleaned
        if cleaned is not None:
            stored.extend(_store_with_turned(cleaned, name, sheet.name, number, out, log,
                                             taken, schemas))
    if not stored and refused:
        raise refused[0]
    return stored


def _parse_text(path, filename: str, out: Path, options, log: CleaningLog,
                limits) -> list[SheetMeta]:
    name = _text_sheet_name(filename)
    override = override_for(options, name)
    table = open_text_table(path, log)
    if not table.looks_like_a_table():
        shown = repr(filename) if filename else "The file"
        raise UnsupportedFile(
            f"{shown} is not a table: its lines do not split into columns on commas, "
            f"semicolons, tabs or pipes, and they are not numbers. {ACCEPTED}",
            code="unsupported_format")
    forced = override.header_row - 1 if override.header_row else None
    found = detect_layout(table.sample, forced)
    if found is None:
        raise Unprocessable("The file has no data: it holds no rows of data.", code="no_data")
    width = max((len(r) for r in table.sample[found.body_start :]), default=0)
    width = max([width] + [len(table.sample[r]) for r in found.header_rows])
    header = [table.sample[r] for r in found.header_rows]
    titles = [tidy_text(" ".join(table.sample[r])) for r in found.title_rows]
    body = read_text_body(table, found.body_start, width, log, name, limits)
    decimal = table.decimal
    del table  # the file's bytes: not needed while the columns are typed
    cleaned = build_table(name, found, header, titles, body, log, override,
                          decimal=decimal, letters=False, limits=limits)
    if cleaned is None:
        raise Unprocessable("The file has no data: it holds no rows of data.", code="no_data")
    return _store_with_turned(cleaned, name, name, 0, out, log, [name], SheetSchemas())


def _text_sheet_name(filename: str) -> str:
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return (tidy_text(stem) or "data")[:100]


def _store_with_turned(cleaned: CleanSheet, name: str, original: str, number: int, out: Path,
                       log: CleaningLog, taken: list[str],
                       schemas: SheetSchemas) -> list[SheetMeta]:
    """The sheet, and after it its turned copy when it is a wide (upload/wide) or long
    (upload/long) time series."""
    stored = [_store(cleaned, name, original, number, out, schemas)]
    turned = turn_wide(name, cleaned, log) or turn_long(name, cleaned, log)
    if turned is not None:
        suffix, sheet = turned
        extra = name[: 100 - len(suffix)] + suffix
        while extra in taken:
            extra += "'"
        taken.append(extra)
        stored.append(_store(sheet, extra, original, number, out, schemas, "-turned",
                             turned_from=name))
    return stored


def _store(cleaned: CleanSheet, name: str, original: str, number: int, out: Path,
           schemas: SheetSchemas, suffix: str = "", turned_from: str | None = None) -> SheetMeta:
    parquet = f"sheet-{number:03d}{suffix}.parquet"
    frame = cleaned.frame
    pq.write_table(schemas.table(frame), str(out / parquet), compression="snappy")
    return SheetMeta(name, original, int(frame.shape[0]), int(frame.shape[1]),
                     tuple(cleaned.columns), cleaned.index, parquet, turned_from)


class SheetSchemas:
    """The Arrow tables that `frame.to_parquet(path, engine="pyarrow")` writes (same schema,
    pandas metadata and compression), for the sheets of one upload.

    pyarrow works out a frame's schema and pandas metadata column by column, which is most of
    the time a small sheet takes to store. Sheets laid out alike (the same column names and
    number dtypes over a period or date index: the HPI, RHPI, PDI and RPDI sheets of a Dallas
    Fed workbook) have the same schema, so the first one's is kept and the others' columns are
    converted straight into it.
    """

    MAX_ROWS = 10_000  # larger frames: pyarrow converts their columns in threads

    def __init__(self) -> None:
        self._schemas: dict[tuple, pa.Schema] = {}

    def table(self, frame: pd.DataFrame) -> pa.Table:
        layout = self._layout(frame)
        schema = self._schemas.get(layout) if layout is not None else None
        if schema is None:
            table = _from_pandas(frame)
            if layout is not None:
                self._schemas[layout] = table.schema
            return table
        fields = iter(schema)
        if len(set(layout[1])) == 1:  # one dtype: the columns of one 2-D array
            values = frame.to_numpy()
            columns = (values[:, j] for j in range(values.shape[1]))
        else:
            columns = (column.to_numpy() for _, column in frame.items())
        arrays = [pa.array(column, type=next(fields).type, from_pandas=True)
                  for column in columns]
        arrays.append(pa.array(frame.index, type=next(fields).type, from_pandas=True))
        return pa.Table.from_arrays(arrays, schema=schema)

    def _layout(self, frame: pd.DataFrame) -> tuple | None:
        """What the schema depends on, for the frames whose columns are numpy numbers or
        booleans over a period index or a date index without time zone; else None."""
        index, dtypes = frame.index, tuple(frame.dtypes.tolist())
        if (len(frame) > self.MAX_ROWS or frame.attrs
                or isinstance(frame.columns, pd.MultiIndex)
                or not isinstance(index, pd.PeriodIndex | pd.DatetimeIndex)
                or getattr(index, "tz", None) is not None
                or not all(isinstance(d, np.dtype) and d.kind in "fiub" for d in dtypes)):
            return None
        columns = frame.columns
        return (tuple(columns), dtypes, columns.dtype, columns.name, type(index), index.dtype,
                index.name)


def _from_pandas(frame: pd.DataFrame) -> pa.Table:
    """pa.Table.from_pandas as pandas' to_parquet calls it."""
    with warnings.catch_warnings():  # as pandas does: pyarrow reading .values of tz-aware data
        warnings.filterwarnings("ignore", r"(Series|DatetimeIndex)\.values returning an "
                                "ndarray that drops timezone information", Pandas4Warning)
        table = pa.Table.from_pandas(frame)
    if frame.attrs:
        table = table.replace_schema_metadata(
            {**table.schema.metadata, "PANDAS_ATTRS": json.dumps(frame.attrs)})
    return table


@functools.cache
def _limit_malloc_arenas() -> None:
    """glibc gives each thread its own 64 MB arena of address space; pyarrow's threads would
    spend a third of the worker's address-space limit on them. Two arenas are plenty."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


def read_sheet(parquet_path: str | Path) -> pd.DataFrame:
    """A stored sheet as it was cleaned: dtypes, and the PeriodIndex/DatetimeIndex, restored."""
    return pd.read_parquet(parquet_path, engine="pyarrow")

