"""The SQLAlchemy handle and the start-up migration.

SQLite under `files/` by default, any SQLAlchemy URL (PostgreSQL) by configuration. The schema is
owned by Alembic (`migrations/`); `upgrade_database` runs at start-up under a file lock so several
gunicorn workers never migrate at once, and an upgrade never drops data.
"""

from __future__ import annotations

import fcntl
import secrets
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate, upgrade
from sqlalchemy import MetaData, event, text
from sqlalchemy.orm import DeclarativeBase

from config import ROOT

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


from flask_sqlalchemy import SQLAlchemy  # noqa: E402  (needs Base above)

db = SQLAlchemy(model_class=Base)
migrate = Migrate(directory=str(ROOT / "migrations"))


def sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite made fit to serve, on every new connection:

    - foreign keys enforced, so deleting a dataset or a user deletes what hangs on it (reports,
      charts, jobs) exactly as on PostgreSQL (SQLite ignores ON DELETE CASCADE otherwise);
    - WAL, so pages keep reading while a job thread or another gunicorn worker writes;
    - a busy timeout, so a writer waits its turn instead of failing "database is locked".
    """
    cursor = dbapi_connection.cursor()
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL",
                   "busy_timeout=10000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as aware UTC: SQLite hands back naive UTC times, PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def new_id() -> str:
    """A short, unguessable id for URLs (ids are not confirmable by guessing: see auth)."""
    return secrets.token_urlsafe(9)


def init_app(app: Flask) -> None:
    import store.models  # noqa: F401  (registers the tables with the metadata)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", sqlite_pragmas)
    migrate.init_app(app, db, render_as_batch=True)
    if app.config["AUTO_MIGRATE"]:
        with app.app_context():
            upgrade_database(Path(app.config["FILES_DIR"]))


def upgrade_database(files_dir: Path) -> None:
    """Bring the schema to the newest revision; safe to call from many processes at once."""
    files_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(files_dir / ".migrate.lock"):
        upgrade(directory=str(ROOT / "migrations"))
    db.engine.dispose()  # fresh connections from here on, with the pragmas of sqlite_pragmas


def database_reachable() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - a health check reports any failure as "not reachable"
        db.session.rollback()
        return False


@contextmanager
def _file_lock(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
