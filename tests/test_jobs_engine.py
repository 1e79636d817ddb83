"""The embedded engine: states, progress events, cancellation, failures, and restart recovery."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

import pytest

import jobs
from errors import BadInput, Conflict
from jobs import events, lifecycle
from jobs.embedded import PROCESS_GONE, EmbeddedEngine
from store.db import db, utcnow
from store.models import Job
from tests import stack_fixtures
from tests.stack_fixtures import GATES, STEPS_SEEN, make_app_stopping_jobs, wait_for  # noqa: F401
from web.auth import local_user


@pytest.fixture
def owner(app):
    with app.app_context():
        return local_user().id


def submit(app, kind: str, params: dict, owner_id: int) -> str:
    with app.app_context():
        return jobs.submit(kind, params, owner_id).id


def row(app, job_id: str) -> dict:
    with app.app_context():
        job = db.session.get(Job, job_id)
        data = lifecycle.job_dict(job) | {"engine": job.engine}
        db.session.remove()
        return data


def wait_final(app, job_id: str, timeout: float = 10) -> dict:
    return wait_for(lambda: (r := row(app, job_id))["state"] in lifecycle.FINAL and r,
                    timeout, f"job {job_id} to finish")


def test_a_job_goes_queued_running_done_with_an_event_per_change(app, owner):
    with app.app_context():
        subscription = events.subscribe([events.user_topic(owner)], timeout=5)
    job_id = submit(app, "test_count", {"steps": 4}, owner)
    seen = []
    with subscription:
        while not seen or seen[-1]["state"] not in lifecycle.FINAL:
            change = subscription.get(5)
            assert change is not None, f"no event after {seen}"
            seen.append(change.data)
    assert {c["id"] for c in seen} == {job_id}
    states = [c["state"] for c in seen]
    assert states[0] == "queued" and states[-1] == "done"
    assert states == sorted(states, key=["queued", "running", "done"].index)
    # 4 steps report 100·k/4 percent each; "done" repeats 100.
    assert [c["progress"] for c in seen if c["state"] == "running"] == [0, 25, 50, 75, 100]
    final = row(app, job_id)
    assert final["result"] == {"steps": 4, "pid": final["result"]["pid"], "owner": owner}
    assert final["progress"] == 100 and final["message"] == "Done" and final["error"] is None
    assert final["engine"] == "embedded"
    assert final["started_at"] and final["finished_at"]


def test_cancelling_a_running_job_stops_its_task(app, owner):
    job_id = submit(app, "test_count", {"steps": 200, "delay": 0.02}, owner)
    wait_for(lambda: STEPS_SEEN.get(job_id, 0) >= 2, 10, "the job to make progress")
    with app.app_context():
        cancelled = jobs.cancel(job_id)
        assert cancelled.state == "cancelled" and cancelled.message == "Cancelled"
    time.sleep(0.5)  # the task notices at its next progress report (every 20 ms)
    stopped_at = STEPS_SEEN[job_id]
    time.sleep(0.3)
    assert STEPS_SEEN[job_id] == stopped_at < 200
    final = row(app, job_id)
    assert final["state"] == "cancelled" and final["result"] is None
    assert final["progress"] < 100


def test_a_cancelled_queued_job_never_starts(app, owner):
    GATES["busy"] = threading.Event()
    busy = [submit(app, "test_gate", {"gate": "busy"}, owner) for _ in range(2)]  # both threads
    wait_for(lambda: all(row(app, j)["state"] == "running" for j in busy), 10, "busy threads")
    waiting = submit(app, "test_count", {"steps": 1}, owner)
    assert row(app, waiting)["state"] == "queued"
    with app.app_context():
        jobs.cancel(waiting)
    GATES["busy"].set()
    for job_id in busy:
        assert wait_final(app, job_id)["state"] == "done"
    time.sleep(0.2)
    final = row(app, waiting)
    assert final["state"] == "cancelled" and final["started_at"] is None
    assert waiting not in STEPS_SEEN


def test_cancelling_a_finished_job_is_a_conflict(app, owner):
    job_id = submit(app, "test_count", {"steps": 1}, owner)
    wait_final(app, job_id)
    with app.app_context(), pytest.raises(Conflict) as caught:
        jobs.cancel(job_id)
    assert caught.value.message == ("This job has already finished (done); there is nothing "
                                    "to cancel.")
    assert row(app, job_id)["state"] == "done"


def test_a_quartile_error_in_a_task_becomes_the_jobs_error(app, owner):
    job_id = submit(app, "test_count", {"steps": 2, "fail": "Column 'p9' is gone."}, owner)
    final = wait_final(app, job_id)
    assert final["state"] == "failed"
    assert final["error"] == "Column 'p9' is gone."
    assert final["result"] is None and final["progress"] == 100  # it failed after its steps


@pytest.mark.expected_traceback
def test_an_unexpected_error_fails_the_job_and_is_logged(app, owner, caplog):
    with caplog.at_level(logging.ERROR, logger="quartile.jobs"):
        job_id = submit(app, "test_crash", {}, owner)
        final = wait_final(app, job_id)
    assert final["state"] == "failed"
    assert final["error"] == ("The job stopped with an unexpected error (ZeroDivisionError: "
                              "the test divided by zero). It has been logged.")
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)


def test_a_result_that_is_not_json_fails_the_job(app, owner):
    final = wait_final(app, submit(app, "test_not_json", {}, owner))
    assert final["state"] == "failed"
    assert final["error"].startswith("The 'test_not_json' task returned a result that is not JSON")


def test_an_unknown_kind_is_refused_before_anything_is_queued(app, owner):
    with app.app_context():
        with pytest.raises(BadInput) as caught:
            jobs.submit("sleep", {}, owner)
        assert "There is no job of kind 'sleep'" in caught.value.message
        assert db.session.query(Job).count() == 0


def _insert(app, owner, engine, state) -> str:
    with app.app_context():
        job = Job(kind="test_steps", params={}, owner_id=owner, engine=engine, state=state,
                  started_at=utcnow() if state != "queued" else None)
        db.session.add(job)
        db.session.commit()
        return job.id


def test_restart_fails_the_embedded_jobs_a_dead_server_left_behind(make_app, app, owner):
    left = {name: _insert(app, owner, engine, state) for name, engine, state in [
        ("running", "embedded", "running"), ("queued", "embedded", "queued"),
        ("done", "embedded", "done"), ("celery", "celery", "running")]}
    app.extensions[jobs.EXTENSION].shutdown()  # the first server dies
    restarted = make_app()
    for name in ("running", "queued"):
        job = row(restarted, left[name])
        assert job["state"] == "failed", name
        assert job["error"] == "The server restarted while this job was running."
        assert job["finished_at"] is not None
    assert row(restarted, left["done"])["state"] == "done"
    assert row(restarted, left["celery"])["state"] == "running"  # Celery's survive a restart


def test_a_second_live_engine_leaves_its_siblings_jobs_alone(make_app, app, owner):
    running = _insert(app, owner, "embedded", "running")
    sibling = make_app()  # a second gunicorn worker starting while the first one lives
    assert isinstance(sibling.extensions[jobs.EXTENSION], EmbeddedEngine)
    assert row(sibling, running)["state"] == "running"


def test_progress_is_clamped_and_only_changes_are_written(app, owner):
    recorded = []
    context = jobs.TaskContext("j", owner, app.config["FILES_DIR"],
                               report=lambda p, m: recorded.append((p, m)) or True,
                               is_live=lambda: True)
    for percent in (-5, 10, 10, 250):
        context.progress(percent, "step")
    assert recorded == [(0, "step"), (10, "step"), (100, "step")]
    finished = jobs.TaskContext("j", owner, app.config["FILES_DIR"],
                                report=lambda p, m: False, is_live=lambda: False)
    with pytest.raises(jobs.Cancelled):
        finished.progress(50, "late")
    with pytest.raises(jobs.Cancelled):
        finished.check_cancelled()


def test_the_test_kinds_live_in_the_fixture_module():
    from jobs.registry import kinds

    assert {"price_index", "test_steps", "test_count", "test_gate"} <= set(kinds())
    assert stack_fixtures.steps_task.__module__ == "tests.stack_fixtures"


def test_a_job_whose_worker_process_died_is_failed_by_a_sibling(app, owner):
    """Several gunicorn workers: one is killed while it runs a job. A sibling that looks at the
    job (a page, a stream) sees that the process its claimed_by names is gone, and fails it."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with app.app_context():
        job = lifecycle.create("test_steps", {}, owner, "embedded")
        lifecycle.claim(job.id)
        assert job.claimed_by == lifecycle.this_process()
        alive = lifecycle.create("test_steps", {}, owner, "embedded")
        lifecycle.claim(alive.id)
        host = lifecycle.this_process().rpartition(":")[0]
        db.session.execute(db.update(Job).where(Job.id == job.id)
                           .values(claimed_by=f"{host}:{gone.pid}"))
        db.session.commit()
        jobs.watch([db.session.get(Job, job.id), db.session.get(Job, alive.id)])
        failed, running = db.session.get(Job, job.id), db.session.get(Job, alive.id)
        assert (failed.state, failed.error) == ("failed", PROCESS_GONE)
        assert running.state == "running"  # its process (this one) lives
