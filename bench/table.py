"""The one table format every benchmark prints."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timings(fn: Callable[[], object], repeat: int, warmup: int = 1,
            clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Milliseconds of `repeat` calls after `warmup` untimed ones, by `clock` (wall time; pass
    time.process_time for CPU time)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        started = clock()
        fn()
        out.append((clock() - started) * 1000)
    return out


def row(name: str, ms: list[float], target_ms: float | None) -> tuple:
    ordered = sorted(ms)
    median = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    ok = "" if target_ms is None else ("yes" if median <= target_ms else "NO")
    return name, median, p95, target_ms, ok


def print_table(rows: list[tuple]) -> None:
    print(f"{'benchmark':<52} {'median ms':>10} {'p95 ms':>10} {'target':>8} {'ok':>4}")
    for name, median, p95, target, ok in rows:
        target_text = "" if target is None else f"{target:g}"
        print(f"{name:<52} {median:>10.1f} {p95:>10.1f} {target_text:>8} {ok:>4}")
