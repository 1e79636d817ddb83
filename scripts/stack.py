"""`make stack` (or `python scripts/stack.py`): Quartile's distributed deployment on one machine.

SeaweedFS as the S3 object store (scripts/seaweed.py), a private redis-server (or
QUARTILE_REDIS_URL), your PostgreSQL (QUARTILE_DATABASE_URL, migrated here once), two gunicorn
app nodes and one Celery worker. Each node and the worker has its OWN empty files and cache
directory: they share only PostgreSQL, Redis and the object store, exactly as separate machines
behind a load balancer would. It runs in the foreground, prints the URLs, and stops everything
on Ctrl-C or SIGTERM.

    QUARTILE_DATABASE_URL=postgresql+psycopg://user@host/db make stack
    .venv/bin/python scripts/stack.py --ports 8001 8002 --app-workers 2

Importable: tests/test_stack_nodes.py and bench/bench_nodes.py start a DistributedStack.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from scripts.launch import (  # noqa: E402
    RedisServer,
    base_env,
    free_port,
    logged,
    start_celery_worker,
    start_gunicorn,
    stop_process,
    venv_tool,
)
from scripts.seaweed import SeaweedServer  # noqa: E402

NEEDS_POSTGRES = (
    "The distributed stack needs PostgreSQL, shared by every node and worker (SQLite lives on "
    "one machine). Set QUARTILE_DATABASE_URL, e.g.\n"
    "  QUARTILE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/quartile make stack")


STORAGE_PREFIX = "quartile"  # objects go under s3://<bucket>/quartile/


class StackError(Exception):
    """A setting the stack cannot run with; the command line prints it and exits 2."""


def require_postgres(url: str | None) -> str:
    if not url:
        raise StackError("QUARTILE_DATABASE_URL is not set.\n" + NEEDS_POSTGRES)
    if not make_url(url).get_backend_name().startswith("postgresql"):
        raise StackError(f"QUARTILE_DATABASE_URL is {make_url(url).get_backend_name()}.\n"
                         + NEEDS_POSTGRES)
    return url


@dataclass
class Node:
    """One gunicorn app node: a port and a directory of its own (files dir + read cache)."""

    name: str
    port: int
    home: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home.parent / "logs" / f"{self.name}.log"


class DistributedStack:
    """Object store, Redis, migrations, one Celery worker and two app nodes; start(), stop()."""

    def __init__(self, workdir: Path, database_url: str, *, redis_url: str | None = None,
                 ports: tuple[int | None, int | None] = (None, None), app_workers: int = 2,
                 threads: int = 16, worker_concurrency: int | None = None,
                 secret_key: str | None = None, settings: dict | None = None):
        self.workdir = Path(workdir)
        self.database_url = require_postgres(database_url)
        self.redis_url = redis_url
        self.redis: RedisServer | None = None
        self.object_store = SeaweedServer(self.workdir / "seaweed")
        self.storage_url = self.object_store.storage_url(STORAGE_PREFIX)
        self.nodes = [Node(name, port or free_port(), self.workdir / name)
                      for name, port in zip(("node-a", "node-b"), ports, strict=True)]
        self.worker_home = self.workdir / "worker"
        self.worker: subprocess.Popen | None = None
        self.app_workers, self.threads = app_workers, threads
        self.worker_concurrency = worker_concurrency or os.cpu_count() or 1
        self.secret_key = secret_key or secrets.token_hex(32)
        self.settings = dict(settings or {})  # more QUARTILE_* for every process

    # -- the shared services ---------------------------------------------------------------
    def start(self) -> DistributedStack:
        try:
            self.object_store.start()
            if not self.redis_url:
                self.redis = RedisServer(self.workdir / "redis").start()
                self.redis_url = self.redis.url
            self.migrate()
            for node in self.nodes:  # the nodes boot while the worker starts
                self.start_node(node, wait=False)
            self.start_worker()
            for node in self.nodes:
                self.wait_healthy(node)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            self.stop_node(node)
        self.stop_worker()
        if self.redis is not None:
            self.redis.stop()
        self.object_store.stop()

    def __enter__(self) -> DistributedStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, home: Path, **more: str) -> dict:
        """The environment of a node or worker whose own directory is `home`."""
        return base_env(**{
            **self.settings,
            **self.object_store.env(),
            "QUARTILE_STORAGE_URL": self.storage_url,
            "QUARTILE_DATABASE_URL": self.database_url,
            "QUARTILE_REDIS_URL": self.redis_url or "",
            "QUARTILE_JOB_ENGINE": "celery",
            "QUARTILE_SECRET_KEY": self.secret_key,
            "QUARTILE_AUTO_MIGRATE": "0",  # migrate() did, once for all
            "QUARTILE_FILES_DIR": str(home / "files"),
            "QUARTILE_CACHE_DIR": str(home / "cache"),
            **more,
        })

    def migrate(self) -> None:
        """`flask db upgrade` once, before any node starts (nodes do not migrate at start-up:
        several of them would race on the shared database)."""
        home = self.workdir / "migrate"
        log = self.workdir / "logs" / "migrate.log"
        process = logged([venv_tool("flask"), "--app", "app", "db", "upgrade"],
                         self.env(home), log)
        if process.wait(300) != 0:
            raise RuntimeError("the database migration failed:\n" + log.read_text()[-3000:])

    # -- the worker and the nodes ----------------------------------------------------------
    def start_worker(self) -> subprocess.Popen:
        self.worker = start_celery_worker(self.env(self.worker_home),
                                          self.workdir / "logs" / "worker.log",
                                          concurrency=self.worker_concurrency)
        return self.worker

    def stop_worker(self, sig: int = signal.SIGTERM) -> None:
        stop_process(self.worker, sig)
        self.worker = None

    def start_node(self, node: Node, wait: bool = True) -> Node:
        """Start a node's gunicorn; with `wait`, return once all its workers are ready."""
        node.process = start_gunicorn(self.env(node.home), node.port, node.log,
                                      self.app_workers, self.threads, timeout=None)
        if wait:
            self.wait_healthy(node)
        return node

    def stop_node(self, node: Node, sig: int = signal.SIGTERM) -> None:
        stop_process(node.process, sig)
        node.process = None

    def wait_healthy(self, node: Node, timeout: float = 180) -> None:
        """Until /healthz answers 200 with `ready` on as many fresh connections as the node has
        workers (each connection may reach another worker)."""
        deadline, in_a_row = time.monotonic() + timeout, 0
        while in_a_row < 2 * self.app_workers:
            if node.process is None or node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited:\n" + node.log.read_text()[-3000:])
            if time.monotonic() > deadline:
                raise TimeoutError(f"{node.name} was not ready after {timeout} s")
            try:
                answer = requests.get(f"{node.url}/healthz", timeout=5)
                ready = answer.status_code == 200 and answer.json()["ready"]
            except (requests.RequestException, ValueError):
                ready = False
            in_a_row = in_a_row + 1 if ready else 0
            time.sleep(0.05 if ready else 0.2)

    def processes(self) -> dict[str, subprocess.Popen | None]:
        return {**{node.name: node.process for node in self.nodes}, "worker": self.worker,
                "redis": self.redis.process if self.redis else None,
                "object store": self.object_store.process}

    def describe(self) -> str:
        database = make_url(self.database_url).render_as_string(hide_password=True)
        lines = [f"  {node.name}        {node.url}   (files and cache under {node.home})"
                 for node in self.nodes]
        lines += [
            f"  worker        Celery, concurrency {self.worker_concurrency} "
            f"(files and cache under {self.worker_home})",
            f"  object store  {self.object_store.endpoint_url}   "
            f"{self.storage_url}",
            f"  redis         {self.redis_url}",
            f"  database      {database}",
            f"  logs          {self.workdir / 'logs'}",
        ]
        return "\n".join(lines)


