"""Accounts: sign-up, log-in, API tokens, and the rule that every request has an owner.

With QUARTILE_AUTH=on (the default) every page except sign-up and log-in, and every API call,
needs a session or an `Authorization: Bearer` token. With QUARTILE_AUTH=off a single local user
owns everything, so the rest of the code never asks which mode it is in: `current_user` is set.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from errors import Conflict, NotFound, TooManyRequests, Unauthorized
from store.db import as_utc, db, utcnow
from store.models import ApiToken, LoginSession, SiteSetting, User
from web.audit import audit

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

LOCAL_USERNAME = "local"
PASSWORD_METHOD = "scrypt"
TOKEN_PREFIX = "qt_"
# Endpoints anyone may reach (sign-up, log-in, health, static assets, the API's description).
PUBLIC_ENDPOINTS = {
    "auth.login",
    "auth.signup",
    "main.healthz",
    "main.api_docs",
    "openapi.spec",
    "static",
    "bootstrap.static",
}


# -- users and tokens (used by the CLI and the pages alike) ----------------------------------
def create_user(username: str, password: str, *, is_admin: bool = False) -> User:
    username = validate_username(username)
    if len(password) < 8:
        raise Conflict("A password needs at least 8 characters.", code="weak_password")
    if db.session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"The user name {username!r} is taken.", code="username_taken")
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        is_admin=is_admin,
    )
    db.session.add(user)
    db.session.commit()
    return user


def validate_username(username: str) -> str:
    """Any printable text of 2–64 characters: names are shown escaped, never trusted."""
    username = (username or "").strip()
    if not 2 <= len(username) <= 64 or not username.isprintable():
        raise Conflict("A user name has 2 to 64 printable characters.", code="invalid_username")
    return username


def find_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound(f"There is no user named {username!r}.")
    return user


def create_token(user: User, name: str = "token", expires_days: float | None = None
                 ) -> tuple[ApiToken, str]:
    """Make a token; the clear text is returned once and only its sha256 is stored. A token
    with `expires_days` stops working after that many days."""
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=(name or "token").strip()[:100] or "token",
        token_hash=_hash_token(clear),
        prefix=clear[:10],
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days is not None else None,
    )
    db.session.add(token)
    db.session.commit()
    audit("token_created", user, f"token {token.name!r} ({token.prefix}…)")
    return token, clear


def _hash_token(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def user_for_token(clear: str) -> User | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(clear)))
    if token is None or token.revoked_at is not None or _past(token.expires_at) \
            or token.user.disabled_at is not None:
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    return token.user


def local_user() -> User:
    """The owner of everything when QUARTILE_AUTH=off, made on first use. Two app nodes (or
    gunicorn workers) that make it at the same moment both succeed: the second reads the row
    the first committed."""
    query = select(User).where(User.username == LOCAL_USERNAME)
    user = db.session.scalar(query)
    if user is None:
        user = User(
            username=LOCAL_USERNAME,
            password_hash=generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD),
            is_admin=True,
        )
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:  # the unique username: another process made it meanwhile
            db.session.rollback()
            user = db.session.scalars(query).one()
    return user


def auth_enabled() -> bool:
    return current_app.config.get("AUTH", "on") != "off"


def _past(moment) -> bool:
    """True when `moment` (None: never) has passed."""
    return moment is not None and as_utc(moment) <= utcnow()


# -- browser sessions: each log-in is a LoginSession row the server can end --------------------
def start_session(user: User, remember: bool = False) -> None:
    """Log `user` in with a new server-side session, bounded by QUARTILE_SESSION_DAYS."""
    days = current_app.config.get("SESSION_DAYS", 30)
    db.session.execute(delete(LoginSession).where(  # the user's old ones, kept no longer
        LoginSession.user_id == user.id,
        or_(LoginSession.ended_at.is_not(None), LoginSession.expires_at < utcnow())))
    row = LoginSession(id=secrets.token_urlsafe(32), user_id=user.id,
                       expires_at=utcnow() + timedelta(days=days))
    db.session.add(row)
    db.session.commit()
    user.login_session_id = row.id
    login_user(user, remember=remember, duration=timedelta(days=days))


def end_sessions(user: User, *, keep: str | None = None, only: str | None = None) -> int:
    """End the user's log-ins (all but `keep`, or just `only`); their cookies stop working at
    once. The number ended."""
    query = update(LoginSession).where(LoginSession.user_id == user.id,
                                       LoginSession.ended_at.is_(None))
    if keep:
        query = query.where(LoginSession.id != keep)
    if only:
        query = query.where(LoginSession.id == only)
    ended = db.session.execute(query.values(ended_at=utcnow())).rowcount
    db.session.commit()
    return ended


# -- request handling ------------------------------------------------------------------------
@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session cookie (or remember-me cookie): "<user id>:<login session id>",
    accepted only while that LoginSession is neither ended nor expired."""
    user_id, _, login_id = session_id.partition(":")
    if not user_id.isdigit() or not login_id:
        return None
    row = db.session.get(LoginSession, login_id)
    if row is None or row.user_id != int(user_id) or row.ended_at or _past(row.expires_at):
        return None
    user = db.session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    user.login_session_id = row.id
    return user


