"""Where the table is on a sheet: title rows, header rows, the body, and notes below it.

Works on raw rows (lists of Python values, as a spreadsheet shows them) and only looks at the
top `SCAN_ROWS` rows and the bottom of the body, so a million-row sheet costs the same as a
small one. The idea: a column's type is what most of its cells are; the body starts at the
first row that agrees with those types (a header row has text above numbers, or a run of year
labels such as 1990, 1991, ...); header rows are the text rows just above it, titles the single
lines above those; notes are the text lines after the last row that holds numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from dataclasses import dataclass, field

from upload.dates import looks_like_date
from upload.periods import looks_like_financial_year, looks_like_period

SCAN_ROWS = 80
MAX_HEADER_ROWS = 5
BLANK, NUM, DATE, TEXT = 0, 1, 2, 3
MISSING_MARKERS = frozenset(
    {
        "",
        "..",
        "...",
        ".",
        "-",
        "–",
        "—",
        ":",
        "n/a",
        "na",
        "n.a.",
        "nan",
        "null",
        "none",
        "#n/a",
        "x",
        "*",
        "(x)",
        "(na)",
        "(d)",
        "s",
        "c",
    }
)
# Numbers as people type them: 1,234.5  -12  (1,234)  12.5%  $1,234  -$ 5  1 480 000 €  −3
# 1.234,5  .591E0  -.5  1.2E+03, and with a footnote mark: 123.4p  5.6*  7.1[r]
_NUMERIC_TEXT = re.compile(
    r"^\(?[+\-−–]?\s*(?:[A-Z]{0,3}[$€£¥₹]\s*)?[+\-−–]?"
    r"(?:(?:\d{1,3}(?:[,. \u00a0\u202f']\d{3})+|\d+)(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
    r"\s*%?\s*[$€£¥₹]?\)?(?:\s*(?:\*{1,3}|[†‡§]|[bcdefnprsuz]|\[[a-z0-9]{1,3}\]|\([a-z]\)))?$"
)
_NOTE_MARKER = re.compile(
    r"^\s*(?:sources?\b|notes?\b|nb\b|©|\(c\)|copyright|\*|†|‡|\d{1,2}[.)]\s|\d{1,2}\s+[a-z]|"
    r"contact|e-?mail|tel(?:ephone)?\b|latest update|next update|last updated|"
    r"released|published|footnotes?\b|terms\b)",
    re.IGNORECASE,
)


def cell_kind(value: object) -> int:
    """BLANK, NUM, DATE or TEXT, as a person would read the cell."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return NUM
    if isinstance(value, (int, float)):
        return BLANK if isinstance(value, float) and math.isnan(value) else NUM
    if isinstance(value, (dt.date, dt.datetime)):
        return DATE
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in MISSING_MARKERS:
            return BLANK
        if _NUMERIC_TEXT.match(text):
            return NUM
        if (looks_like_period(text) or looks_like_date(text)) and not \
                looks_like_financial_year(text):
            return DATE
        return TEXT
    return TEXT


def is_number_text(text: str) -> bool:
    """`cell_kind(text) == NUM` for a string, without the date tests cell_kind goes on to."""
    stripped = text.strip()
    return stripped.lower() not in MISSING_MARKERS and _NUMERIC_TEXT.match(stripped) is not None


def is_note_text(value: object) -> bool:
    return isinstance(value, str) and bool(_NOTE_MARKER.match(value))


@dataclass
class Layout:
    """Row positions are 0-based indexes into the raw rows."""

    header_rows: list[int] = field(default_factory=list)
    title_rows: list[int] = field(default_factory=list)
    body_start: int = 0
    blank_before_body: list[int] = field(default_factory=list)
    forced: bool = False
    types: list[int] | None = None  # column kinds seen near the top (None when forced)
    text_only: bool = False  # no numbers or dates near the top


def kinds_of(rows: list[list], known: dict[str, int] | None = None) -> list[list[int]]:
    """cell_kind of every cell, asked once per distinct text ("yes", "no", "furnished"...);
    `known` holds the kinds of texts met before (in an upload's other sheets)."""
    known = {} if known is None else known

    def kind(value: object) -> int:
        if type(value) is not str:
            return cell_kind(value)
        found = known.get(value)
        if found is None:
            found = known[value] = cell_kind(value)
        return found

    # a float that is not NaN (most cells of a workbook) is a number without a call
    return [[NUM if type(v) is float and v == v else kind(v) for v in row] for row in rows]


