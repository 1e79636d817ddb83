"""Vintages over a family of 36 quarterly Dallas Fed releases (issue 14).

Targets: `vintages` for one series over 36 releases ≤ 300 ms cold (nothing cached: the series
matched, the vintages computed and turned into JSON; reading the 36 stored sheets is shown
apart) and ≤ 20 ms cached (the web layer's LruCache holds the result; shown too: the series map
kept and the vintages computed again);
`revisions` for every series of a sheet over 36 releases ≤ 2 s. The releases are made by
`bench.dallas_releases` from the two real workbooks and cached in the temp directory.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from analysis.vintages import ReleaseSheet, changes, match_series, revisions, vintages
from bench.dallas_releases import make_releases
from bench.table import print_table, row, timings
from rendition.charts.vintage_charts import render_revision_heatmap, render_vintage_fan
from upload.pipeline import parse_file, read_sheet
from web.lru_cache import LruCache

CACHE = Path(tempfile.gettempdir()) / "quartile-bench-vintages"
SHEET, SERIES = "HPI", "US"


def stored_family(count: int = 36) -> list[tuple[str, Path]]:
    """(release label, stored HPI parquet path) for each release, parsed once and cached."""
    paths = make_releases(CACHE / "xlsx", count)
    out = []
    for path in paths:
        label = path.stem
        store = CACHE / "stored" / label
        marker = store / "HPI.path"
        if not marker.exists():
            store.mkdir(parents=True, exist_ok=True)
            parsed = parse_file(path, path.name, store)
            sheet = next(s for s in parsed.sheets if s.name == SHEET)
            marker.write_text(sheet.parquet)
        out.append((label, store / marker.read_text()))
    return out


def main() -> None:
    started = time.perf_counter()
    family = stored_family()
    print(f"(36 releases made and stored in {time.perf_counter() - started:.1f} s, "
          f"cached in {CACHE})")

    def load() -> list[ReleaseSheet]:
        return [ReleaseSheet(label, read_sheet(path), SHEET) for label, path in family]

    releases = load()
    found = match_series(releases)
    assert len(found.releases) == 36 and found.line(SERIES)

    def cold_vintages():
        return json.dumps(vintages(releases, match_series(releases), SERIES).to_dict())

    def cold_from_store():
        fresh = load()
        return json.dumps(vintages(fresh, match_series(fresh), SERIES).to_dict())

    cache = LruCache(max_entries=64)

    def cached_vintages():
        return json.dumps(cache.get_or_compute(("family", SHEET, SERIES),
                                               lambda: vintages(releases, found,
                                                                SERIES).to_dict()))

    def all_revisions():
        return json.dumps(revisions(releases, match_series(releases)).to_dict())

    rows = [
        row("read 36 stored HPI sheets (parquet)", timings(load, 5), None),
        row("match_series, HPI, 36 releases", timings(lambda: match_series(releases), 5), None),
        row("vintages cold: match + compute + JSON", timings(cold_vintages, 10), 300),
        row("vintages cold, sheets read from the store too", timings(cold_from_store, 5), None),
        row("vintages, series map cached: compute + JSON",
            timings(lambda: json.dumps(vintages(releases, found, SERIES).to_dict()), 20), 20),
        row("vintages cached (LruCache hit) + JSON", timings(cached_vintages, 20), 20),
        row("revisions, all 26 series: match + compute + JSON", timings(all_revisions, 3), 2000),
        row("revisions, one series (series map cached)",
            timings(lambda: revisions(releases, found, SERIES), 10), None),
        row("changes, newest vs previous (series map cached)",
            timings(lambda: changes(releases, found).to_dict(), 10), None),
        row("fan chart PNG, 36 releases",
            timings(lambda: render_vintage_fan(vintages(releases, found, SERIES)), 3), None),
        row("revision heat map PNG, 36 releases",
            timings(lambda: render_revision_heatmap(revisions(releases, found, SERIES),
                                                    found.line(SERIES).name), 3), None),
    ]
    print_table(rows)
