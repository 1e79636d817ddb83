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
)


def on_starting(server):
    import gc
    import importlib

    for name in SHARED_MODULES:
        importlib.import_module(name)
    gc.freeze()  # the collector then leaves these objects (and their shared pages) alone
