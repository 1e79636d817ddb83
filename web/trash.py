"""The trash page and `/api/v1/trash`: what the owner deleted, restorable for
QUARTILE_TRASH_DAYS; an administrator empties every trash. The life cycle is upload.trash's."""

from __future__ import annotations

from pathlib import Path

from apiflask import APIBlueprint, Schema
from apiflask.fields import Integer, String
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from errors import NotFound, QuartileError
from upload import trash
from web.audit import audit

bp = Blueprint("trash", __name__)
api = APIBlueprint("trash_api", __name__, url_prefix="/api/v1/trash", tag="Trash")


def _files_dir() -> Path:
    return Path(current_app.config["FILES_DIR"])


def _days() -> float:
    return current_app.config.get("TRASH_DAYS", 30)


def move_to_trash(row, kind: str) -> None:
    """Delete from a page or the API: into the trash, audited, and the expired purged."""
    trash.move_to_trash(row)
    audit("deleted", current_user, f"{kind} {row.id} {trash.item_name(row)!r}")
    trash.purge_expired(_files_dir(), _days())


def my_trash() -> list[dict]:
    trash.purge_expired(_files_dir(), _days())
    return trash.trashed_items(current_user.id, _days())


def restore(kind: str, item_id: str):
    row = trash.restore(current_user.id, kind, item_id)
    audit("restored", current_user, f"{kind} {row.id} {trash.item_name(row)!r}")
    return row


def empty_all() -> int:
    if not current_user.is_admin:
        raise NotFound("There is no such action.")
    purged = trash.empty(_files_dir())
    audit("trash_emptied", current_user, f"{purged} item(s) purged")
    return purged


# -- API --------------------------------------------------------------------------------------
class TrashItem(Schema):
    kind = String(required=True, metadata={"description": "dataset | chart | report"})
    id = String(required=True)
    name = String(required=True)
    deleted_at = String(required=True, metadata={"description": "ISO 8601, UTC"})
    purge_at = String(required=True, metadata={"description": "Deleted for good after this"})


class Restored(Schema):
    kind = String(required=True)
    id = String(required=True)


class Emptied(Schema):
    purged = Integer(required=True)


@api.get("")
@api.output(TrashItem(many=True))
@api.doc(responses=[401])
def list_trash():
    """Your deleted datasets, charts and reports, newest first, with when each is purged."""
    return my_trash()


@api.post("/<any(dataset, chart, report):kind>/<item_id>/restore")
@api.output(Restored)
@api.doc(responses={401: "", 404: "Not in your trash",
                    409: "Its dataset is in the trash too: restore that first"})
def restore_item(kind, item_id):
    """Restore an item of your trash: it is back, unchanged, wherever it was."""
    row = restore(kind, item_id)
    return {"kind": kind, "id": row.id}


@api.post("/empty")
@api.output(Emptied)
@api.doc(responses={401: "", 404: "Not an administrator"})
def empty_trash():
    """Purge every user's trash now (administrators only)."""
    return {"purged": empty_all()}


# -- page -------------------------------------------------------------------------------------
@bp.get("/trash")
def page():
    """Your trash: restore what you deleted; administrators can empty every trash."""
    from web.datasets import CsrfForm  # web.datasets → web.datasets_api → this module

    return render_template("trash/page.html", items=my_trash(), days=_days(), form=CsrfForm())


@bp.post("/trash/<any(dataset, chart, report):kind>/<item_id>/restore")
def restore_form(kind, item_id):
    """Restore after the button on the trash page."""
    try:
        row = restore(kind, item_id)
    except QuartileError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "warning")
    else:
        flash(f"Restored {kind} {trash.item_name(row)!r}.", "success")
    return redirect(url_for("trash.page"))


@bp.post("/trash/empty")
def empty_form():
    """Empty every trash (administrators only)."""
    purged = empty_all()
    flash(f"The trash is empty: {purged} item(s) deleted for good.", "info")
    return redirect(url_for("trash.page"))


def init_app(app, register_api) -> None:
    app.register_blueprint(bp)
    register_api(app, api)
    if app.config.get("AUTO_MIGRATE", True):  # the tables exist: purge what expired meanwhile
        with app.app_context():
            trash.purge_expired(Path(app.config["FILES_DIR"]), app.config.get("TRASH_DAYS", 30))
            from store.db import db

            db.session.remove()
