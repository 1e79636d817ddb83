"""One place for configuration: defaults, overridden by `QUARTILE_*` environment variables.

The defaults are the embedded ones a newcomer gets from `make run`: SQLite and uploads under
`files/`, jobs in a thread pool inside the app, no Redis. Every setting is documented in the
README (tests/test_docs.py fails when one is not).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _env(name: str, default: str) -> str:
    return os.environ.get(f"QUARTILE_{name}", default)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(f"QUARTILE_{name}")
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings read when the object is made, so tests can set the environment first."""

    def __init__(self, **overrides):
        files_dir = Path(_env("FILES_DIR", str(ROOT / "files"))).resolve()
        self.FILES_DIR = files_dir
        self.SQLALCHEMY_DATABASE_URI = _env(
            "DATABASE_URL", f"sqlite:///{files_dir / 'quartile.sqlite3'}"
        )
        # Uploads above this answer 413 before they are read.
        self.MAX_CONTENT_LENGTH = int(_env("UPLOAD_LIMIT_MB", "100")) * 1024 * 1024
        # Pages parse uploads at least this big in a background job, behind a progress bar.
        self.BACKGROUND_UPLOAD_BYTES = int(_env("BACKGROUND_UPLOAD_MB", "10")) * 1024 * 1024
        # Rendered charts kept on disk (files/charts/); the least recently used go first.
        self.CHART_CACHE_BYTES = int(_env("CHART_CACHE_MB", "512")) * 1024 * 1024
        # Where durable bytes live (store/storage.py): file:///path (default: FILES_DIR) or
        # s3://bucket/prefix; unset, the URL `quartile storage migrate` recorded is used.
        self.STORAGE_URL = _env("STORAGE_URL", "") or None
        self.S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL", "") or None  # a non-AWS S3 server
        # With S3: a local read cache any node may lose, least recently used dropped first.
        self.CACHE_DIR = _env("CACHE_DIR", "") or None  # unset: FILES_DIR/cache
        self.CACHE_BYTES = int(_env("CACHE_MB", "2048")) * 1024 * 1024
        # Report preambles precompiled for pdflatex (rendition/latex/formats.py); any process
        # on the machine may share it, and deleting it only costs one rebuild.
        self.LATEX_FORMAT_DIR = _env("LATEX_FORMAT_DIR", "") or None  # unset: in the cache dir
        # Each process that builds reports keeps one pdflatex started ahead (~35 MB) for the
        # next report's first pass (rendition/latex/standby.py).
        self.LATEX_STANDBY = _env_bool("LATEX_STANDBY", True)
        self.JOB_ENGINE = _env("JOB_ENGINE", "embedded")  # "embedded" | "celery"
        self.REDIS_URL = _env("REDIS_URL", "") or None
        self.AUTH = _env("AUTH", "on").lower()  # "on" | "off"
        self.SIGNUP = _env("SIGNUP", "open").lower()  # "open" | "closed"
        self.SECRET_KEY = _env("SECRET_KEY", "") or _persistent_secret(files_dir)
        self.AUTO_MIGRATE = _env_bool("AUTO_MIGRATE", True)
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")
        # Cookies: HttpOnly and SameSite always; Secure when served over HTTPS.
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        # A log-in (and its "keep me logged in" cookie) ends after this many days at the latest.
        self.SESSION_DAYS = int(_env("SESSION_DAYS", "30"))
        self.REMEMBER_COOKIE_DURATION = timedelta(days=self.SESSION_DAYS)
        # Deleted datasets, charts and reports stay restorable this long, then are purged.
        self.TRASH_DAYS = float(_env("TRASH_DAYS", "30"))
        self.WTF_CSRF_TIME_LIMIT = None  # a token lives as long as the session
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.BOOTSTRAP_SERVE_LOCAL = True  # never a CDN
        # Start-up (warmup.py): start the sandbox pools and pay first-use costs in the background;
        # on under gunicorn (gunicorn.conf.py), off for `flask run` and the tests by default.
        self.WARM_START = _env_bool("WARM_START", False)
        self.PARSE_WORKERS = int(_env("PARSE_WORKERS", str(default_pool_size())))
        self.SOLVER_WORKERS = int(_env("SOLVER_WORKERS", str(default_pool_size())))
        # A sandbox pool with no work for this long keeps POOL_KEEP_WARM workers (0: never).
        self.POOL_IDLE_SECONDS = float(_env("POOL_IDLE_SECONDS", "600"))
        self.POOL_KEEP_WARM = int(_env("POOL_KEEP_WARM", "1"))
        # Change events between processes: "auto" (Redis when configured, else in-process),
        # "database" (an events table; several gunicorn workers without Redis), "process".
        self.EVENTS = _env("EVENTS", "auto").lower()
        self.TESTING = False
        for key, value in overrides.items():
            setattr(self, key, value)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def default_pool_size() -> int:
    """Workers per sandbox pool: the cores each web process may use (QUARTILE_WORKERS web
    processes share them), at least 1, at most 4, and at most one per 1.5 GB of memory."""
    import psutil

    cores = os.cpu_count() or 1
    web_processes = max(1, int(os.environ.get("QUARTILE_WORKERS") or 1))
    by_memory = int(psutil.virtual_memory().total // (1536 * 1024 * 1024)) // web_processes
    return max(1, min(4, cores // web_processes, by_memory))


def _persistent_secret(files_dir: Path) -> str:
    """A random key kept beside the data, so sessions survive a restart without configuration."""
    path = files_dir / ".secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        files_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
