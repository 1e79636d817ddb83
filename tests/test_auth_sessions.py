"""Sessions the server can end, bad tokens that are a clean 401, log-in timing, sign-up limits.

Regression tests for issue 20's holes 2-4: each failed on the code before the fix."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import update

from store.db import db
from store.models import ApiToken
from tests.auth_actions import AuthActions


@pytest.fixture
def auth(make_app):
    """Log-in on, CSRF checked: the app as served (`auth.app`)."""
    app = make_app(AUTH="on", WTF_CSRF_ENABLED=True)
    return AuthActions(app, app.test_client())


def second_browser(app, username="ada", password="correct horse") -> AuthActions:
    other = AuthActions(app, app.test_client())
    assert other.login(username, password).status_code == 302
    return other


def logged_in(client) -> bool:
    return client.get("/datasets").status_code == 200


# -- hole 2: a bad bearer token on a page ------------------------------------------------------
@pytest.mark.parametrize("path", ["/datasets", "/", "/account", "/trash", "/api/v1/datasets"])
def test_an_invalid_bearer_token_is_a_401_not_a_500(auth, path, caplog):
    """Regression: the error page loaded the user again and raised inside the handler (500)."""
    client = auth.app.test_client()
    response = client.get(path, headers={"Authorization": "Bearer qt_x"})
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "The API token is not valid, has expired or has been revoked." in text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_revoked_and_expired_tokens_are_refused_on_pages_and_the_api(auth):
    auth.create_user("ada")
    revoked, expired, good = (auth.token_for("ada") for _ in range(3))
    with auth.app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.prefix == revoked[:10])
                           .values(revoked_at=datetime.now(UTC)))
        db.session.execute(update(ApiToken).where(ApiToken.prefix == expired[:10])
                           .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    client = auth.app.test_client()
    for token in (revoked, expired):
        for path in ("/datasets", "/api/v1/datasets"):
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (token, path)
    assert client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {good}"}
                      ).status_code == 200


def test_a_token_made_to_expire_works_until_then(auth):
    from web.auth import create_token, find_user, user_for_token

    auth.create_user("ada")
    with auth.app.app_context():
        token, clear = create_token(find_user("ada"), "short", expires_days=1)
        assert user_for_token(clear).username == "ada"
        token.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
        assert user_for_token(clear) is None


# -- hole 3: sessions ------------------------------------------------------------------------
def test_a_session_cookie_copied_before_log_out_no_longer_works(auth):
    """Regression: Flask's signed cookie stayed valid after log-out."""
    auth.signup("ada")
    copy = auth.app.test_client()
    copy.set_cookie("session", auth.client.get_cookie("session").value)
    assert logged_in(copy)
    auth.logout()
    assert not logged_in(auth.client)
    assert not logged_in(copy)  # the server ended that log-in
    assert auth.login("ada").status_code == 302
    assert not logged_in(copy)  # still not, when its row has been cleared away
    from store.models import LoginSession

    with auth.app.app_context():  # ended log-ins are not kept
        assert db.session.scalar(db.select(db.func.count(LoginSession.id))) == 1


def test_log_out_ends_only_that_session(auth):
    auth.signup("ada")
    laptop = second_browser(auth.app)
    auth.logout()
    assert logged_in(laptop.client)


