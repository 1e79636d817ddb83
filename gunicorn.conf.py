"""gunicorn settings: `gunicorn -c gunicorn.conf.py "app:create_app()"` (what `make run` runs).

Threaded workers, because pages hold long-lived SSE and WebSocket connections. One worker per
core by default, also on the embedded defaults: the embedded job engine claims every job with a
conditional UPDATE (exactly one worker runs it), idle workers pick up jobs queued elsewhere
(QUARTILE_JOB_POLL_SECONDS), cancelling is a change of the row that the running task sees, and
change events reach every worker's open pages through the database (QUARTILE_EVENTS=database)
or through Redis when QUARTILE_REDIS_URL is set. Each worker warms up in the background as it
starts (QUARTILE_WARM_START; /healthz says "ready": true when it is done).
"""

import os

bind = os.environ.get("QUARTILE_BIND", "127.0.0.1:5000")
worker_class = "gthread"
workers = int(os.environ.get("QUARTILE_WORKERS") or os.cpu_count() or 1)
threads = int(os.environ.get("QUARTILE_THREADS", "16"))
timeout = 120  # report builds and big uploads run longer than the 30 s default
# Idle keep-alive connections are kept this long (gthread parks them without a thread). Behind a
# load balancer keep its idle timeout towards the nodes below this, or it may reuse a connection
# the node is closing at that moment (a reset instead of an answer).
keepalive = int(os.environ.get("QUARTILE_KEEPALIVE_SECONDS", "5"))
graceful_timeout = 20
accesslog = None  # the app logs one line per request itself
errorlog = "-"
loglevel = "info"

# Read by the app factory in each worker (config.Config):
os.environ["QUARTILE_WORKERS"] = str(workers)  # sandbox pools share the cores among workers
os.environ.setdefault("QUARTILE_WARM_START", "on")
if workers > 1:
    os.environ.setdefault("QUARTILE_JOB_POLL_SECONDS", "1")
    if not os.environ.get("QUARTILE_REDIS_URL"):
        os.environ.setdefault("QUARTILE_EVENTS", "database")

# Modules every worker imports, imported once in the master before it forks the workers: their
# pages are shared copy-on-write (about 150 MB less per extra worker) and workers boot faster.
# Only imports: no app, no database connection, no thread of ours exists before the fork.
SHARED_MODULES = (
    "numpy", "pandas", "pyarrow", "pyarrow.parquet", "matplotlib.figure",
    "matplotlib.backends.backend_agg", "scipy.stats", "statsmodels.api", "bokeh.plotting",
    "plotly.graph_objects", "sqlalchemy", "apiflask", "flask_sqlalchemy",
    # Quartile's own modules, as create_app imports them (with alembic, jinja2, pylatex, PIL...
    # behind them): about 20 MB less per worker. None of them starts a thread or connects.
    "app", "store.db", "warmup", "jobs", "web.api", "web.auth", "web.datasets_api", "web.main",
    "web.datasets", "web.cli", "web.equations", "web.analyses", "web.fit", "web.charts",
    "web.reports", "web.families", "web.family_pages", "web.recipes", "web.jobs", "web.live",
    "web.admin", "web.audit", "web.trash",
)


def on_starting(server):
    import gc
    import importlib

    for name in SHARED_MODULES:
        importlib.import_module(name)
    importlib.import_module("warmup").warm_before_fork()  # a first chart and fit, shared too
    gc.freeze()  # the collector then leaves these objects (and their shared pages) alone
    start_shared_forkserver()


def start_shared_forkserver():
    """One forkserver for every worker's sandbox pools, forked from this master once the
    shared modules are imported (shared_forkserver.start_forkserver_by_fork): the solver's and
    the file parser's processes fork from it and share those pages (pandas, pyarrow, sympy,
    matplotlib, scipy) with the master and the workers instead of importing them again (about
    100 MB less for the whole app, and pools warm in half the time), and no worker runs a
    forkserver of its own. A sandbox's memory limit counts from what its worker maps when warm,
    so the shared imports do not eat into it."""
    from shared_forkserver import start_forkserver_by_fork
    from solver.service import PRELOAD
    from upload.pipeline import PRELOAD as PARSER_PRELOAD

    # The solver's warm-up (sympy's caches, a first plot) runs once, here, and is shared; the
    # parser's does not: it starts pyarrow's threads, which a process that forks must not have.
    modules = [m for m in (*PRELOAD, *PARSER_PRELOAD) if m != "upload.warmup"]
    start_forkserver_by_fork(list(dict.fromkeys(modules)))


def post_fork(server, worker):
    from shared_forkserver import use_inherited_forkserver

    use_inherited_forkserver()