@login_manager.request_loader
def load_user_from_request(req) -> User | None:
    """A bearer token. A bad one is remembered and answered 401 by `require_login`: raising
    here would raise again wherever `current_user` is read, the error page included."""
    if not auth_enabled():
        g.auth_method = "local"
        return local_user()
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_for_token(header[len("Bearer ") :].strip())
        if user is None:
            g.bad_token = True
            return None
        g.auth_method = "token"
        return user
    return None


def _browser_navigation() -> bool:
    """A link opened in the browser (a PDF, a chart image): a GET that prefers HTML to JSON,
    with no token. It goes to the log-in page; API clients keep their JSON 401."""
    accept = request.accept_mimetypes
    return (request.method == "GET" and "Authorization" not in request.headers
            and accept["text/html"] > accept["application/json"])


def require_login():
    """before_request: pages redirect to log-in, the API answers 401."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated and g.get("bad_token"):
        raise Unauthorized("The API token is not valid, has expired or has been revoked.",
                           code="bad_token")
    if not current_user.is_authenticated:
        if request.path.startswith("/api/") and not _browser_navigation():
            raise Unauthorized(
                "Log in, or send an API token as 'Authorization: Bearer <token>'.",
                code="login_required",
            )
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if unsafe and request.path.startswith("/api/") and g.get("auth_method") is None:
        # A browser session calling the API: the page sends its CSRF token as a header.
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except ValidationError as exc:
                raise CSRFError(str(exc)) from None
    return None


# -- forms and pages -------------------------------------------------------------------------
class LoginForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in")


class SignupForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(min=2, max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8)],
                             description="At least 8 characters.")
    confirm = PasswordField(
        "Password again", validators=[EqualTo("password", message="The passwords differ.")]
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8)])
    confirm = PasswordField(
        "New password again", validators=[EqualTo("password", message="The passwords differ.")]
    )

    def validate_current(self, field):
        if not check_password_hash(current_user.password_hash, field.data):
            raise ValidationError("The current password is wrong.")


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=100)])


class RevokeForm(FlaskForm):
    pass


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("main.home")


def _login_limit_breached(limit):
    raise TooManyRequests(
        "Too many log-in attempts. Wait a minute and try again.", code="too_many_logins"
    )


def _signup_limit_breached(limit):
    raise TooManyRequests(
        "Too many sign-up attempts. Wait a minute and try again.", code="too_many_signups"
    )


@cache
def _dummy_hash() -> str:
    """A hash to check unknown user names against, so a log-in takes as long either way."""
    return generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)


def check_login(username: str, password: str) -> User | None:
    """The user when the password is right. One password hash is checked whether or not the
    user exists: the answer's timing does not tell which names are taken."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    stored = user.password_hash if user is not None else _dummy_hash()
    if check_password_hash(stored, password) and user is not None:
        return user
    return None