# -- the command line ------------------------------------------------------------------------
ROLE_SETTINGS = ("QUARTILE_FILES_DIR", "QUARTILE_CACHE_DIR", "QUARTILE_BIND",
                 "QUARTILE_WORKERS", "QUARTILE_THREADS", "QUARTILE_STORAGE_URL",
                 "QUARTILE_S3_ENDPOINT_URL", "QUARTILE_JOB_ENGINE", "QUARTILE_AUTO_MIGRATE")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, nargs=2, metavar=("A", "B"),
                        help="the app nodes' ports (default: free ones)")
    parser.add_argument("--app-workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn workers per node (default: one per core)")
    parser.add_argument("--worker-concurrency", type=int, default=os.cpu_count() or 1,
                        help="Celery worker processes (default: one per core)")
    parser.add_argument("--workdir", type=Path,
                        help="where the nodes', worker's and services' directories go "
                             "(default: a temporary directory, removed at the end)")
    return parser.parse_args(argv)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the stack as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        database_url = require_postgres(os.environ.get("QUARTILE_DATABASE_URL"))
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="quartile-stack-"))
    settings = {k: v for k, v in os.environ.items()
                if k.startswith("QUARTILE_") and k not in ROLE_SETTINGS}
    stack = DistributedStack(
        workdir, database_url, redis_url=os.environ.get("QUARTILE_REDIS_URL") or None,
        ports=tuple(args.ports or (None, None)), app_workers=args.app_workers,
        worker_concurrency=args.worker_concurrency,
        secret_key=os.environ.get("QUARTILE_SECRET_KEY"), settings=settings)
    signal.signal(signal.SIGTERM, _interrupt)
    print("stack: starting SeaweedFS, Redis, migrations, a Celery worker and two app nodes…",
          flush=True)
    try:
        stack.start()
        print("Quartile's distributed stack is up (Ctrl-C stops it):\n" + stack.describe(),
              flush=True)
        while True:
            gone = [name for name, p in stack.processes().items()
                    if p is not None and p.poll() is not None]
            if gone:
                print(f"stack: {', '.join(gone)} exited; stopping the rest (logs: "
                      f"{workdir / 'logs'})", file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstack: stopping…", flush=True)
        return 0
    finally:
        stack.stop()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