def column_types(kinds: list[list[int]], width: int) -> list[int]:
    """Each column's majority kind over the given rows (BLANK when it has no values)."""
    columns = list(itertools.zip_longest(*kinds))  # short rows are padded with None
    out = []
    for c in range(width):
        column = columns[c] if c < len(columns) else ()
        num, date = column.count(NUM), column.count(DATE)
        filled = num + date + column.count(TEXT)
        if not filled:
            out.append(BLANK)
        elif num * 5 >= filled * 4:  # mostly numbers; 12, 12a, 14, 3a are codes
            out.append(NUM)
        elif date * 2 >= filled:
            out.append(DATE)
        else:
            out.append(TEXT)
    return out


def detect_layout(rows: list[list], header_row: int | None = None,
                  known: dict[str, int] | None = None) -> Layout | None:
    """The layout of a sheet from its first rows; None if they are all blank.

    `header_row` (0-based) forces the header: the body starts at the next non-blank row.
    `known` is passed to `kinds_of`.
    """
    first = next((i for i, row in enumerate(rows) if _filled(row)), None)
    if first is None:
        return None
    if header_row is not None:
        return _forced_layout(rows, header_row)
    window = rows[first : first + SCAN_ROWS]
    kinds = kinds_of(window, known)
    width = max((len(r) for r in window), default=0)
    types = column_types(kinds[1:] if len(kinds) > 2 else kinds, width)
    start = _body_start(kinds, types, window)
    if start is None:
        found = _text_table_layout(rows, kinds, first)
        found.types, found.text_only = types, True
        return found
    while (start > 0 and _repeats_below(window[start - 1], window[start:], types)
           and not _names_a_number_column(window[start - 1], types)):
        start -= 1  # "12a, High St" above "14, High St": a row of data, not a header
    layout = Layout(body_start=first + start, types=types)
    j = start - 1
    while j >= 0 and not any(kinds[j]):
        layout.blank_before_body.insert(0, first + j)
        j -= 1
    lead = _first_column(kinds)
    if j >= 0 and _is_label_row(kinds[j], lead) and _labels_recur(kinds[start + 1 :], lead):
        layout.body_start = first + j  # a section label ("Race/Ethnicity") opens the body
        layout.blank_before_body.clear()
        j -= 1
        while j >= 0 and not any(kinds[j]):
            j -= 1
    wide = sum(1 for t in types if t != BLANK) >= 3
    while j >= 0 and len(layout.header_rows) < MAX_HEADER_ROWS:
        filled = sum(1 for k in kinds[j] if k)
        labels_first_column = not layout.header_rows and _is_label_row(kinds[j], lead)
        if filled == 0 or (filled == 1 and wide and not labels_first_column):
            break  # a blank line or a single line of text (a title) ends the header
        layout.header_rows.insert(0, first + j)
        j -= 1
    layout.title_rows = [first + i for i in range(j + 1) if any(kinds[i])]
    return layout


def _repeats_below(row: list, below: list[list], types: list[int]) -> bool:
    """Is a text cell of this row, in a text column, repeated further down that column? A
    header names its column once; data repeat ("High St", "Detached")."""
    for c, value in enumerate(row):
        if c >= len(types) or types[c] != TEXT or cell_kind(value) != TEXT:
            continue
        text = str(value).strip()
        if any(c < len(r) and str(r[c]).strip() == text for r in below):
            return True
    return False


def _names_a_number_column(row: list, types: list[int]) -> bool:
    """Does this row put a word over a column of numbers? That is a header ("Price" over
    prices), whatever else it repeats; a code like "12a" over house numbers is not a word."""
    return any(c < len(types) and types[c] == NUM and cell_kind(value) == TEXT
               and not str(value).strip()[:1].isdigit() for c, value in enumerate(row))


def _filled(row: list) -> bool:
    return any(cell_kind(v) != BLANK for v in row)


def _forced_layout(rows: list[list], header_row: int) -> Layout:
    if header_row >= len(rows):
        from errors import BadInput

        raise BadInput(
            f"Header row {header_row + 1} is below the last row of the sheet ({len(rows)}).",
            code="bad_header_row",
        )
    body = header_row + 1
    blank = []
    while body < len(rows) and not _filled(rows[body]):
        blank.append(body)
        body += 1
    titles = [i for i in range(header_row) if _filled(rows[i])]
    return Layout([header_row], titles, body, blank, forced=True)


def _body_start(kinds: list[list[int]], types: list[int], window: list[list]) -> int | None:
    """First row that agrees with the column types and carries a number or date."""
    for i, row in enumerate(kinds):
        if not _agrees(row, types):
            continue
        if _year_labels(window[i], row):
            below = next((j for j in range(i + 1, len(kinds)) if any(kinds[j])), None)
            if below is None or not _year_labels(window[below], kinds[below]):
                continue  # years over numbers: a header; years over years: data
        if not any(k in (NUM, DATE) and types[c] in (NUM, DATE) for c, k in enumerate(row)):
            continue
        following = [r for r in kinds[i + 1 : i + 8] if any(r)][:5]
        if not following or sum(_agrees(r, types) for r in following) * 5 >= len(following) * 3:
            return i
    return None


