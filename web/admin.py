"""Users for administrators at `/admin/users`: list them, disable or enable an account, set a
new password, make or unmake an administrator, and open or close sign-up. Anyone else gets a
404 (the page does not exist for them); every change is in the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from errors import BadInput, NotFound
from store.db import db, utcnow
from store.models import Dataset, SiteSetting, User
from web.audit import _admin_only, audit
from web.auth import LOCAL_USERNAME, PASSWORD_METHOD, _signup_open, end_sessions

bp = Blueprint("admin", __name__)
MIN_PASSWORD = 8


@bp.get("/admin/users")
def users():
    """Every account with its role, state and number of datasets."""
    _admin_only()
    rows = db.session.scalars(select(User).where(User.username != LOCAL_USERNAME)
                              .order_by(User.created_at)).all()
    counts = dict(db.session.execute(select(Dataset.owner_id, func.count(Dataset.id))
                                     .group_by(Dataset.owner_id)).all())
    return render_template("admin/users.html", users=rows, counts=counts,
                           signup_open=_signup_open(), min_password=MIN_PASSWORD)


def _other_user(user_id: int) -> User:
    _admin_only()
    user = db.session.get(User, user_id)
    if user is None or user.username == LOCAL_USERNAME:
        raise NotFound("There is no such user.")
    if user.id == current_user.id:
        raise BadInput("You cannot change your own account here: ask another administrator "
                       "(your password is on your Account page).")
    return user


def _changed(user: User, event: str, message: str, *, log_out: bool = False):
    """Save a change to `user`, end their log-ins when asked, record and say it."""
    db.session.commit()
    if log_out:
        end_sessions(user)
    audit(event, current_user, f"user {user.username!r}")
    flash(message, "info")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users/<int:user_id>/disable")
def disable(user_id: int):
    """Disable an account (its log-ins and tokens stop at once), or enable it again."""
    user = _other_user(user_id)
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        return _changed(user, "user_disabled", f"{user.username} is disabled: logged out "
                        "everywhere, tokens refused.", log_out=True)
    user.disabled_at = None
    return _changed(user, "user_enabled", f"{user.username} can log in again.")


@bp.post("/admin/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Set a new password for a user (who is logged out everywhere)."""
    user = _other_user(user_id)
    password = request.form.get("password", "")
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"The new password needs at least {MIN_PASSWORD} characters.")
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    return _changed(user, "password_reset", f"{user.username} has a new password and is "
                    "logged out everywhere.", log_out=True)


@bp.post("/admin/users/<int:user_id>/admin")
def toggle_admin(user_id: int):
    """Make a user an administrator, or no longer one."""
    user = _other_user(user_id)
    user.is_admin = not user.is_admin
    return _changed(user, "admin_granted" if user.is_admin else "admin_revoked",
                    f"{user.username} is {'now' if user.is_admin else 'no longer'} an "
                    "administrator.")


@bp.post("/admin/signup")
def toggle_signup():
    """Open or close sign-up for new accounts."""
    _admin_only()
    closing = _signup_open()
    setting = db.session.get(SiteSetting, "signup") or SiteSetting(key="signup", value="open")
    setting.value = "closed" if closing else "open"
    db.session.add(setting)
    db.session.commit()
    audit("signup_closed" if closing else "signup_opened", current_user)
    flash("Sign-up is closed: only an administrator adds accounts now." if closing
          else "Sign-up is open.", "info")
    return redirect(url_for("admin.users"))
