"""Warm start: pay the first-request costs at start-up, in the background.

Without it, the first upload waits for the parser's worker processes to start, the first
equation for the solver's (sympy's import and caches), the first chart for matplotlib's font
cache and figure set-up, the first page for its template to compile, the first report for its
LaTeX preamble to be precompiled. With QUARTILE_WARM_START on (the default under gunicorn and
`make run`; off for `flask run` and the tests unless asked) the app factory starts a thread
that does all of that while the server already answers;
`/healthz` says `"ready": true` once it is done, so the first request of every kind after that
costs what the tenth does.

Also sizes the two sandbox pools from the configuration (QUARTILE_PARSE_WORKERS,
QUARTILE_SOLVER_WORKERS, QUARTILE_POOL_IDLE_SECONDS, QUARTILE_POOL_KEEP_WARM).
"""

from __future__ import annotations

import gc
import io
import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask

from sandbox import release_free_memory

log = logging.getLogger("quartile.warmup")
EXTENSION = "quartile_warmup"
POOL_START_SECONDS = 180.0  # a worker that has not started by then is the pool's to retry


@dataclass
class WarmUp:
    """The warm-up's state, shared by its thread and /healthz."""

    enabled: bool
    done: threading.Event = field(default_factory=threading.Event)
    steps: dict[str, float] = field(default_factory=dict)  # step → milliseconds
    failed: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """True once warm (or when warm-up is off: there is nothing to wait for)."""
        return self.done.is_set() or not self.enabled

    def to_dict(self) -> dict:
        return {"enabled": self.enabled, "ready": self.ready,
                "steps_ms": {k: round(v, 1) for k, v in self.steps.items()},
                "failed": list(self.failed)}


def pools() -> dict:
    """The app's sandbox pools by setting name (imported here: they import pandas and sympy
    lazily in their workers, never in the server)."""
    from solver.service import POOL as SOLVER
    from upload.pipeline import POOL as PARSER

    return {"PARSE_WORKERS": PARSER, "SOLVER_WORKERS": SOLVER}


def init_app(app: Flask) -> WarmUp:
    """Size the pools from the config; start warming up in the background when asked."""
    for setting, pool in pools().items():
        pool.configure(size=app.config[setting], idle_seconds=app.config["POOL_IDLE_SECONDS"],
                       keep_warm=app.config["POOL_KEEP_WARM"])
    state = WarmUp(enabled=bool(app.config["WARM_START"]))
    app.extensions[EXTENSION] = state
    if state.enabled:
        threading.Thread(target=warm_up, args=(app, state), name="quartile-warmup",
                         daemon=True).start()
    return state


def state_of(app: Flask) -> WarmUp:
    return app.extensions[EXTENSION]


def warm_up(app: Flask, state: WarmUp) -> None:
    """Every step, timed; a step that fails is logged and skipped (the server works cold)."""
    started = time.perf_counter()
    for pool in pools().values():
        pool.start()  # processes start in the background while the steps below run
    for name, step in STEPS:
        began = time.perf_counter()
        try:
            step(app)
        except Exception:  # noqa: BLE001 - warming is an optimisation: log it, serve cold
            log.exception("warm-up step %r failed", name)
            state.failed.append(name)
        state.steps[name] = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    for pool in pools().values():
        if not pool.wait_ready(POOL_START_SECONDS):
            state.failed.append(f"{pool.name} pool")
    state.steps["pools"] = (time.perf_counter() - began) * 1000
    # What start-up built lives as long as the process: a full collection now, then out of the
    # collector's sight, so no request pays for a pass over it (~100 ms at first otherwise).
    release_free_memory()
    gc.freeze()
    state.done.set()
    log.info("warm in %.1f s (%s)", time.perf_counter() - started,
             ", ".join(f"{k} {v:.0f} ms" for k, v in state.steps.items()))


def warm_before_fork() -> None:
    """The steps that need no app (charts, statistics), for gunicorn's master before it forks:
    the modules they import lazily (Plotly's figure classes, ~180 modules) and the caches they
    fill are then shared copy-on-write, not built in every worker (~20 MB less each).
    No thread is started; open font files are not inherited for use (matplotlib empties its
    font cache in a forked child, so each worker opens its own in its own warm-up)."""
    from rendition.charts.drawing import drawing_here

    with drawing_here():  # no drawing thread: the master forks
        _charts(None)
    _statistics(None)
    release_free_memory()


# -- the steps ------------------------------------------------------------------------------
def _database(app: Flask) -> None:
    """A first connection, the ORM's mapper configuration (~150 ms on the first query) and
    its statement cache for the common reads; `mimetypes`' table, read on the first upload."""
    import mimetypes

    from sqlalchemy import select
    from sqlalchemy.orm import configure_mappers

    from store import models
    from store.db import database_reachable, db

    mimetypes.init()
    configure_mappers()
    with app.app_context():
        try:
            database_reachable()
            for model in (models.User, models.Dataset, models.Job, models.Report):
                db.session.scalars(select(model).limit(1)).first()
        finally:
            db.session.remove()


