"""Which object store a Quartile process uses, decided once at start-up.

1. `QUARTILE_STORAGE_URL`, when set, wins (with a warning if the database recorded another);
2. else the URL `quartile storage migrate` recorded in the site settings after copying every
   object there and checking it (so every node, started with the same database, follows);
3. else local files under FILES_DIR: the embedded default, exactly as before.

Only the URL is recorded: credentials stay in the standard AWS places, never in the database.
Flask-free apart from the app object create_app hands over.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from store.db import db
from store.models import SiteSetting
from store.objects import ObjectStore, open_store, register

log = logging.getLogger("quartile.storage")
SETTING = "storage_url"


def default_url(files_dir: Path) -> str:
    return Path(files_dir).resolve().as_uri()


def recorded_url() -> str | None:
    """The URL a migration switched to, or None (no row, or no settings table yet)."""
    try:
        setting = db.session.get(SiteSetting, SETTING)
    except SQLAlchemyError as error:
        db.session.rollback()
        log.info("No recorded storage URL (%s); using the configured one.",
                 error.__class__.__name__)
        return None
    return setting.value if setting is not None else None


def record_url(url: str) -> None:
    setting = db.session.get(SiteSetting, SETTING) or SiteSetting(key=SETTING, value=url)
    setting.value = url
    db.session.add(setting)
    db.session.commit()


def choose_url(explicit: str | None, recorded: str | None, files_dir: Path) -> str:
    if explicit:
        if recorded and recorded != explicit.rstrip("/"):
            log.warning("QUARTILE_STORAGE_URL=%s differs from the storage %s that `quartile "
                        "storage migrate` recorded; using QUARTILE_STORAGE_URL.", explicit,
                        recorded)
        return explicit
    return recorded or default_url(files_dir)


def store_from_config(config, url: str) -> ObjectStore:
    cache_dir = config.get("CACHE_DIR") or Path(config["FILES_DIR"]) / "cache"
    return open_store(url, cache_dir=Path(cache_dir).resolve(),
                      cache_bytes=int(config["CACHE_BYTES"]),
                      endpoint_url=config.get("S3_ENDPOINT_URL"))


def init_app(app) -> ObjectStore:
    """Open the active store and make it the one `objects_for(FILES_DIR)` returns."""
    with app.app_context():
        url = choose_url(app.config.get("STORAGE_URL"), recorded_url(), app.config["FILES_DIR"])
    store = store_from_config(app.config, url)
    app.extensions["quartile_objects"] = store
    register(app.config["FILES_DIR"], store)
    return store
