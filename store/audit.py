"""The audit log of security events: log-ins (and failed ones), tokens, sharing, deletions.

Flask-free, so the CLI and jobs record events too; web.audit adds the request's address and
serves the log to administrators.
"""

from __future__ import annotations

from sqlalchemy import func, select

from store.db import as_utc, db
from store.models import AuditEvent, User

EVENTS = (
    "login", "login_failed", "logout", "signup", "password_changed", "token_created",
    "token_revoked", "dataset_shared", "dataset_unshared", "dataset_public", "dataset_private",
    "deleted", "restored", "trash_emptied", "user_disabled", "user_enabled", "password_reset",
    "admin_granted", "admin_revoked", "signup_closed", "signup_opened",
)


def record(event: str, *, user: User | None = None, username: str = "", detail: str = "",
           address: str = "") -> AuditEvent:
    """Store one event now (committed: an event outlives a later failure in the request).
    `username` names who was tried when there is no such user (a failed log-in)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    row = AuditEvent(user_id=user.id if user is not None else None,
                     username=(user.username if user is not None else username)[:64],
                     event=event, detail=detail[:500], address=(address or "")[:64])
    db.session.add(row)
    db.session.commit()
    return row


def event_dict(row: AuditEvent) -> dict:
    return {"id": row.id, "time": as_utc(row.created_at).isoformat(), "user": row.username,
            "user_id": row.user_id, "event": row.event, "detail": row.detail,
            "address": row.address}


def recent_events(limit: int = 100, offset: int = 0, event: str | None = None
                  ) -> tuple[list[dict], int]:
    """Newest first, with the total (optionally of one event kind)."""
    query = select(AuditEvent)
    if event:
        query = query.where(AuditEvent.event == event)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
                              .offset(offset).limit(limit)).all()
    return [event_dict(r) for r in rows], total
