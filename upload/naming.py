"""Names people can type: sheet names and column names, stripped, unique, of sane length.

Names are text and nothing else — `<script>`, `../../etc/passwd` or `\\input{...}` are kept as
written (escaping is the job of whatever displays them) and never used to build a file path.
"""

from __future__ import annotations

import re
import unicodedata

from upload.cleaning_log import CleaningLog, quote_list
from upload.coerce import as_text

MAX_NAME = 200
_FOOTNOTE = re.compile(r"^(.*(?:[a-z]{3,}|\)))(\d{1,2})$")


def tidy_text(value: object) -> str:
    """One line of printable text: control characters dropped, runs of spaces collapsed."""
    if value is None or isinstance(value, float) and value != value:
        return ""
    text = as_text(value) if not isinstance(value, str) else value
    if not text.isprintable():  # a printable text has no control or space character but " "
        text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


def sheet_names(raw: list[str], log: CleaningLog) -> list[str]:
    """Cleaned, unique sheet names in workbook order ('HPI ' -> 'HPI')."""
    out: list[str] = []
    for number, name in enumerate(raw, start=1):
        clean = tidy_text(name) or f"Sheet {number}"
        if len(clean) > MAX_NAME:
            clean = clean[:MAX_NAME].rstrip()
            log.add(name, "sheet name", f"The sheet name was {len(name)} characters long; it "
                    f"was cut to its first {MAX_NAME}.")
        clean = _unique(clean, set(out))
        if clean != name and len(name) <= MAX_NAME:
            log.add(name, "sheet name", f"Sheet {name!r} is called {clean!r} here "
                    "(spaces and invisible characters removed).")
        out.append(clean)
    return out


def _unique(name: str, used: set[str]) -> str:
    if name not in used:
        return name
    n = 2
    while f"{name} ({n})" in used:
        n += 1
    return f"{name} ({n})"


def header_texts(header: list[list], width: int) -> list[list[str]]:
    """The header rows as tidy text, each padded to `width` cells."""
    return [[tidy_text(v) for v in row[:width]] + [""] * (width - len(row)) for row in header]


def column_names(
    header: list[list], positions: list[int], sheet: str, log: CleaningLog, *,
    strip_footnotes: bool,
) -> tuple[list[str], list[str | None]]:
    """(names, originals) for the columns at `positions` (0-based) from the header rows.

    Several header rows are joined per column ("All Houses (UK)" + "Index" -> "All Houses (UK)
    Index"); a row that repeats one text over every column is a caption, not a name part. A
    column without a header is named column_N after its position (N counted from 1).
    """
    width = max(positions, default=-1) + 1
    rows = [[row[c] for c in positions] for row in header_texts(header, width)]
    if len(rows) > 1:
        captions = [r for r in rows if _is_caption(r)]
        if captions and len(captions) < len(rows):
            rows = [r for r in rows if not _is_caption(r)]
            log.add(sheet, "column names", "Header row text repeated over every column was "
                    f"left out of the names: {quote_list(c for r in captions for c in r[1:2])}.")
    originals: list[str | None] = []
    names: list[str] = []
    footnotes: list[tuple[str, str]] = []
    for i, position in enumerate(positions):
        parts: list[str] = []
        for row in rows:
            if row[i] and (not parts or parts[-1] != row[i]):
                parts.append(row[i])
        originals.append(" ".join(parts) or None)
        if strip_footnotes:
            parts = [_strip_footnote(p, footnotes) for p in parts]
        names.append(" ".join(parts) or f"column_{position + 1}")
    names = _finish(names, sheet, log)
    if footnotes:
        log.add(sheet, "column names", "Footnote numbers stuck to header words were removed: "
                + ", ".join(f"{a!r} → {b!r}" for a, b in footnotes[:6])
                + (f" and {len(footnotes) - 6} more" if len(footnotes) > 6 else "") + ".")
    return names, originals


def _is_caption(row: list[str]) -> bool:
    cells = [v for v in row[1:] if v]
    return len(cells) >= 3 and len(set(cells)) == 1 and len(cells) >= 0.8 * (len(row) - 1)


def _strip_footnote(part: str, found: list[tuple[str, str]]) -> str:
    match = _FOOTNOTE.match(part)
    if not match:
        return part
    if (part, match[1]) not in found:
        found.append((part, match[1]))
    return match[1]


def _finish(names: list[str], sheet: str, log: CleaningLog) -> list[str]:
    out: list[str] = []
    long: list[str] = []
    renamed: list[tuple[str, str]] = []
    used: set[str] = set()
    for name in names:
        if len(name) > MAX_NAME:
            long.append(name[:40] + "…")
            name = name[:MAX_NAME].rstrip()
        unique = name
        if name in used:
            unique = _numbered(name, used)
            renamed.append((name, unique))
        used.add(unique)
        out.append(unique)
    if long:
        log.add(sheet, "column names", f"{len(long)} column name(s) longer than {MAX_NAME} "
                f"characters were cut: {quote_list(long)}.")
    if renamed:
        log.add(sheet, "column names", "Repeated column names were numbered: "
                + ", ".join(f"{a!r} again is {b!r}" for a, b in renamed[:6])
                + (f" and {len(renamed) - 6} more" if len(renamed) > 6 else "") + ".")
    return out


def _numbered(name: str, used: set[str]) -> str:
    n = 2
    while f"{name}_{n}" in used:
        n += 1
    return f"{name}_{n}"
