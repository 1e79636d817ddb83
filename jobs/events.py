"""Change events for open pages: publish(topic, data) here, subscribe(topics) in an SSE stream.

Topics: `job:<id>` (every state or progress change of one job, carrying the job's dict) and
`user:<owner_id>` (`{"what": "datasets"|"jobs"|"reports", "id"}`: something of theirs changed).
In one process an in-process broker is enough; with QUARTILE_REDIS_URL set, events go through
Redis pub/sub so that gunicorn workers and Celery workers reach every open page; with
QUARTILE_EVENTS=database (several gunicorn workers, no Redis) through a table (events_db.py).

Events are hints, not the truth: the database is. A subscriber that may have missed one (a slow
client, a Redis hiccup) re-reads the row, so publishing never has to succeed for correctness and
`publish_change` never fails the caller's request.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from errors import Unavailable

log = logging.getLogger("quartile.events")
EXTENSION = "quartile_events"
CHANNEL_PREFIX = "quartile:events:"
QUEUE_LIMIT = 1000  # per subscriber: a client that far behind re-reads the database anyway


class BrokerDown(Unavailable):
    code = "events_unavailable"


@dataclass(frozen=True)
class Event:
    topic: str
    data: dict


def job_topic(job_id: str) -> str:
    return f"job:{job_id}"


def user_topic(owner_id: int) -> str:
    return f"user:{owner_id}"


class Subscription:
    """Events on some topics until closed. Iterating yields an Event, or None after `timeout`
    seconds without one (the caller's moment to send a heartbeat or re-read the database)."""

    def __init__(self, timeout: float):
        self.timeout = timeout

    def get(self, timeout: float) -> Event | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self) -> Iterator[Event | None]:
        while True:
            yield self.get(self.timeout)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- in process ------------------------------------------------------------------------------