def _agrees(row: list[int], types: list[int]) -> bool:
    for c, kind in enumerate(row):
        if kind == BLANK or c >= len(types):
            continue
        column = types[c]
        if column == NUM and kind != NUM or column == DATE and kind not in (DATE, NUM):
            return False
    return True


def _year_labels(values: list, row: list[int]) -> bool:
    """A header of years: two or more whole numbers 1800-2100, not all the same, rising
    left to right (a run may start again: 2015..2021, 2015..2021)."""
    years = []
    for value, kind in zip(values, row, strict=False):
        if kind != NUM:
            continue
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except ValueError:
            return False
        if not (number.is_integer() and 1800 <= number <= 2100):
            return False
        years.append(number)
    if len(years) < 2 or len(set(years)) < 2:
        return False
    restarts = sum(1 for a, b in zip(years, years[1:], strict=False) if b <= a)
    return all(b != a for a, b in zip(years, years[1:], strict=False)) and (
        restarts == 0 or years.count(years[0]) == restarts + 1)


def _first_column(kinds: list[list[int]]) -> int:
    """The leftmost column the table uses (rows with two or more cells decide)."""
    starts = [next(c for c, k in enumerate(r) if k) for r in kinds if len(r) - r.count(BLANK) > 1]
    return min(starts, default=0)


def _is_label_row(row: list[int], lead: int) -> bool:
    """One text cell in the table's first column and nothing else: "Race/Ethnicity"."""
    filled = [c for c, k in enumerate(row) if k]
    return filled == [lead] and row[lead] == TEXT


def _labels_recur(kinds: list[list[int]], lead: int) -> bool:
    """Does a later label row open a section, i.e. is it followed by a row of data?"""
    for i, row in enumerate(kinds):
        if _is_label_row(row, lead):
            following = next((r for r in kinds[i + 1 :] if any(r)), None)
            if following is not None and not _is_label_row(following, lead) and any(
                k == NUM for k in following
            ):
                return True
    return False


def _text_table_layout(rows: list[list], kinds: list[list[int]], first: int) -> Layout:
    """No numbers anywhere near the top: the first full-width row of short texts is a header."""
    counts = [len(r) - r.count(BLANK) for r in kinds]
    widest = max(counts)
    for i, n in enumerate(counts):
        if n >= max(min(2, widest), math.ceil(widest / 2)):
            cells = [v for v in rows[first + i] if cell_kind(v) != BLANK]
            header_like = all(isinstance(v, str) and len(v.strip()) <= 100 for v in cells)
            titles = [first + t for t in range(i) if counts[t]]
            if header_like:
                body = i + 1
                blank = []
                while body < len(kinds) and not counts[body]:
                    blank.append(first + body)
                    body += 1
                return Layout([first + i], titles, first + body, blank)
            return Layout([], titles, first + i, [])
    return Layout([], [], first, [])


def ends_with_data(row: list, types: list[int]) -> bool:
    """Is `row`, the body's last, data (then `footer_start` finds no notes below it)?"""
    return _holds_data([cell_kind(v) for v in row], _numeric_columns(types))


def _numeric_columns(types: list[int]) -> set[int]:
    return {c for c, t in enumerate(types) if t in (NUM, DATE)}


def _holds_data(kinds: list[int], numeric: set[int]) -> bool:
    """A number in a numeric column, or (without numeric columns) two filled cells."""
    if numeric:
        return any(k == NUM and c in numeric for c, k in enumerate(kinds))
    return sum(1 for k in kinds if k) >= 2


def footer_start(rows: list[list], types: list[int]) -> int:
    """Index into `rows` (the body, top to bottom) where the notes below the data begin.

    Notes are the lines after the last row with a number in a numeric column: everything after
    the first blank line that follows it, if those lines are short text lines; otherwise only
    the trailing lines that read like notes ("Source: ...", "© ...", "1. ...").
    """
    numeric = _numeric_columns(types)
    last = None
    for i in range(len(rows) - 1, -1, -1):  # from the bottom: usually one row is enough
        if _holds_data([cell_kind(v) for v in rows[i]], numeric):
            last = i
            break
    if last is None:
        return len(rows)
    kinds = {i: [cell_kind(v) for v in rows[i]] for i in range(last + 1, len(rows))}
    blank = next((i for i in range(last + 1, len(rows)) if not any(kinds[i])), None)
    if blank is not None:
        tail = [kinds[i] for i in range(blank, len(rows)) if any(kinds[i])]
        if all(sum(1 for k in r if k) <= 3 for r in tail):
            return blank
    end = len(rows)
    while end > last + 1:
        row = rows[end - 1]
        filled = [v for v in row if cell_kind(v) != BLANK]
        if filled and not is_note_text(filled[0]):
            break
        end -= 1
    return end