# Failed attempts count against the address (5 a minute); a success (a redirect) does not.
FAILURES_PER_MINUTE = {"limit_value": "5 per minute", "methods": ["POST"],
                       "deduct_when": lambda response: response.status_code != 302}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(**FAILURES_PER_MINUTE, on_breach=_login_limit_breached)
def login():
    """Log in with user name and password; failed attempts are rate limited per address."""
    form = LoginForm()
    if form.validate_on_submit():
        user = check_login(form.username.data, form.password.data)
        if user is not None and user.disabled_at is not None:
            audit("login_failed", username=user.username)
            form.password.errors.append("This account is disabled: ask the administrator.")
            return render_template("auth/login.html", form=form, signup=_signup_open()), 403
        if user is not None:
            start_session(user, remember=form.remember.data)
            audit("login", user)
            return redirect(_safe_next(request.args.get("next")))
        audit("login_failed", username=form.username.data.strip())
        form.password.errors.append("Wrong user name or password.")
        return render_template("auth/login.html", form=form, signup=_signup_open()), 401
    return render_template("auth/login.html", form=form, signup=_signup_open())


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(**FAILURES_PER_MINUTE, on_breach=_signup_limit_breached)
def signup():
    """Create an account (when sign-up is open). The first account is the administrator."""
    if not _signup_open():
        return render_template("auth/signup_closed.html"), 403
    form = SignupForm()
    if form.validate_on_submit():
        first = (
            db.session.scalar(select(func.count(User.id)).where(User.username != LOCAL_USERNAME))
            == 0
        )
        try:
            user = create_user(form.username.data, form.password.data, is_admin=first)
        except Conflict as exc:
            form.username.errors.append(exc.message)
        else:
            start_session(user)
            audit("signup", user)
            flash(f"Welcome, {user.username}.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/signup.html", form=form)


@bp.post("/logout")
def logout():
    """Log out (a POST with the CSRF token, so another site cannot log you out). The server
    ends this log-in: a copy of its cookie no longer works."""
    if current_user.is_authenticated and current_user.login_session_id:
        end_sessions(current_user, only=current_user.login_session_id)
        audit("logout", current_user)
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
def account():
    """Change password, create and revoke personal API tokens."""
    password_form, token_form = ChangePasswordForm(prefix="pw"), TokenForm(prefix="tok")
    new_token = None
    if request.method == "POST":
        if "pw-submit" in request.form and password_form.validate_on_submit():
            current_user.password_hash = generate_password_hash(
                password_form.password.data, method=PASSWORD_METHOD
            )
            db.session.commit()
            ended = end_sessions(current_user, keep=current_user.login_session_id)
            audit("password_changed", current_user, f"{ended} other log-in(s) ended")
            flash(f"Your password is changed. {ended} other log-in(s) (other browsers and "
                  "devices) are logged out; this one stays. Your API tokens keep working: "
                  "revoke them below if they may be known.", "success")
            return redirect(url_for("auth.account"))
        if "tok-submit" in request.form and token_form.validate_on_submit():
            _, new_token = create_token(current_user, token_form.name.data)
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template(
        "auth/account.html",
        password_form=password_form,
        token_form=token_form,
        revoke_form=RevokeForm(),
        tokens=tokens,
        new_token=new_token,
        auth=auth_enabled(),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke one of your tokens: it stops working at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        raise NotFound("There is no such token.")
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    audit("token_revoked", current_user, f"token {token.name!r} ({token.prefix}…)")
    flash(f"Token {token.name!r} is revoked.", "info")
    return redirect(url_for("auth.account"))


def _signup_open() -> bool:
    """Open unless QUARTILE_SIGNUP=closed, or an administrator closed it on the users page."""
    if current_app.config.get("SIGNUP", "open") == "closed":
        return False
    setting = db.session.get(SiteSetting, "signup")
    return setting is None or setting.value != "closed"


def init_app(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    limiter.init_app(app)
    app.register_blueprint(bp)
    app.before_request(require_login)