def test_a_password_change_ends_the_other_sessions_and_says_so(auth):
    """Regression: other browsers stayed logged in after a password change."""
    auth.signup("ada")
    laptop = second_browser(auth.app)
    token = auth.token_for("ada")
    page = auth.client.post("/account", data={
        "pw-current": "correct horse", "pw-password": "battery staple",
        "pw-confirm": "battery staple", "pw-submit": "1",
        "csrf_token": auth.csrf("/account")}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Your password is changed. 1 other log-in(s) (other browsers and devices) are " \
           "logged out; this one stays." in text
    assert "Your API tokens keep working" in text
    assert "Changing it logs you out in every other browser and device" in text  # said before
    assert logged_in(auth.client)
    assert not logged_in(laptop.client)
    assert auth.client.get("/api/v1/datasets", headers={
        "Authorization": f"Bearer {token}"}).status_code == 200  # nothing revoked silently
    assert second_browser(auth.app, password="battery staple")


@pytest.mark.parametrize(("days", "setting"), [(30, {}), (2, {"SESSION_DAYS": 2})])
def test_remember_me_is_bounded(make_app, days, setting):
    """Regression: the remember-me cookie lasted a year and nothing ended it."""
    from config import Config

    if setting:  # as QUARTILE_SESSION_DAYS would: the cookie's lifetime follows
        setting["REMEMBER_COOKIE_DURATION"] = Config(**setting).REMEMBER_COOKIE_DURATION
    app = make_app(AUTH="on", WTF_CSRF_ENABLED=True, **setting)
    auth = AuthActions(app, app.test_client())
    auth.create_user("ada")
    response = auth.client.post("/login", data={
        "username": "ada", "password": "correct horse", "remember": "y",
        "csrf_token": auth.csrf()})
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("remember_token="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    lasts = expires - datetime.now(UTC)
    assert timedelta(days=days) - timedelta(minutes=5) < lasts <= timedelta(days=days)
    remembered = app.test_client()  # a new browser with only the remember-me cookie
    remembered.set_cookie("remember_token", auth.client.get_cookie("remember_token").value)
    assert logged_in(remembered)
    from store.models import LoginSession

    with app.app_context():  # the server-side bound holds even if the cookie were kept
        db.session.execute(update(LoginSession).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    fresh = app.test_client()
    fresh.set_cookie("remember_token", auth.client.get_cookie("remember_token").value)
    assert not logged_in(fresh)


def test_session_days_is_read_from_the_environment(monkeypatch):
    from config import Config

    monkeypatch.setenv("QUARTILE_SESSION_DAYS", "7")
    config = Config()
    assert config.SESSION_DAYS == 7 and config.REMEMBER_COOKIE_DURATION == timedelta(days=7)


# -- hole 4: enumeration -----------------------------------------------------------------------
def test_log_in_checks_one_password_hash_whether_or_not_the_user_exists(auth, monkeypatch):
    """Regression: only existing users' passwords were hashed, so log-in was slower for them."""
    import web.auth

    auth.create_user("ada")
    calls = []
    real = web.auth.check_password_hash
    monkeypatch.setattr(web.auth, "check_password_hash",
                        lambda stored, given: calls.append(stored) or real(stored, given))
    for name in ("ada", "nobody-by-this-name"):
        calls.clear()
        response = auth.login(name, "wrong password")
        assert response.status_code == 401
        assert "Wrong user name or password." in response.get_data(as_text=True)
        assert len(calls) == 1 and calls[0].startswith("scrypt:"), name


def test_sign_up_is_rate_limited_like_log_in(auth):
    """Regression: names could be tried at full speed through sign-up's "taken" message."""
    auth.create_user("ada")
    statuses = [auth.signup("ada").status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5  # the form again, saying the name is taken
    assert statuses[5] == 429
    assert "Too many sign-up attempts" in auth.signup("ada").get_data(as_text=True)


def test_a_log_in_on_one_node_holds_on_another_and_ends_on_both(make_app, tmp_path):
    """App nodes behind a load balancer share the database and QUARTILE_SECRET_KEY, nothing
    else: the session and the CSRF token one node made are honoured by the other, and a log-out
    on either ends it on both (README, "Running on several machines": no sticky sessions)."""
    node_a = make_app(AUTH="on", WTF_CSRF_ENABLED=True, SECRET_KEY="shared by the nodes")
    node_b = make_app(AUTH="on", WTF_CSRF_ENABLED=True, SECRET_KEY="shared by the nodes",
                      FILES_DIR=tmp_path / "node-b")
    browser = AuthActions(node_a, node_a.test_client())
    assert browser.signup().status_code == 302
    on_b = node_b.test_client()
    on_b.set_cookie("session", browser.client.get_cookie("session").value)
    assert logged_in(browser.client) and logged_in(on_b)
    token_from_a = browser.csrf("/account")
    assert on_b.post("/logout", data={"csrf_token": token_from_a}).status_code == 302
    assert not logged_in(browser.client)
