"""The alert and link records of a first look, and how their numbers read in a sentence."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """Where an alert is shown: `page` is "analysis" (params: kind and its parameters) or
    "chart" (the chart builder: kind, sheet, x, y); the web layer turns it into a URL."""

    label: str
    page: str
    params: dict

    def to_dict(self) -> dict:
        return {"label": self.label, "page": self.page, "params": self.params}


@dataclass(frozen=True)
class Alert:
    """One finding: `kind` (missing, constant, near_constant, correlation, outliers,
    stops_early, gaps, starts_late), `severity` (warning or note), the columns it is about,
    a sentence for people, its figures for programs, and links to what shows it."""

    kind: str
    severity: str
    title: str
    columns: tuple[str, ...]
    message: str
    figures: dict
    links: tuple[Link, ...]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "title": self.title,
                "columns": list(self.columns), "message": self.message,
                "figures": self.figures, "links": [link.to_dict() for link in self.links]}


def number_text(value: float) -> str:
    """Whole numbers with thousands separators, others to 4 significant digits."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e4 and abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def percent_text(share: float) -> str:
    return f"{100 * share:.1f} %"


MAX_NAMED = 3  # columns named in a sentence; the alert's `columns` list them all


def names_text(names: list[str] | tuple[str, ...]) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    return shown + (f" and {len(names) - MAX_NAMED:,} more" if len(names) > MAX_NAMED else "")


def count_text(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