def _upload_statements(app: Flask) -> None:
    """The SQL an upload and its first chart run, compiled once (~2 ms a statement on a
    worker's first upload otherwise): the look-up of the same bytes, the dataset's INSERT, its
    reload, the owner's families and the reader's look-ups, on a throwaway user and dataset in
    a transaction that is rolled back, so nothing is stored."""
    import uuid

    from store import access
    from store.db import db
    from store.models import Chart, Dataset, Report, User
    from upload.families import families_of
    from upload.resources import dataset_dict
    from upload.service import owned_copy
    from upload.store import parse_key

    with app.app_context():
        try:
            user = User(username=f"warm-up-{uuid.uuid4().hex[:12]}", password_hash="!")
            db.session.add(user)
            db.session.flush()
            owned_copy(user.id, "0" * 64)
            dataset = Dataset(owner_id=user.id, name="warm-up.csv", sha256="0" * 64, size=0,
                              format="csv", parse_key=parse_key(None), options={},
                              meta={"sheets": []})
            db.session.add(dataset)
            db.session.flush()
            db.session.expire(dataset)  # as a commit leaves it: the response reloads it
            dataset_dict(dataset)
            families_of(user.id)
            access.readable_dataset(user.id, dataset.id)
            for model in (Chart, Report):
                access.owned_row(model, user.id, "warm-up")
        finally:
            db.session.rollback()
            db.session.remove()


def _templates(app: Flask) -> None:
    """Compile every page template once (Jinja keeps them for the app's life)."""
    env = app.jinja_env
    for name in env.list_templates(extensions=("html",)):
        env.get_template(name)


def _charts(app: Flask | None) -> None:
    """A chart of each common kind through each renderer: matplotlib's fonts, text layout and
    Agg canvas, and the blank figures PNGs of the default size (900 × 500: previews, chart
    pages) are copied from; Bokeh's and Plotly's first figure. In the master, what they make
    is shared with the workers."""
    import numpy as np
    import pandas as pd

    from rendition.charts import ChartSpec, render_bokeh, render_plotly, render_png

    quarters = pd.period_range("2000Q1", periods=12, freq="Q")
    frame = pd.DataFrame({"Area": np.arange(12.0) * 10 + 50, "Price": np.arange(12.0) ** 1.5,
                          "Rooms": np.arange(12.0) % 5, "Rent": np.arange(12.0) * 3,
                          "Kind": ["a", "b", "c"] * 4}, index=quarters)
    frames = {"warm": frame}
    specs = [
        {"kind": "line", "sheet": "warm", "y": ["Price"]},
        {"kind": "pie", "sheet": "warm", "x": "Kind"},
        {"kind": "scatter", "sheet": "warm", "x": "Area", "y": ["Price"],
         "options": {"fit": True}},
        {"kind": "bar", "sheet": "warm", "x": "Kind", "y": ["Price"]},
        {"kind": "small_multiples", "sheet": "warm", "y": ["Area", "Price", "Rooms", "Rent"]},
    ]
    for body in specs:
        render_png(ChartSpec.from_dict(body), frames)
    line = ChartSpec.from_dict(specs[0])
    render_bokeh(line, frames)
    render_plotly(line, frames)


def _statistics(app: Flask | None) -> None:
    """statsmodels' and scipy's first fit and test (lazy imports and caches inside)."""
    import numpy as np
    import pandas as pd

    from analysis.describe import describe_sheet
    from analysis.ols import ols_fit

    rng = np.random.default_rng(0)
    x = np.arange(30.0)
    frame = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=30), "k": ["a", "b", "c"] * 10},
                         index=pd.period_range("2000Q1", periods=30, freq="Q"))
    ols_fit(frame, "warm", "y ~ x").to_dict()
    describe_sheet(frame, "warm").to_dict()


def _latex(app: Flask) -> None:
    """The report preamble's pdflatex format (~0.7 s to build, once per machine and version):
    without it the first report would wait for it."""
    from rendition.latex import prepare_report_format
    from web.report_build import latex_formats

    prepare_report_format(latex_formats(app.config))


def _parquet(app: Flask) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(pd.DataFrame({"a": [1.0, 2.0]})), buf)
    buf.seek(0)
    pq.read_table(buf).to_pandas()


STEPS = [("database", _database), ("upload statements", _upload_statements),
         ("templates", _templates), ("charts", _charts),
         ("statistics", _statistics), ("latex", _latex), ("parquet", _parquet)]
