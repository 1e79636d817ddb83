"""From raw cells to a tidy table, every decision written to the cleaning log.

Per sheet: find the header (titles above it, several header rows joined, merged cells filled),
cut the notes below the data, name the columns (stripped, unique, originals kept), give each
column a type (upload/coerce.py), drop blank rows and columns, apply the user's overrides, and
set a period/date index when one column holds periods.

Output contract (analyses and charts rely on it): unique stripped string column names; numeric
columns float64, or int64 when whole numbers with nothing missing; text as pandas' string dtype;
dates datetime64; a detected index as a PeriodIndex (freq Q-DEC, M or Y-DEC) or DatetimeIndex,
else a RangeIndex.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from upload import layout as lay
from upload.cleaning_log import CleaningLog, column_letter, plural, quote_list, row_list
from upload.coerce import STR, Typed, apply_override, plain_number_columns, type_column
from upload.dates import DATE_TYPES, DateColumn, NotDates, numbers_as_dates
from upload.guard import DEFAULT_LIMITS, GuardLimits, check_columns
from upload.memo import SheetsMemo
from upload.naming import column_names, header_texts, tidy_text
from upload.periods import set_index

TYPES = ("number", "text", "date", "category", *DATE_TYPES)


@dataclass
class Override:
    """What the user asked for one sheet: a header row (1-based) and column types."""

    header_row: int | None = None
    types: dict[str, str] = field(default_factory=dict)


@dataclass
class CleanSheet:
    frame: pd.DataFrame
    columns: list[dict]  # {"name", "original", "dtype"}
    index: dict | None


def override_for(options: dict | None, *names: str) -> Override:
    """The override for a sheet from upload options: `{"sheets": {name: {...}}}`, where the
    sheet may be named as cleaned or as stored; top-level "header_row"/"types" apply to all."""
    options = options or {}
    sheets = options.get("sheets") or {}
    chosen = next((sheets[n] for n in names if n in sheets), None) or {}
    header_row = chosen.get("header_row", options.get("header_row"))
    types = dict(options.get("types") or {})
    types.update(chosen.get("types") or {})
    return Override(int(header_row) if header_row else None, types)


def clean_rows(
    sheet: str, rows: list[list], log: CleaningLog, override: Override, *,
    merges: list | None = None, limits: GuardLimits = DEFAULT_LIMITS,
    memo: SheetsMemo | None = None,
) -> CleanSheet | None:
    """A workbook sheet given as raw rows (A1 at rows[0][0]); None when it holds no data.
    `memo` is shared by the sheets of one workbook (upload/memo.SheetsMemo)."""
    forced = override.header_row - 1 if override.header_row else None
    known = memo.cell_kinds if memo is not None else {}  # the kinds of text cells seen
    found = lay.detect_layout(rows, forced, known)
    if found is None:
        log.add(sheet, "skipped", "The sheet is blank; it was skipped.")
        return None
    if found.text_only and _is_prose(rows, known):
        return _prose_sheet(sheet, rows, log, known)
    header = [list(rows[r]) for r in found.header_rows]
    _fill_merged(header, found.header_rows, merges or [])
    width = max(len(r) for r in rows)
    body = pd.DataFrame(rows[found.body_start :], dtype=object)
    if body.shape[1] != width:
        body = body.reindex(columns=range(width))
    titles = [tidy_text(" ".join(str(v) for v in rows[r] if lay.cell_kind(v))) for r in
              found.title_rows]
    return build_table(sheet, found, header, titles, body, log, override, limits=limits,
                       memo=memo)


def build_table(
    sheet: str, found: lay.Layout, header: list[list], titles: list[str], body: pd.DataFrame,
    log: CleaningLog, override: Override, *, decimal: str = ".", letters: bool = True,
    limits: GuardLimits = DEFAULT_LIMITS, memo: SheetsMemo | None = None,
) -> CleanSheet | None:
    """The common path for workbook sheets and CSV files once the layout is known."""
    _log_layout(sheet, found, titles, log)
    body.index = pd.RangeIndex(found.body_start + 1, found.body_start + 1 + len(body))
    body = _cut_notes(sheet, body, found.types, log)
    width = body.shape[1]
    if width > limits.max_columns:  # refuse before typing thousands of columns one by one
        head = body.head(1000).to_numpy(dtype=object)
        filled = (pd.notna(head) & (head != "")).any(axis=0)
        check_columns(sheet, int(filled.sum()), limits)
    texts = [" ".join(dict.fromkeys(t for t in col if t)) for col in
             zip(*header_texts(header, width), strict=True)] if header else [""] * width
    typed = plain_number_columns(body)
    typed = {c: typed[c] if c in typed else type_column(body[c], decimal, memo)
             for c in range(width)}
    keep = [c for c in range(width) if typed[c].kind != "empty"]
    _log_dropped_columns(sheet, [c for c in range(width) if c not in keep], texts, letters, log)
    keep = _drop_note_columns(sheet, keep, typed, texts, body, letters, log)
    named, original = column_names(header, keep, sheet, log,
                                   strip_footnotes=bool(found.title_rows))
    names = dict(zip(keep, named, strict=True))
    originals = dict(zip(keep, original, strict=True))
    _numbers_as_dates(typed, names)
    frame = pd.DataFrame({names[c]: typed[c].series for c in keep}, index=body.index)
    originals_by_name = {names[c]: originals[c] for c in keep}
    frame = _drop_blank_rows(sheet, frame, log)
    if frame.empty:
        what = "has a header but no rows of data" if len(frame.columns) else "holds no data"
        log.add(sheet, "skipped", f"The sheet {what}; it was skipped.")
        return None
    _log_conversions(sheet, {names[c]: typed[c] for c in keep}, log)
    check_columns(sheet, frame.shape[1], limits)
    if override.types:  # the raw cells are only read for the user's date types
        frame = _apply_overrides(sheet, frame, override, log,
                                 {names[c]: body[c] for c in keep})
    generated = {names[c] for c in keep if originals[c] is None}
    fixed = {c for c, t in override.types.items() if not t.startswith("date")}
    frame, index = set_index(sheet, frame, generated, fixed, log)
    if index is None:
        frame = frame.reset_index(drop=True)
    unnamed = [c for c in keep if originals[c] is None and names[c] in frame.columns]
    if unnamed:
        where = quote_list(column_letter(c) if letters else str(c + 1) for c in unnamed)
        log.add(sheet, "column names", f"Column {where} had no header; such columns are named "
                "column_N after their position.")
    log.add(sheet, "types", _type_summary(frame))
    dtype_names = {dtype: str(dtype) for dtype in set(frame.dtypes)}
    columns = [{"name": name, "original": originals_by_name.get(name), "dtype": dtype_names[dtype]}
               for name, dtype in zip(frame.columns, frame.dtypes, strict=True)]
    return CleanSheet(frame, columns, index)


# -- layout, notes, blank rows and columns -------------------------------------------------
def _log_layout(sheet: str, found: lay.Layout, titles: list[str], log: CleaningLog) -> None:
    rows = [r + 1 for r in found.header_rows]
    if found.forced:
        detail = f"Header row {rows[0]} as you chose"
    elif len(rows) > 1:
        detail = (f"Header detected in rows {rows[0]}–{rows[-1]}; their texts are joined into "
                  "one name per column")
    elif rows:
        detail = f"Header detected in row {rows[0]}"
    else:
        detail = "No header row found: the data start at the top, so columns are named column_N"
    if titles:
        shown = "; ".join(repr(t[:80]) for t in titles[:3] if t)
        more = f" and {len(titles) - 3} more" if len(titles) > 3 else ""
        word = "was a title" if len(titles) == 1 else "were titles"
        detail += f" ({row_list(r + 1 for r in found.title_rows)} above it {word}: {shown}{more})"
    log.add(sheet, "header", detail + ".")
    if found.blank_before_body:
        rows = row_list(r + 1 for r in found.blank_before_body)
        log.add(sheet, "blank rows", f"Dropped blank {rows} between the header and the data.")


def _cut_notes(sheet: str, body: pd.DataFrame, types: list[int] | None,
               log: CleaningLog) -> pd.DataFrame:
    """Drop notes and footers below the data (only the tail of the body is inspected)."""
    if body.empty:
        return body
    if types is None:
        head = body.head(100).to_numpy(dtype=object).tolist()
        types = lay.column_types(lay.kinds_of(head), body.shape[1])
    if lay.ends_with_data(body.iloc[-1:].to_numpy(dtype=object).tolist()[0], types):
        return body  # the last row holds data: footer_start would find no notes
    tail_start = max(0, len(body) - 400)
    tail = body.iloc[tail_start:].to_numpy(dtype=object).tolist()
    cut = tail_start + lay.footer_start(tail, types)
    if cut < len(body):
        notes = body.iloc[cut:]
        texts = [tidy_text(next((v for v in row if lay.cell_kind(v)), "")) for row in
                 notes.to_numpy(dtype=object).tolist()]
        texts = [t for t in texts if t]
        numbers = [int(n) for n in notes.index]
        log.add(sheet, "notes", f"Dropped {plural(len(texts), 'line')} of notes below the data "
                f"({row_list(numbers)}), starting {texts[0][:100]!r}." if texts else
                f"Dropped the blank {row_list(numbers)} below the data.")
        body = body.iloc[:cut]
    return body


def _log_dropped_columns(sheet, dropped, texts, letters, log) -> None:
    blank = [c for c in dropped if not texts[c]]
    headed = [c for c in dropped if texts[c]]
    if blank:
        where = quote_list(column_letter(c) if letters else str(c + 1) for c in blank)
        log.add(sheet, "blank columns", f"Dropped {plural(len(blank), 'blank column')} "
                f"({where}).")
    if headed:
        log.add(sheet, "blank columns", f"Dropped {plural(len(headed), 'column')} with a header "
                f"but no values: {quote_list(texts[c] for c in headed)}.")


def _drop_note_columns(sheet, keep, typed, texts, body, letters, log) -> list[int]:
    """A column without a header holding a few text cells beside the data is notes."""
    limit = min(20, max(2, len(body) // 20))
    notes = [c for c in keep if not texts[c] and typed[c].kind == "text"
             and 0 < typed[c].series.notna().sum() <= limit and len(body) > 2 * limit
             and all(len(t) >= 30 or lay.is_note_text(t) for t in typed[c].series.dropna())]
    for c in notes:
        texts = typed[c].series.dropna()
        where = column_letter(c) if letters else str(c + 1)
        rows = row_list(int(n) for n in texts.index)
        log.add(sheet, "notes", f"Column {where} has no header and only "
                f"{plural(len(texts), 'note')} beside the data ({rows}): "
                f"{quote_list((t[:120] for t in texts), 3)}. It is not kept as a column.")
    return [c for c in keep if c not in notes]


def _drop_blank_rows(sheet: str, frame: pd.DataFrame, log: CleaningLog) -> pd.DataFrame:
    blank = (frame.isna().to_numpy().all(axis=1) if len(frame.columns)
             else np.ones(len(frame), dtype=bool))
    if blank.any():
        log.add(sheet, "blank rows", f"Dropped {plural(int(blank.sum()), 'blank row')} "
                f"({row_list(int(n) for n in frame.index[blank])}).")
        frame = frame[~blank]
    return frame


def _fill_merged(header: list[list], rows: list[int], merges: list) -> None:
    """Give every cell of a merged range in the header its top-left text."""
    where = {r: i for i, r in enumerate(rows)}
    for (r0, c0), (r1, c1) in merges:
        if r0 not in where or lay.cell_kind(header[where[r0]][c0]) == lay.BLANK:
            continue
        value = header[where[r0]][c0]
        for r in range(r0, r1 + 1):
            if r in where:
                line = header[where[r]]
                for c in range(c0, min(c1 + 1, len(line))):
                    if lay.cell_kind(line[c]) == lay.BLANK:
                        line[c] = value


# -- prose sheets ---------------------------------------------------------------------------
def _is_prose(rows: list[list], known: dict[str, int]) -> bool:
    """Notes rather than a table: no numbers, and mostly single lines or long sentences
    (a bullet and a sentence count as a line). `known` is passed to layout.kinds_of."""
    head = rows[: lay.SCAN_ROWS * 2]
    window = [(row, kinds) for row, kinds in zip(head, lay.kinds_of(head, known), strict=True)
              if any(kinds)]
    if any(k in (lay.NUM, lay.DATE) for _, kinds in window for k in kinds):
        return False
    filled = [[str(v) for v, k in zip(row, kinds, strict=True) if k] for row, kinds in window]
    single = sum(1 for cells in filled if len(cells) == 1)
    sentences = sum(1 for cells in filled if len(cells) <= 2 and max(map(len, cells)) >= 50)
    return single * 2 >= len(filled) or sentences * 2 >= len(filled)


def _prose_sheet(sheet: str, rows: list[list], log: CleaningLog,
                 known: dict[str, int]) -> CleanSheet:
    lines = [" ".join(tidy_text(v) for v, k in zip(row, kinds, strict=True) if k)
             for row, kinds in zip(rows, lay.kinds_of(rows, known), strict=True)]
    lines = [line for line in lines if line]
    frame = pd.DataFrame({"text": pd.Series(lines, dtype=STR)})
    log.add(sheet, "notes", f"The sheet holds notes rather than a table; its "
            f"{plural(len(lines), 'line')} of text are kept in one column 'text'.")
    return CleanSheet(frame, [{"name": "text", "original": None, "dtype": str(STR)}], None)


# -- types ----------------------------------------------------------------------------------
def _log_conversions(sheet: str, typed: dict[str, Typed], log: CleaningLog) -> None:
    marked = {n: t.markers for n, t in typed.items() if t.markers}
    if marked:
        shown = sorted({("spaces" if not m else repr(m)) for ms in marked.values() for m in ms})
        log.add(sheet, "missing values", f"Read {', '.join(shown[:6])} as missing in "
                f"{plural(len(marked), 'column')} ({quote_list(marked)}).")
    for name, t in typed.items():
        if t.dropped:
            log.add(sheet, "numbers", f"Column {name!r} is numeric; text in it that is not "
                    f"a number is now missing: {quote_list(t.dropped, 4)}.")
    thousands = [n for n, t in typed.items() if t.thousands]
    if thousands:
        log.add(sheet, "numbers", "Numbers written with thousands separators (1,234) were "
                f"converted in {quote_list(thousands)}.")
    commas = [n for n, t in typed.items() if t.decimal_comma]
    if commas:
        log.add(sheet, "numbers", "Numbers written with a decimal comma (1.234,56) were "
                f"converted in {quote_list(commas)}.")
    percent = [n for n, t in typed.items() if t.percent]
    if percent:
        log.add(sheet, "percent", f"Percent signs removed in {quote_list(percent)}; the values "
                "are kept in percent points (12.5% → 12.5).")
    money = [n for n, t in typed.items() if t.currency]
    if money:
        log.add(sheet, "numbers", f"Currency signs (£, $, €) removed in {quote_list(money)}; "
                "the amounts are kept as numbers.")
    _log_marks(sheet, typed, log)
    _log_dates(sheet, typed, log)
    codes = [n for n, t in typed.items() if t.leading_zeros]
    if codes:
        log.add(sheet, "types", f"Kept {quote_list(codes)} as text: values such as '012' start "
                "with a zero, so they are codes rather than quantities.")


def _numbers_as_dates(typed: dict[int, Typed], names: dict[int, str]) -> None:
    """Numbers under a header that says date: Excel day numbers or 20161203 (upload/dates)."""
    for c, name in names.items():
        if typed[c].kind == "number":
            found = numbers_as_dates(typed[c].series, name)
            if found is not None:
                typed[c] = Typed(found.series, "date", dates=found)


def _log_dates(sheet: str, typed: dict[str, Typed], log: CleaningLog) -> None:
    for name, t in typed.items():
        found = t.dates
        if isinstance(found, NotDates):
            log.add(sheet, "dates", f"Column {name!r} stays text: {found.reason}")
        elif isinstance(found, DateColumn):
            dtype = str(found.series.dtype)
            detail = f"Column {name!r} holds {found.described}: typed as {dtype}."
            if found.n_failed:
                detail += (f" {plural(found.n_failed, 'value')} could not be read as dates and "
                           f"{'is' if found.n_failed == 1 else 'are'} now missing: "
                           f"{quote_list(found.failed, 4)}.")
            if found.out_of_range:
                detail += (f" Dates with a year outside 1000–2999 are missing too: "
                           f"{quote_list(found.out_of_range, 4)}.")
            log.add(sheet, "dates", detail)


def _log_marks(sheet: str, typed: dict[str, Typed], log: CleaningLog) -> None:
    """Footnote marks ("123.4p": provisional) are kept here, with the rows that carry them."""
    for name, t in typed.items():
        if t.marks is not None and len(t.marks):
            counts = t.marks.value_counts()
            shown = ", ".join(f"{m!r} on {plural(int(n), 'value')}" for m, n in
                              counts.head(6).items())
            log.add(sheet, "footnote marks", f"Column {name!r}: numbers carried footnote marks "
                    f"({shown}); the numbers are kept without them. Marked: "
                    f"{row_list(int(r) for r in t.marks.index)}.")


def _type_summary(frame: pd.DataFrame) -> str:
    kinds = {"numeric": 0, "text": 0, "date": 0, "category": 0, "true/false": 0}
    for dtype, n in Counter(frame.dtypes).items():  # each distinct dtype asked once
        if isinstance(dtype, pd.CategoricalDtype):
            kinds["category"] += n
        elif pd.api.types.is_bool_dtype(dtype):
            kinds["true/false"] += n
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds["numeric"] += n
        elif pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
            kinds["date"] += n
        else:
            kinds["text"] += n
    parts = [plural(n, f"{k} column") for k, n in kinds.items() if n]
    return "Column types: " + ", ".join(parts) + "."


def _apply_overrides(sheet: str, frame: pd.DataFrame, override: Override,
                     log: CleaningLog, raw: dict[str, pd.Series]) -> pd.DataFrame:
    """The user's column types; date types read the column's cells as they were written."""
    for name, kind in override.types.items():
        if kind not in TYPES:
            log.add(sheet, "types", f"Type {kind!r} for column {name!r} is not one of "
                    f"{', '.join(TYPES)}; ignored.")
        elif name not in frame.columns:
            log.add(sheet, "types", f"No column is named {name!r} any more; its type "
                    "override was ignored.")
        else:
            source = raw[name].loc[frame.index] if kind.startswith("date") else frame[name]
            if kind.startswith("date") and pd.api.types.is_datetime64_any_dtype(source):
                source = frame[name]  # the reader gave real dates: nothing to re-read
            frame[name], lost = apply_override(source, kind)
            extra = (f"; {plural(lost, 'value')} could not be read and are now missing"
                     if lost else "")
            log.add(sheet, "types", f"Column {name!r} set to {kind} as you chose{extra}.")
    return frame
