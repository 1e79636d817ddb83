"""Tables for reports, built with pylatex: booktabs rules, long tables, numbers aligned.

Every cell goes to pylatex as an `Escaped` object, which escapes its text with `escape_latex`
when dumped; `NoEscape` wraps only our own rules and commands, never a cell. Column widths are
estimated here so that a table fits the page: text columns wrap (with break points inside very
long names) when the natural width is too much, and tables of more than MAX_COLUMNS columns are
split into parts that repeat the first column.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pylatex import LongTable, MultiColumn, NoEscape, Tabular
from pylatex.base_classes import LatexObject

from rendition.latex.escape import Latex, breakable, escape_latex, shorten, to_printable

MAX_COLUMNS = 8
NAME_LIMIT = 40
HEADER_LIMIT = 40
MISSING = "—"
FORMAT_DIGITS = 4  # significant digits of a number in a report
# Per table font size: \linewidth of the report layout (A4, 2.2 cm margins: 472.3 pt) and the
# padding of a column (2 × \tabcolsep = 10 pt), in em of that size (Latin Modern quads:
# 10, 9.25 and 8.5 pt at 11 pt; measured with \fontdimen6), less 0.5 em of slack.
FONT_SIZES = ((r"\small", 46.7, 1.0), (r"\footnotesize", 50.5, 1.08), (r"\scriptsize", 55.0, 1.18))
MIN_TEXT_EM = 5.0
WORD_FLOOR_EM = 9.0
HEADER_WRAP_EM = 6.0
KEEP_TOGETHER_ROWS = 15


class Escaped(LatexObject):
    """A cell of user text: escaped when dumped. `wrap` adds break points inside long runs:
    True for table cells, or (every, longer_than) characters for narrow boxes."""

    def __init__(self, text: object, *, wrap: bool | tuple[int, int] = False):
        # No LatexObject.__init__: it copies the (empty) package set per cell, which is most of
        # the cost of a 5,000-row table; the class-level empty set is all pylatex reads.
        self.text = "" if text is None else text
        self.wrap = wrap

    def dumps(self) -> str:
        if not self.wrap:
            return escape_latex(self.text)
        every, longer_than = self.wrap if isinstance(self.wrap, tuple) else (12, 24)
        return breakable(self.text, every, longer_than)


def format_number(value: object, digits: int = FORMAT_DIGITS) -> str:
    """Readable numbers: `digits` significant digits, thousands separators, — for missing.

    Integers, whole floats and floats of `digits` or more integer digits are shown whole
    (1,234,567; 3.0 → 3); other floats from 1e-4 to 1e9 with `digits` significant digits
    (77.44, 0.001235); the rest in scientific notation (1.235e+10).
    """
    if value is None:
        return MISSING
    if type(value) is float and 1e-4 <= abs(value) < 10 ** (digits - 1) \
            and not value.is_integer():
        rounded = float(f"{value:.{digits - 1}e}")  # the common case, without ABC checks
        if abs(rounded) < 10 ** (digits - 1):
            decimals = digits - 1 - int(math.floor(math.log10(abs(rounded))))
            return f"{rounded:.{decimals}f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return MISSING
        if number.is_integer() and abs(number) < 1e15:
            return f"{int(number):,}"  # a whole float (a count, a quartile of integers): 3
        rounded = float(f"{number:.{digits - 1}e}")  # 9.99996 → 10.00, not 10.000
        magnitude = abs(rounded)
        if magnitude >= 1e9 or magnitude < 1e-4:
            return f"{number:.{digits - 1}e}"
        if magnitude >= 10 ** (digits - 1):
            return f"{number:,.0f}"  # every integer digit: 123,457 rather than 123,500
        decimals = max(0, digits - 1 - int(math.floor(math.log10(magnitude))))
        return f"{rounded:,.{decimals}f}"
    return cell_text(value)


def cell_text(value: object, limit: int = NAME_LIMIT) -> str:
    """Printable text of a cell, at most `limit` characters, — for None."""
    text, _ = to_printable(MISSING if value is None else value)
    return shorten(text, limit)


@dataclass(frozen=True)
class _Layout:
    spec: str
    size: str
    cell_wrap: tuple[tuple[int, int] | None, ...]  # break points for cells of p columns
    header_widths: tuple[float | None, ...]  # em of a wrapped numeric header, else None


def _width_em(text: str, numeric: bool) -> float:
    return len(text) * (0.5 if numeric else 0.53)


def _runs_for(width_em: float) -> tuple[int, int]:
    """(every, longer_than) so that no unbroken piece is wider than a column of `width_em`."""
    every = max(3, int(width_em * 2 * 0.85))
    return every, every


def _longest_word_em(cells: Sequence[Sequence[str]], j: int) -> float:
    """Width of the longest space-free piece of column j, with a margin for wide letters."""
    longest = max((len(word) for row in cells for word in str(row[j]).split()), default=0)
    return 1.15 * _width_em("x" * longest, False)


def _layout(headers: Sequence[str], cells: Sequence[Sequence[str]], numeric: Sequence[bool]):
    """Column spec and font size under which the table fits the line width.

    Numbers never wrap; a numeric header wider than HEADER_WRAP_EM wraps in a box; text columns
    stay `l` when everything fits at some font size, else become ragged `p` columns sharing
    the room left (long names get break points). At the smallest size, wrapped headers give
    up width before text columns go below MIN_TEXT_EM.
    """
    n = len(headers)
    natural = [max((_width_em(row[j], numeric[j]) for row in cells), default=0.0) for j in range(n)]
    header_em = [_width_em(h, False) for h in headers]
    widths = [
        max(natural[j], min(header_em[j], HEADER_WRAP_EM), 1.5) if numeric[j]
        else max(natural[j], min(header_em[j], 12.0), 2.0)
        for j in range(n)
    ]
    text_columns = [j for j in range(n) if not numeric[j]]
    text_total = sum(widths[j] for j in text_columns)
    need = MIN_TEXT_EM * len(text_columns)
    for size, line, pad in FONT_SIZES:  # the largest size at which it fits
        chosen = size
        room = line - n * pad - sum(widths[j] for j in range(n) if numeric[j])
        if text_total <= room or room >= need:
            break
    if room < need:  # narrow the wrapped headers, never below their numbers
        for j in range(n):
            if numeric[j] and widths[j] > natural[j] and room < need:
                give = min(widths[j] - max(natural[j], 3.0), need - room)
                widths[j] -= give
                room += give
    header_widths = tuple(
        widths[j] if numeric[j] and header_em[j] > widths[j] else None for j in range(n)
    )
    if text_total <= room:
        spec = " ".join("r" if numeric[j] else "l" for j in range(n))
        return _Layout(spec, chosen, (None,) * n, header_widths)
    share = max(room, need)
    # Each text column keeps room for its longest word (up to WORD_FLOOR_EM), so "(workbook)"
    # never breaks mid-word; the rest of the room goes to the columns that are still too wide.
    floors = {j: max(MIN_TEXT_EM, min(widths[j], _longest_word_em(cells, j), WORD_FLOOR_EM))
              for j in text_columns}
    above = sum(floors.values()) - need
    if above > share - need:  # not room for every long word: shrink toward MIN_TEXT_EM
        floors = {j: MIN_TEXT_EM + (f - MIN_TEXT_EM) * (share - need) / above
                  for j, f in floors.items()}
    spare = max(share - sum(floors.values()), 0.0)
    extra = sum(max(widths[j] - floors[j], 0.0) for j in text_columns) or 1.0
    parts, wraps = [], []
    for j in range(n):
        if numeric[j]:
            parts.append("r")
            wraps.append(None)
        else:
            width = floors[j] + max(widths[j] - floors[j], 0.0) * spare / extra
            parts.append(rf">{{\raggedright\arraybackslash}}p{{{width:.1f}em}}")
            wraps.append(_runs_for(width))
    return _Layout(" ".join(parts), chosen, tuple(wraps), header_widths)


def _header_cells(headers: Sequence[str], layout: _Layout) -> list:
    cells: list = []
    for header, width in zip(headers, layout.header_widths, strict=True):
        text = shorten(header, HEADER_LIMIT)
        if width is None:
            cells.append(Escaped(text))
        else:
            align = NoEscape(rf">{{\raggedleft\arraybackslash}}b{{{width:.1f}em}}")
            cells.append(MultiColumn(1, align=align, data=Escaped(text, wrap=_runs_for(width))))
    return cells


def long_table(
    headers: Sequence[object],
    rows: Sequence[Sequence[object]],
    numeric: Sequence[bool] | None = None,
    caption: str | None = None,
    *,
    text_limit: int = NAME_LIMIT,
    same_decimals: bool = False,
) -> Latex:
    """A `longtable` that breaks across pages, repeating its header; returns LaTeX source.

    `numeric[j]` marks columns formatted by `format_number` (negative numbers with a true minus
    sign) and right-aligned; others are text, cut to `text_limit` characters.
    `same_decimals=True` gives every number of a column the same decimals (for columns of one
    scale, such as growth rates, so that decimal points line up). More than MAX_COLUMNS columns
    are split into several tables that repeat the first column. Needs the array, booktabs,
    longtable and needspace packages.
    """
    headers = ["" if h is None else str(h) for h in headers]
    numeric = list(numeric) if numeric is not None else [False] * len(headers)
    if len(numeric) != len(headers) or any(len(row) != len(headers) for row in rows):
        raise ValueError("every row and `numeric` must have one entry per header")
    if len(headers) > MAX_COLUMNS:
        return _split(headers, rows, numeric, caption, text_limit, same_decimals)
    formats = [
        column_format(row[j] for row in rows) if numeric[j] and same_decimals else format_number
        for j in range(len(headers))
    ]
    cells = [
        [_minus(formats[j](v)) if numeric[j] else cell_text(v, text_limit)
         for j, v in enumerate(row)]
        for row in rows
    ]
    layout = _layout(headers, cells, numeric)
    table = LongTable(layout.spec)
    header = _header_cells(headers, layout)
    width = len(headers)
    for first in (True, False):
        if caption:
            title = caption if first else f"{caption} (continued)"
            table.append(NoEscape(r"\caption" + ("" if first else "[]") + "{"))
            table.append(Escaped(title))
            table.append(NoEscape(r"}\\"))
        table.append(NoEscape(r"\toprule"))
        table.add_row(header)
        table.append(NoEscape(r"\midrule"))
        table.append(NoEscape(r"\endfirsthead" if first else r"\endhead"))
    table.append(NoEscape(r"\midrule"))
    table.append(NoEscape(
        rf"\multicolumn{{{width}}}{{r}}{{\footnotesize\itshape continued on the next page}}\\"
    ))
    table.append(NoEscape(r"\endfoot"))
    table.append(NoEscape(r"\bottomrule"))
    table.append(NoEscape(r"\endlastfoot"))
    if not cells:
        table.append(NoEscape(rf"\multicolumn{{{width}}}{{l}}{{\itshape No rows.}}\\"))
    for row in cells:
        table.add_row(
            [Escaped(text, wrap=wrap or False) for text, wrap in zip(row, layout.cell_wrap,
                                                                    strict=True)]
        )
    setup = "{" + layout.size + r"\setlength{\tabcolsep}{5pt}" + "\n"
    if len(cells) <= KEEP_TOGETHER_ROWS:  # short tables move to the next page whole
        setup += rf"\needspace{{{len(cells) + 5}\baselineskip}}" + "\n"
    # longtable steps the table counter even without a caption: give the number back.
    after = "" if caption else r"\addtocounter{table}{-1}" + "\n"
    return Latex(setup + table.dumps() + "\n" + after + "}\n")


def _minus(text: str) -> str:
    """-1.5 → −1.5: a minus sign as wide as the digits, not a hyphen."""
    return "\u2212" + text[1:] if text.startswith("-") else text


def column_format(values) -> Callable[[object], str]:
    """format_number with the decimals that give the column's largest finite magnitude
    FORMAT_DIGITS significant digits, for every value of the column."""
    finite = [abs(float(v)) for v in values if isinstance(v, numbers.Real)
              and not isinstance(v, bool) and math.isfinite(v)]
    largest = max(finite, default=0.0)
    if not largest or largest >= 1e9 or largest < 1e-4:
        return format_number
    decimals = max(0, FORMAT_DIGITS - 1 - int(math.floor(math.log10(largest))))

    def fixed(value: object) -> str:
        if isinstance(value, numbers.Real) and not isinstance(value, bool) \
                and math.isfinite(value):
            return f"{float(value):,.{decimals}f}"
        return format_number(value)

    return fixed


def _split(headers, rows, numeric, caption, text_limit, same_decimals) -> Latex:
    step = MAX_COLUMNS - 1
    total = len(headers)
    parts = []
    for start in range(1, total, step):
        keep = [0, *range(start, min(start + step, total))]
        label = f"columns {start + 1}–{keep[-1] + 1} of {total}"
        parts.append(
            long_table(
                [headers[i] for i in keep],
                [[row[i] for i in keep] for row in rows],
                [numeric[i] for i in keep],
                f"{caption} ({label})" if caption else None,
                text_limit=text_limit,
                same_decimals=same_decimals,
            )
        )
    return Latex("\n".join(parts))


def facts_table(facts: Sequence[tuple[str, object]], *, label_em: float = 9.0) -> Latex:
    """Label–value pairs (provenance, model fit) as a small two-column table without rules.

    Values that are `Latex` (our own markup) are kept; everything else is escaped and may wrap.
    """
    value_em = FONT_SIZES[0][1] - label_em - 0.9  # 2 × the default \tabcolsep (12 pt), less slack
    ragged = r">{\raggedright\arraybackslash}"
    spec = rf"@{{}}{ragged}p{{{label_em:.1f}em}}{ragged}p{{{value_em:.1f}em}}@{{}}"
    table = Tabular(NoEscape(spec))
    for label, value in facts:
        shown = value if isinstance(value, Latex) else Escaped(
            _minus(format_number(value)) if isinstance(value, numbers.Real)
            else cell_text(value, 600),
            wrap=True,
        )
        table.add_row([Escaped(label), _Markup(shown) if isinstance(shown, Latex) else shown])
    return Latex(r"{\small" + "\n" + table.dumps() + "\n}\n\n")


class _Markup(LatexObject):
    """Our own LaTeX (already escaped where it holds user text) as a pylatex cell."""

    def __init__(self, latex: Latex):
        self.latex = latex
        super().__init__()

    def dumps(self) -> str:
        return str(self.latex)
