"""Exuberance tests (issue 15): GSADF with date-stamping and its Monte-Carlo critical values.

Targets: GSADF + BSADF date-stamping for all 26 series of the 2020Q1 HPI sheet (181 quarters,
lag 1) ≤ 2 s with the critical values cached; the critical-value job for T = 181 with 2,000
replications ≤ 60 s, submitted to the embedded job engine and timed to its final state.
For comparison the table also prints the simulated SADF/GSADF critical values for PSY's (2015)
Table 1 settings T = 100 (r0 = 0.190) and T = 200 (r0 = 0.137), lag 0 — compare them with the paper.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from analysis.exuberance import exuberance
from analysis.exuberance_cv import default_window, simulate
from bench.bench_jobs import make_app, owner_of
from bench.table import print_table, row, timings
from tests.stats_fixtures import dallas


def cv_job_seconds(reps: int = 2000) -> float:
    """Submit the exuberance_cv job for T = 181 and wait for its final state."""
    import jobs
    from jobs.critical_values import job_params
    from store.db import db
    from store.models import Job

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        owner = owner_of(app)
        with app.app_context():
            started = time.perf_counter()
            job_id = jobs.submit("exuberance_cv", job_params(181, 26, 1, reps), owner).id
            while True:
                time.sleep(0.1)
                job = db.session.get(Job, job_id, populate_existing=True)
                db.session.commit()
                if job.state in jobs.FINAL:
                    break
            if job.state != "done":
                raise RuntimeError(f"the critical-value job ended {job.state}: {job.error}")
            return time.perf_counter() - started


def main() -> None:
    hpi = dallas("HPI")
    cached = {}

    def lookup(t, window, lag, reps):
        if (t, window, lag) not in cached:
            cached[(t, window, lag)] = simulate(t, window, lag, reps)
        return cached[(t, window, lag)]

    exuberance(hpi, "HPI", None, lookup)  # simulate once, outside the timing
    rows = [row("GSADF + date-stamping, 26 HPI series (cached CVs)",
                timings(lambda: exuberance(hpi, "HPI", None, lookup), repeat=5), 2000)]
    rows.append(row("critical-value job T=181, 2,000 reps (embedded engine)",
                    [cv_job_seconds() * 1000], 60_000))
    print_table(rows)
    for t in (100, 200):
        cv = simulate(t, default_window(t), lag=0, reps=2000)
        print(f"T={t} window={cv.window} lag 0, 2,000 reps: SADF 90/95/99 % "
              f"{', '.join(f'{v:.2f}' for v in cv.sadf)}; GSADF "
              f"{', '.join(f'{v:.2f}' for v in cv.gsadf)}")


if __name__ == "__main__":
    main()
