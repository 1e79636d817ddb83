"""Report sections of a family of releases: what changed between two releases, and the
provenance appendix every PDF ends with. Same conventions as `sections`: dicts read
defensively, user text escaped, LaTeX returned."""

from __future__ import annotations

from dataclasses import dataclass

from rendition.latex.escape import breakable
from rendition.latex.tables import MISSING, facts_table, format_number, long_table


@dataclass(frozen=True)
class ChangesSection:
    """What changed between two releases (a `changes` result dict), limited to the series the
    report's numbers use when `series` is given: periods added, series renamed or gone, values
    revised beyond the threshold, rebasings."""

    result: dict
    series: tuple = ()
    title: str = ""
    limit: int = 40


@dataclass(frozen=True)
class ProvenanceSection:
    """The appendix every PDF ends with: where each number came from (`key: value` lines)."""

    lines: tuple
    title: str = "Provenance"


def render_changes(section: ChangesSection, assets) -> tuple[str, str]:
    r = _as_dict(section.result)
    wanted = set(section.series)

    def used(name: object) -> bool:
        return not wanted or str(name) in wanted

    previous, latest = r.get("previous") or MISSING, r.get("latest") or MISSING
    title = section.title or f"What changed: {latest} against {previous}"
    added = [str(p) for p in _as_list(r.get("periods_added"))]
    facts = [("Releases", f"{previous} → {latest}"),
             ("Periods added", f"{len(added)}: {added[0]} to {added[-1]}" if added else "none")]
    renamed = [f"{x.get('from')} → {x.get('to')}" for x in _as_list(r.get("series_renamed"))
               if isinstance(x, dict) and (used(x.get("to")) or used(x.get("from")))]
    for label, key in (("Series added", "series_added"), ("Series removed", "series_removed")):
        names = [str(n) for n in _as_list(r.get(key)) if used(n)]
        facts.append((label, ", ".join(names) or "none"))
    facts.append(("Series renamed", ", ".join(renamed) or "none"))
    rebased = [f"{x.get('series')} × {format_number(x.get('factor'))}"
               for x in _as_list(r.get("rebased")) if isinstance(x, dict) and used(x.get("series"))]
    if rebased:
        facts.append(("Rebased", ", ".join(rebased)))
    body = facts_table(facts, label_em=9.0)
    revised = [x for x in _as_list(r.get("revised"))
               if isinstance(x, dict) and used(x.get("series"))]
    revised.sort(key=lambda x: -abs(x.get("change_pct") or 0))
    scope = "of the series this report uses " if wanted else ""
    body += _para(f"{len(revised)} values {scope}were revised by more than "
                       f"{format_number(r.get('threshold_pct', 1.0))} %"
                       + (f"; the largest {section.limit} are listed." if len(revised)
                          > section.limit else "."))
    if revised:
        rows = [[x.get("series"), x.get("period"), x.get("previous"), x.get("latest"),
                 x.get("change_pct")] for x in revised[:section.limit]]
        body += long_table(["Series", "Period", str(previous), str(latest), "Change %"], rows,
                           [False, False, True, True, True], "Revisions beyond the threshold")
    return title, body


def render_provenance(section: ProvenanceSection, assets) -> tuple[str, str]:
    lines = "".join(breakable(str(line)) + "\\\\\n" for line in section.lines)
    return section.title or "Provenance", "{\\footnotesize\n" + lines + "}\n"


def _as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _para(text: str) -> str:
    return breakable(text) + "\n\n"
