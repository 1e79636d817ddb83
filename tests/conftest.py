"""Shared fixtures: an app per test on a fresh files dir and database, a live server, Chromium.

Every test that touches the database runs on SQLite, and on PostgreSQL too when
QUARTILE_TEST_POSTGRES_URL is set (CI sets it). Migrations run once per session per database;
each test then gets an empty copy (SQLite: a copied file; PostgreSQL: truncated tables).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from app import create_app
from config import Config
from store.db import db

DATA = Path(__file__).parent / "data"
pytest_plugins = ["tests.storage_fixtures"]
POSTGRES_URL = os.environ.get("QUARTILE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


# -- the log: no traceback the suite did not ask for --------------------------------------------
class TracebackLog(logging.Handler):
    """Every ERROR-or-worse record with a traceback, from any logger and any thread (the live
    servers' and job engines' too), with the test that was running or had just run."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.current = "(before the first test)"
        self.records: list[tuple[str, logging.LogRecord]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Traceback (most recent call last)" in record.getMessage():
            self.records.append((self.current, record))

    def unexpected(self, expected: set[str]) -> list[str]:
        return [f"{test}: {describe_record(record)}" for test, record in self.records
                if test not in expected]


def describe_record(record: logging.LogRecord) -> str:
    trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
    return f"{record.name}: {record.getMessage()}\n{trace[-1500:]}"


TRACEBACKS = TracebackLog()
EXPECTED_TRACEBACKS: set[str] = set()


def pytest_configure(config):
    logging.getLogger().addHandler(TRACEBACKS)


def pytest_runtest_setup(item):
    TRACEBACKS.current = item.nodeid
    if item.get_closest_marker("expected_traceback"):
        EXPECTED_TRACEBACKS.add(item.nodeid)


@pytest.fixture(autouse=True)
def no_unexpected_tracebacks(request):
    """Fail a test during which the app logged a traceback, unless it is marked
    `@pytest.mark.expected_traceback` (it provokes one on purpose)."""
    before = len(TRACEBACKS.records)
    yield
    if request.node.get_closest_marker("expected_traceback"):
        return
    logged = [describe_record(record) for _, record in TRACEBACKS.records[before:]]
    if logged:
        pytest.fail("The app logged a traceback this test did not expect (mark the test "
                    "@pytest.mark.expected_traceback if it provokes one):\n" + "\n".join(logged))


def pytest_sessionfinish(session, exitstatus):
    """Tracebacks logged between tests (a thread finishing late) count for the test before."""
    stray = TRACEBACKS.unexpected(EXPECTED_TRACEBACKS)
    if stray and session.exitstatus == 0:
        session.exitstatus = 1
    if stray:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "tracebacks in the log that no test expected", red=True)
            reporter.write_line("\n".join(stray))


# -- databases -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once; tests get a copy."""
    files = tmp_path_factory.mktemp("template")
    app = create_app(_settings(files, f"sqlite:///{files / 'template.sqlite3'}"))
    with app.app_context():  # the last connection closed checkpoints the WAL into the file,
        db.engine.dispose()  # so a copy of the file alone is the whole database
    return files / "template.sqlite3"


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    """The PostgreSQL test database, wiped and migrated to head once per session.

    Under pytest-xdist each worker gets a database of its own (`test_gw0`, …), created on first
    use next to the configured one, so workers never truncate each other's tables."""
    url = _database_for_worker(POSTGRES_URL, os.environ.get("PYTEST_XDIST_WORKER"))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _database_for_worker(url: str, worker: str | None) -> str:
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _settings(files_dir: Path, database_url: str, **overrides) -> Config:
    base = {
        "FILES_DIR": files_dir,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "AUTH": "off",
    }
    base.update(overrides)
    return Config(**base)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "quartile.sqlite3"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("postgres_migrated")
    _truncate_postgres(url)
    return url


