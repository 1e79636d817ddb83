"""Change events through the database, for several web processes without Redis.

`make run` serves with one gunicorn worker per core; a job runs in one of them while its
progress bar may be open in another. With QUARTILE_EVENTS=database each publish is delivered at
once to this process's subscribers (as the in-process broker does) and written to the
`change_events` table; each process with open streams polls the table a few times a second
and delivers the rows other processes wrote. Rows older than a few minutes are deleted by the
publishers. Events stay hints: a stream that misses one still re-reads its row (web/jobs.py).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections import deque
from datetime import timedelta

from flask import Flask
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from jobs.events import BrokerDown, Event, InProcessBroker, Subscription
from store.db import db, utcnow
from store.models import ChangeEvent

log = logging.getLogger("quartile.events")
POLL_SECONDS = 0.2
KEEP_SECONDS = 300  # rows older than this are deleted (a stream that far behind re-reads)
PRUNE_EVERY = 200  # publishes between two deletions of old rows
# PostgreSQL may commit ids out of order: each poll looks this far back, skipping ids seen.
LOOK_BACK = 50
TABLE = ChangeEvent.__table__


class DatabaseBroker(InProcessBroker):
    def __init__(self, app: Flask):
        super().__init__()
        self._app = app
        self.origin = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._engine = None
        self._poll_lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._last_id = 0
        self._seen: deque[int] = deque(maxlen=4 * LOOK_BACK)
        self._published = 0

    def engine(self):
        if self._engine is None:
            with self._app.app_context():
                self._engine = db.engine
        return self._engine

    def publish(self, topic: str, data: dict) -> None:
        super().publish(topic, data)  # this process's streams: at once, no round trip
        payload = json.loads(json.dumps(data))
        try:
            with self.engine().begin() as conn:
                conn.execute(insert(TABLE).values(topic=topic, data=payload,
                                                  origin=self.origin, created_at=utcnow()))
                self._published += 1
                if self._published % PRUNE_EVERY == 1:
                    cutoff = utcnow() - timedelta(seconds=KEEP_SECONDS)
                    conn.execute(delete(TABLE).where(TABLE.c.created_at < cutoff))
        except SQLAlchemyError as exc:
            raise BrokerDown("The event table could not be written; pages will catch up "
                             "when they next re-read.") from exc

    def subscribe(self, topics, timeout: float = 15.0) -> Subscription:
        subscription = super().subscribe(topics, timeout)
        with self._poll_lock:
            if self._poller is None:
                self._last_id = self._newest_id()  # nothing written after this is missed
                self._poller = threading.Thread(target=self._poll_loop, daemon=True,
                                                name="quartile-events-poll")
                self._poller.start()
        return subscription

    def ping(self) -> None:
        try:
            self._newest_id()
        except SQLAlchemyError as exc:
            raise BrokerDown("The event table cannot be read.") from exc

    # -- polling -----------------------------------------------------------------------------
    def _newest_id(self) -> int:
        with self.engine().connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(TABLE.c.id), 0))).scalar())

    def _poll_loop(self) -> None:
        """Deliver other processes' events until this process has no open stream."""
        while True:
            with self._poll_lock:
                if self.subscriber_count() == 0:
                    self._poller = None
                    return
            try:
                self._poll_once()
            except SQLAlchemyError:
                log.warning("could not read the event table; trying again", exc_info=True)
            time.sleep(POLL_SECONDS)

    def _poll_once(self) -> None:
        since = self._last_id - (LOOK_BACK if self.engine().dialect.name != "sqlite" else 0)
        query = (select(TABLE.c.id, TABLE.c.topic, TABLE.c.data, TABLE.c.origin)
                 .where(TABLE.c.id > since).order_by(TABLE.c.id))
        with self.engine().connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            if row.id in self._seen:
                continue
            self._seen.append(row.id)
            self._last_id = max(self._last_id, row.id)
            if row.origin != self.origin:
                self._deliver_local(Event(row.topic, row.data))

    def _deliver_local(self, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(event.topic, ()))
        for subscription in targets:
            subscription.deliver(event)
