"""Jobs: submit → done for a trivial job, and SSE event latency.

Targets (issue 10): a trivial job submit → done ≤ 20 ms on the embedded engine and ≤ 100 ms
(median) through Celery + Redis; an event published → received by an SSE client ≤ 100 ms.
The Celery and Redis figures use a private redis-server and a real worker (as the stack tests do).
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from bench.table import print_table, row

TRIVIAL = ("test_count", {"steps": 0})  # a registered kind that returns at once


def make_app(files: Path, **overrides):
    from app import create_app

    return create_app({"FILES_DIR": files, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{files}/b.db",
                       "AUTH": "off", "TESTING": True, **overrides})


def owner_of(app) -> int:
    from web.auth import local_user

    with app.app_context():
        return local_user().id


def submit_to_done(app, repeat: int, warmup: int) -> list[float]:
    """Milliseconds from submit() to the "done" event on the owner's topic."""
    import jobs
    from jobs import events

    owner = owner_of(app)
    with app.app_context():
        subscription = events.subscribe([events.user_topic(owner)], timeout=10)
    timings = []
    with subscription:
        for n in range(warmup + repeat):
            started = time.perf_counter()
            with app.app_context():
                job_id = jobs.submit(*TRIVIAL, owner).id
            while True:
                event = subscription.get(30)
                if event is None:
                    raise RuntimeError(f"job {job_id} did not finish")
                if event.data.get("id") == job_id and event.data.get("state") in jobs.FINAL:
                    break
            if n >= warmup:
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def sse_latency(app, host: str, port: int, repeat: int) -> list[float]:
    """Milliseconds from publish_change() here to its data line at a raw SSE client."""
    from jobs import events

    owner = owner_of(app)
    client = socket.create_connection((host, port), timeout=10)
    client.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   "Accept: text/event-stream\r\n\r\n".encode())
    reader = client.makefile("rb")
    while b"connected" not in reader.readline():  # the stream is open and subscribed
        pass
    timings = []
    for n in range(repeat):
        started = time.perf_counter()
        with app.app_context():
            events.publish_change(owner, "bench", n)
        while not reader.readline().startswith(b"data:"):
            pass
        timings.append((time.perf_counter() - started) * 1000)
    reader.close()
    client.close()
    return timings


def embedded_rows(work: Path) -> list[tuple]:
    from werkzeug.serving import make_server

    import tests.stack_fixtures  # noqa: F401  (registers the trivial kind)

    app = make_app(work / "embedded")
    rows = [row("embedded: submit → done, trivial job", submit_to_done(app, 200, 20), 20)]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rows.append(row("SSE latency, in-process broker (dev server)",
                        sse_latency(app, "127.0.0.1", server.server_port, 200), 100))
    finally:
        server.shutdown()
    return rows


def celery_rows(work: Path) -> list[tuple]:
    from tests.stack_fixtures import RedisServer, Stack, stop_process

    files = work / "celery"
    files.mkdir()
    (work / "logs").mkdir()
    (work / "redis").mkdir()
    make_app(files)  # migrate the database the worker and gunicorn will share
    stack = Stack(files, f"sqlite:///{files}/b.db", RedisServer(work / "redis").start(),
                  work / "logs")
    try:
        stack.start_worker()
        app = make_app(files, **{k: v for k, v in stack.app_settings().items()
                                 if k not in ("FILES_DIR", "SQLALCHEMY_DATABASE_URI")})
        rows = [row("celery + redis: submit → done, trivial job",
                    submit_to_done(app, 100, 10), 100)]
        process, url = stack.start_gunicorn(workers=1, threads=8)
        try:
            host, port = url.removeprefix("http://").split(":")
            _wait_healthy(url)
            rows.append(row("SSE latency, Redis pub/sub (gunicorn)",
                            sse_latency(app, host, int(port), 200), 100))
        finally:
            stop_process(process)
        return rows
    finally:
        stack.stop_worker()
        stack.redis.stop()


def _wait_healthy(url: str) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    print_table(embedded_rows(work) + celery_rows(work))


if __name__ == "__main__":
    main()
