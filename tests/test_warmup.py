"""Warm start (issue 19): /healthz `ready` turns true when warming is done, and the first
requests after that are served by pool processes that were already started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd

import warmup
from tests.stack_fixtures import wait_for
from tests.upload_actions import DATA, UploadActions
from web.report_build import latex_formats


def healthz(client) -> tuple[dict, float]:
    began = time.perf_counter()
    response = client.get("/healthz")
    assert response.status_code == 200
    return response.get_json(), time.perf_counter() - began


def test_ready_is_false_while_warming_and_the_first_requests_find_warm_workers(
        make_app, monkeypatch):
    gate = threading.Event()  # holds the warm-up at its last step, so "not ready" is seen
    monkeypatch.setattr(warmup, "STEPS", [*warmup.STEPS, ("gate", lambda app: gate.wait(60))])
    app = make_app(WARM_START=True)
    client = app.test_client()
    body, seconds = healthz(client)
    assert body["ready"] is False and body["warm_start"]["enabled"] is True
    assert seconds < 1.0  # answers at once, never waits for the warm-up
    gate.set()
    body = wait_for(lambda: (b := healthz(client)[0])["ready"] and b, 120, "the warm start")
    assert body["warm_start"]["failed"] == []
    assert {"database", "templates", "charts", "statistics", "latex", "parquet",
            "pools"} <= set(body["warm_start"]["steps_ms"])
    assert list(latex_formats(app.config).directory.glob("report-*.fmt"))  # the first report's

    parser, solver = warmup.pools()["PARSE_WORKERS"], warmup.pools()["SOLVER_WORKERS"]
    started = (parser.spawned, solver.spawned)
    warm_pids = (set(parser.worker_pids()), set(solver.worker_pids()))
    assert len(warm_pids[0]) == parser.size and len(warm_pids[1]) == solver.size

    dataset = UploadActions(client).dataset("HousingPreferences.csv")
    solved = client.post("/api/v1/equations/solve", json={"equations": ["2*x - 4"]})
    assert solved.status_code == 200
    assert solved.get_json()["solutions"][0]["x"]["text"] == "2"
    (sheet,) = dataset["sheets"]
    assert sheet["n_rows"] == len(pd.read_csv(DATA / "HousingPreferences.csv"))
    # no process was started for them: the ones warmed at start-up served both
    assert (parser.spawned, solver.spawned) == started
    assert (set(parser.worker_pids()), set(solver.worker_pids())) == warm_pids


def test_without_warm_start_healthz_is_ready_at_once(client):
    body, _ = healthz(client)
    assert body["ready"] is True
    assert body["warm_start"] == {"enabled": False, "ready": True, "steps_ms": {},
                                  "failed": []}


def test_the_pools_are_sized_from_the_settings(make_app):
    make_app(PARSE_WORKERS=1, SOLVER_WORKERS=3, POOL_IDLE_SECONDS=90, POOL_KEEP_WARM=0)
    parser, solver = warmup.pools()["PARSE_WORKERS"], warmup.pools()["SOLVER_WORKERS"]
    try:
        assert (parser.size, solver.size) == (1, 3)
        assert parser.idle_seconds == solver.idle_seconds == 90.0
        assert parser.keep_warm == solver.keep_warm == 0
    finally:
        from config import Config

        defaults = Config()
        make_app()  # back to the defaults for the tests that follow in this process
        assert (parser.size, solver.size) == (defaults.PARSE_WORKERS, defaults.SOLVER_WORKERS)


def test_the_masters_warm_up_before_fork_shares_lazy_imports_and_starts_no_thread():
    """gunicorn's master runs the app-free warm-up steps before it forks (gunicorn.conf.py):
    what they import lazily (Plotly's figure classes, ~180 modules) is then shared by the workers;
    and the master must still have no thread of its own when it forks."""
    script = (
        "import importlib, json, os, runpy, sys\n"
        "for name in runpy.run_path('gunicorn.conf.py')['SHARED_MODULES']:\n"
        "    importlib.import_module(name)\n"
        "threads = len(os.listdir('/proc/self/task'))\n"
        "before = set(sys.modules)\n"
        "importlib.import_module('warmup').warm_before_fork()\n"
        "new = set(sys.modules) - before\n"
        "print(json.dumps([threads, len(os.listdir('/proc/self/task')),\n"
        "                  sum(m.startswith('plotly.graph_objs.') for m in new)]))\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTILE_")}
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    threads_before, threads_after, validators = json.loads(out)
    assert threads_after == threads_before
    assert validators > 50


def test_the_first_upload_and_chart_find_their_sql_compiled_and_nothing_stored(
        make_app, monkeypatch):
    """The warm-up runs the upload's statements on a throwaway user and dataset, rolled back:
    the first upload compiles no SQL of its own (~2 ms a statement), and no row is left."""
    from sqlalchemy import func, select
    from sqlalchemy.sql import compiler

    from store.db import db
    from store.models import Dataset, User

    app = make_app(WARM_START=True)
    client = app.test_client()
    wait_for(lambda: healthz(client)[0]["ready"], 120, "the warm start")
    assert "upload statements" in healthz(client)[0]["warm_start"]["steps_ms"]
    with app.app_context():  # the rollback left nothing: no user, no dataset
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(Dataset)) == 0
    client.get("/api/v1/datasets")  # the local user (AUTH off), as a browser's first page
    compiled = []
    real_init = compiler.SQLCompiler.__init__

    def counting_init(self, *args, **kwargs):
        compiled.append(type(args[1]).__name__ if len(args) > 1 else "?")
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(compiler.SQLCompiler, "__init__", counting_init)
    dataset = UploadActions(client).dataset("HousingPreferences.csv")
    pie = client.post("/api/v1/charts/preview?format=png", json={
        "dataset": dataset["id"], "sheet": "HousingPreferences", "kind": "pie",
        "x": "FurnishingStatus"})
    assert pie.status_code == 200 and pie.data.startswith(b"\x89PNG")
    assert compiled == []