def pytest_generate_tests(metafunc):
    from tests.storage_fixtures import parametrize_storage

    parametrize_storage(metafunc)


@pytest.fixture(scope="module")
def report_formats(tmp_path_factory):
    """A format directory of the module's own with the report template's format built in it
    (its .aux seeds and standbys are the module's too)."""
    from rendition.latex import FormatCache, prepare_report_format

    cache = FormatCache(tmp_path_factory.mktemp("formats"))
    assert prepare_report_format(cache) is not None
    return cache


@pytest.fixture(scope="session")
def latex_format_dir(tmp_path_factory) -> Path:
    """The session's apps share one report format, as a machine's processes do: it is built
    once, not by every test's first report."""
    return tmp_path_factory.mktemp("latex-formats")


@pytest.fixture
def make_app(tmp_path, database_url, storage_overrides, latex_format_dir):
    """Build an app on this test's files dir, database and object store, with overrides (e.g.
    AUTH="on")."""
    created = []

    def factory(**overrides):
        files = tmp_path / "files"
        _forget_cached_results()
        app = create_app(_settings(files, database_url, **{
            "LATEX_FORMAT_DIR": latex_format_dir, **storage_overrides, **overrides}))
        created.append(app)
        return app

    yield factory
    for app in created:
        with app.app_context():
            from store.db import db

            db.session.remove()
            _wait_for_connections_back(db.engine)
            db.engine.dispose()


def _forget_cached_results() -> None:
    """Results are cached per process by the bytes they were computed from, which is right for
    one server and its one database, but a test on the next database (the PostgreSQL run of the
    same test, in the same xdist worker) must not see what another database's rows produced
    (exuberance results depend on the stored critical values)."""
    from web import analyses, equations, families

    analyses.CACHE.clear()
    families.CACHE.clear()
    equations.ANSWERS.clear()  # a test that limits the solver must not find the answer kept


def _wait_for_connections_back(engine, timeout: float = 5.0) -> None:
    """A live server's request threads outlive its shutdown by a moment, and a connection
    returned after dispose() is never closed: garbage-collected later, in whichever test runs
    then, its ResourceWarning fails that test."""
    checked_out = getattr(engine.pool, "checkedout", lambda: 0)
    deadline = time.monotonic() + timeout
    while checked_out() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def _no_standby_left_behind():
    """A pdflatex one test's report left waiting (rendition/latex/standby.py) is not the next
    test's: each test starts with none."""
    yield
    from rendition.latex import standby

    standby.settle()
    standby.end_waiting()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- a live server ---------------------------------------------------------------------------
class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(make_app):
    """The real app over real HTTP on a free port (threaded, like the README's server)."""
    server = LiveServer(make_app(WTF_CSRF_ENABLED=True)).start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- Chromium --------------------------------------------------------------------------------
CHROMIUM = os.environ.get("QUARTILE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parent.parent / ".cache/npm/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class BrowserPage:
    """A Playwright page that refuses non-local requests and records console errors."""

    def __init__(self, page):
        self.page = page
        self.console_errors: list[str] = []
        self.blocked: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))
        page.route("**/*", self._route)

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def check_accessibility(self) -> None:
        """Run axe-core on the current page; fail on a serious or critical violation."""
        result = self.page.evaluate("async () => await axe.run(document)")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {self.page.url}:\n" + "\n".join(bad)


@pytest.fixture
def page(browser):
    # A CSP-bypassing context is NOT used: the page runs under its real Content-Security-Policy.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test`, which installs axe-core from npm")
    # An init script is injected by the browser itself, so the page's CSP stays strict.
    context.add_init_script(path=str(AXE))
    wrapped = BrowserPage(context.new_page())
    yield wrapped
    errors, blocked = wrapped.console_errors, wrapped.blocked
    context.close()
    assert not errors, f"console errors: {errors}"
    assert not blocked, f"requests left 127.0.0.1: {blocked}"
