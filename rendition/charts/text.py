"""User text (column names, titles, category values) shown as literal text in every renderer.

Each library reads some strings as markup: matplotlib parses `$...$` as mathtext and hides
legend labels that start with "_"; Plotly reads a subset of HTML (`<b>`, `<br>`, `<a href>`)
and entities in names, titles, labels and hover text; Bokeh parses `$$...$$` as TeX in
titles and axis labels and treats string tooltips as HTML templates. These helpers neutralise
that, so a column named `<img src=x onerror=alert(1)>` is drawn exactly as typed.
"""

from __future__ import annotations

import html

from bokeh.models import PlainText


def mpl_text(text: str) -> str:
    """Escape `$` so mathtext stays off; matplotlib then draws the string verbatim."""
    return text.replace("$", r"\$")


def mpl_label(text: str) -> str:
    """A legend label: also keep a leading "_" from hiding the entry (matplotlib's convention)."""
    text = mpl_text(shorten(text, 60))
    return "\u200b" + text if text.startswith("_") else text


def shorten(text: str, limit: int) -> str:
    """For display only (tick labels, legends): long names would push the plot off the image."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plotly_text(text: str) -> str:
    """Escape &, < and > as entities; Plotly decodes exactly these back to literal characters."""
    return html.escape(text, quote=False)


def bokeh_text(text: str) -> PlainText:
    """A Bokeh text model that is never parsed as TeX or HTML."""
    return PlainText(text=text)
