"""The cleaning log: every decision the ingestion makes, in sentences a person can check.

Entries are `{"sheet": str | None, "step": str, "detail": str}` (the API contract); `sheet` is the
cleaned sheet name, or None for decisions about the whole file (format, encoding, delimiter).
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_DETAIL = 500


class CleaningLog:
    def __init__(self) -> None:
        self.entries: list[dict] = []

    def add(self, sheet: str | None, step: str, detail: str) -> None:
        if len(detail) > MAX_DETAIL:
            detail = detail[: MAX_DETAIL - 1] + "…"
        self.entries.append({"sheet": sheet, "step": step, "detail": detail})

    def rename_sheet(self, old: str, new: str) -> None:
        """Entries written under a sheet's raw name follow it when the sheet is renamed."""
        for entry in self.entries:
            if entry["sheet"] == old:
                entry["sheet"] = new


def quote_list(items: Iterable[object], limit: int = 6) -> str:
    """'A', 'B' and 'C' — or the first `limit` and "and 12 more"."""
    items = [repr(str(i)) for i in items]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) > 1:
        return ", ".join(items[:-1]) + " and " + items[-1]
    return items[0] if items else ""


def row_list(rows: Iterable[int], limit: int = 8) -> str:
    """'row 5', 'rows 5–9', 'rows 2, 4 and 7–9' from 1-based row numbers."""
    rows = sorted(set(rows))
    spans: list[tuple[int, int]] = []
    for r in rows:
        if spans and r == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], r)
        else:
            spans.append((r, r))
    parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in spans]
    more = ""
    if len(parts) > limit:
        more = f" and {len(parts) - limit} more"
        parts = parts[:limit]
    word = "row" if len(rows) == 1 else "rows"
    if len(parts) > 1 and not more:
        return f"{word} " + ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{word} " + ", ".join(parts) + more


def column_letter(index: int) -> str:
    """0 -> 'A', 27 -> 'AB': the letters a spreadsheet shows."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