class _QueueSubscription(Subscription):
    def __init__(self, broker: InProcessBroker, topics: list[str], timeout: float):
        super().__init__(timeout)
        self._broker, self.topics = broker, topics
        self._queue: queue.Queue[Event] = queue.Queue(QUEUE_LIMIT)

    def deliver(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("a subscriber to %s is %d events behind; dropping", event.topic,
                        QUEUE_LIMIT)

    def get(self, timeout: float) -> Event | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._broker.unsubscribe(self)


class InProcessBroker:
    """Threads of one process: a queue per subscriber. No extra thread is ever started."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[_QueueSubscription]] = defaultdict(set)

    def publish(self, topic: str, data: dict) -> None:
        event = Event(topic, json.loads(json.dumps(data)))  # JSON only, and no shared objects
        with self._lock:
            targets = list(self._subscribers.get(topic, ()))
        for subscription in targets:
            subscription.deliver(event)

    def subscribe(self, topics: Iterable[str], timeout: float = 15.0) -> Subscription:
        subscription = _QueueSubscription(self, list(topics), timeout)
        with self._lock:
            for topic in subscription.topics:
                self._subscribers[topic].add(subscription)
        return subscription

    def unsubscribe(self, subscription: _QueueSubscription) -> None:
        with self._lock:
            for topic in subscription.topics:
                members = self._subscribers.get(topic)
                if members is not None:
                    members.discard(subscription)
                    if not members:
                        del self._subscribers[topic]

    def subscriber_count(self) -> int:
        """Open subscriptions (tests use it to prove closed streams clean up)."""
        with self._lock:
            return len({id(s) for members in self._subscribers.values() for s in members})

    def ping(self) -> None:
        return None


# -- Redis pub/sub ---------------------------------------------------------------------------
class _RedisSubscription(Subscription):
    def __init__(self, pubsub, timeout: float):
        super().__init__(timeout)
        self._pubsub = pubsub

    def get(self, timeout: float) -> Event | None:
        import redis

        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                message = self._pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=remaining)
            except (redis.RedisError, OSError) as exc:
                raise BrokerDown(_DOWN_MESSAGE) from exc
            if message is not None and message.get("type") == "message":
                channel = _text(message["channel"])
                return Event(channel.removeprefix(CHANNEL_PREFIX), json.loads(message["data"]))
            if remaining <= 0:
                return None

    def close(self) -> None:
        import redis

        try:
            self._pubsub.close()
        except (redis.RedisError, OSError):
            log.debug("closing a pub/sub connection failed", exc_info=True)


_DOWN_MESSAGE = "The event stream (Redis) is not reachable; try again later."


class RedisBroker:
    """Redis pub/sub: one connection per subscription, none kept open for publishing."""

    def __init__(self, url: str):
        import redis

        self._client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=5.0)

    def publish(self, topic: str, data: dict) -> None:
        import redis

        try:
            self._client.publish(CHANNEL_PREFIX + topic, json.dumps(data))
        except (redis.RedisError, OSError) as exc:
            raise BrokerDown(_DOWN_MESSAGE) from exc

    def subscribe(self, topics: Iterable[str], timeout: float = 15.0) -> Subscription:
        import redis

        channels = [CHANNEL_PREFIX + t for t in topics]
        pubsub = self._client.pubsub()
        try:
            pubsub.subscribe(*channels)
            _wait_for_confirmations(pubsub, len(channels))
        except (redis.RedisError, OSError) as exc:
            pubsub.close()
            raise BrokerDown(_DOWN_MESSAGE) from exc
        return _RedisSubscription(pubsub, timeout)

    def ping(self) -> None:
        import redis

        try:
            self._client.ping()
        except (redis.RedisError, OSError) as exc:
            raise BrokerDown(_DOWN_MESSAGE) from exc


def _wait_for_confirmations(pubsub, expected: int) -> None:
    """Return once Redis has registered every channel, so no later publish can be missed."""
    import redis

    confirmed, deadline = 0, time.monotonic() + 2.0
    while confirmed < expected:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise redis.TimeoutError("Redis did not confirm the subscription in time")
        message = pubsub.get_message(timeout=remaining)
        if message is not None and message.get("type") == "subscribe":
            confirmed += 1


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- the app's broker ------------------------------------------------------------------------
BROKERS = ("auto", "database", "process")


def init_app(app: Flask) -> None:
    """QUARTILE_EVENTS: "auto" is Redis when configured, else in-process; "database" is the
    events table (several web processes, no Redis: jobs/events_db.py); "process" in-process."""
    url, choice = app.config.get("REDIS_URL"), app.config.get("EVENTS", "auto")
    if choice not in BROKERS:
        raise ValueError(f"QUARTILE_EVENTS={choice!r}: use one of {', '.join(BROKERS)}.")
    if choice == "database":
        from jobs.events_db import DatabaseBroker

        app.extensions[EXTENSION] = DatabaseBroker(app)
    elif url and choice == "auto":
        app.extensions[EXTENSION] = RedisBroker(url)
    else:
        app.extensions[EXTENSION] = InProcessBroker()


def broker(app: Flask | None = None) -> InProcessBroker | RedisBroker:
    return (app or current_app).extensions[EXTENSION]


def publish(topic: str, data: dict) -> None:
    """Publish on the current app's broker; raises BrokerDown when Redis is unreachable."""
    broker().publish(topic, data)


def publish_quietly(topic: str, data: dict) -> bool:
    """Publish, logging instead of raising when the broker is down (the database is the truth)."""
    try:
        broker().publish(topic, data)
        return True
    except BrokerDown as exc:
        log.warning("could not publish an event on %s: %s", topic, exc.message)
        return False


def subscribe(topics: Iterable[str], timeout: float = 15.0) -> Subscription:
    return broker().subscribe(topics, timeout)


def publish_change(owner_id: int, what: str, id: str | int | None = None) -> None:
    """Tell `owner_id`'s open pages that one of their `what` ("datasets", "jobs", "reports")
    changed. Safe to call from any request or task: never raises because events are down."""
    publish_quietly(user_topic(owner_id), {"what": what, "id": id})
