"""The job system's settings, with defaults, read from the app's config or QUARTILE_* variables.

These are not in `config.Config` yet; until they are, this is the one place that reads them, so a
Celery worker (which builds its app from the environment) and a test (which passes overrides to
create_app) see the same names:

- QUARTILE_JOB_WORKERS: threads of the embedded engine (2).
- QUARTILE_JOB_TIME_LIMIT: seconds a Celery job may run before it is killed (600); it is told
  up to 30 s before (soft limit) and fails with a message.
- QUARTILE_JOB_HEARTBEAT_SECONDS: a Celery job whose worker has not been heard from for this
  long is given up on: failed with a message, or retried when Redis redelivers it (30).
- QUARTILE_SSE_HEARTBEAT_SECONDS: an idle event stream sends a comment this often, which is
  also how a closed browser tab is noticed (15).
- QUARTILE_JOB_POLL_SECONDS: an embedded engine with a free thread claims jobs another process
  queued (and has not started) this often; 0 (the default outside gunicorn) only runs its own.
- QUARTILE_JOB_EXTRA_TASK_MODULES: comma-separated modules the worker imports for more task
  kinds (the test suite uses it for its slow test-only tasks).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULTS: dict[str, int | float | str] = {
    "JOB_WORKERS": 2,
    "JOB_TIME_LIMIT": 600,
    "JOB_HEARTBEAT_SECONDS": 30.0,
    "SSE_HEARTBEAT_SECONDS": 15.0,
    "JOB_EXTRA_TASK_MODULES": "",
    "JOB_POLL_SECONDS": 0.0,
}


def setting(config: Mapping, name: str):
    """`config[name]` if set, else QUARTILE_<name> from the environment, else the default."""
    default = DEFAULTS[name]
    if name in config:
        return config[name]
    raw = os.environ.get(f"QUARTILE_{name}")
    if raw is None or raw.strip() == "":
        return default
    try:
        return type(default)(raw.strip())
    except ValueError:
        kind = type(default).__name__
        raise ValueError(f"QUARTILE_{name}={raw!r} is not a valid {kind}") from None


def extra_task_modules(config: Mapping) -> list[str]:
    return [m.strip() for m in str(setting(config, "JOB_EXTRA_TASK_MODULES")).split(",")
            if m.strip()]
