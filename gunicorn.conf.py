"""gunicorn settings for 2-core machines: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

Threaded workers, because pages hold long-lived SSE and WebSocket connections. With the embedded
job engine and in-process event broker, state lives in one process, so one worker; with Redis
configured, events cross processes and a second worker adds throughput.
"""

import os

bind = os.environ.get("QUARTILE_BIND", "127.0.0.1:5000")
worker_class = "gthread"
_default_workers = "2" if os.environ.get("QUARTILE_REDIS_URL") else "1"
workers = int(os.environ.get("QUARTILE_WORKERS", _default_workers))
threads = int(os.environ.get("QUARTILE_THREADS", "16"))
timeout = 120  # report builds and big uploads run longer than the 30 s default
graceful_timeout = 20
accesslog = None  # the app logs one line per request itself
errorlog = "-"
loglevel = "info"
