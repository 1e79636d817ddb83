"""Security events with the request's source address; an administrator reads them at
`/admin/audit` and `GET /api/v1/audit` (anyone else gets a 404: the page does not exist for them).
"""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, Integer, List, String
from apiflask.validators import OneOf, Range
from flask import Blueprint, has_request_context, render_template, request
from flask_login import current_user

from errors import NotFound
from store import audit as store_audit
from store.models import User

bp = Blueprint("audit", __name__)
api = APIBlueprint("audit_api", __name__, url_prefix="/api/v1/audit", tag="Audit")


def audit(event: str, user: User | None = None, detail: str = "", *, username: str = "") -> None:
    """Record `event` by `user` (default: whoever is logged in) from this request's address."""
    if user is None and not username and has_request_context() and \
            current_user.is_authenticated:
        user = current_user
    address = (request.remote_addr or "") if has_request_context() else "cli"
    store_audit.record(event, user=user, username=username, detail=detail, address=address)


def _admin_only() -> None:
    if not (current_user.is_authenticated and current_user.is_admin):
        raise NotFound(f"Nothing is found at {request.path}.")


class AuditQuery(Schema):
    limit = Integer(load_default=100, validate=Range(min=1, max=1000))
    offset = Integer(load_default=0, validate=Range(min=0, max=10**9))
    event = String(load_default=None, validate=OneOf(store_audit.EVENTS))


class AuditOut(Schema):
    events = List(Dict(), required=True, metadata={"description": (
        'Newest first: {"id", "time", "user", "user_id", "event", "detail", "address"}')})
    total = Integer(required=True)


@api.get("")
@api.input(AuditQuery, location="query")
@api.output(AuditOut)
@api.doc(responses={401: "Not logged in", 404: "Not an administrator"})
def list_events(query_data):
    """The audit log of security events (administrators only)."""
    _admin_only()
    events, total = store_audit.recent_events(query_data["limit"], query_data["offset"],
                                              query_data["event"])
    return {"events": events, "total": total}


@bp.get("/admin/audit")
def page():
    """The audit log for administrators: who did what, when, from where."""
    _admin_only()
    event = request.args.get("event") or None
    events, total = store_audit.recent_events(
        500, 0, event if event in store_audit.EVENTS else None)
    return render_template("admin/audit.html", events=events, total=total,
                           kinds=store_audit.EVENTS, chosen=event)
