"""Accounts: sign-up, log-in, tokens, rate limiting, CSRF, cookies, and the CLI contract."""

import pytest
from sqlalchemy import select

from store.db import db
from store.models import ApiToken, User
from tests.auth_actions import AuthActions


@pytest.fixture
def secure_app(make_app):
    return make_app(AUTH="on", WTF_CSRF_ENABLED=True)


@pytest.fixture
def auth(secure_app):
    return AuthActions(secure_app, secure_app.test_client())


def test_pages_redirect_to_login_and_the_api_answers_401(secure_app):
    client = secure_app.test_client()
    page = client.get("/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login?next=/")
    api = client.get("/api/v1/")
    assert api.status_code == 401
    assert api.get_json()["error"]["code"] == "login_required"
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # a link opened in a tab
    opened = client.get("/api/v1/reports/abc.pdf", headers=browser)
    assert opened.status_code == 302
    assert opened.headers["Location"] == "/login?next=/api/v1/reports/abc.pdf"
    for headers in ({"Accept": "*/*"}, {**browser, "Authorization": "Bearer nope"}):
        assert client.get("/api/v1/reports/abc.pdf", headers=headers).status_code == 401
    assert client.post("/api/v1/reports", headers=browser, json={}).status_code == 401
    assert client.get("/healthz").status_code == 200  # public
    assert client.get("/api/v1/openapi.json").status_code == 200  # public


def test_signup_logs_in_and_the_first_user_is_admin(auth, secure_app):
    response = auth.signup("ada")
    assert response.status_code == 302
    assert auth.client.get("/").status_code == 200
    auth.logout()
    auth.signup("grace")
    with secure_app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        assert users["ada"].is_admin and not users["grace"].is_admin
        assert "correct horse" not in users["ada"].password_hash
        assert users["ada"].password_hash.startswith("scrypt:")


def test_login_logout_and_wrong_password(auth):
    auth.signup("ada")
    auth.logout()
    assert auth.client.get("/").status_code == 302
    wrong = auth.login("ada", "not the password")
    assert wrong.status_code == 401
    assert "Wrong user name or password." in wrong.get_data(as_text=True)
    assert auth.login("ada").status_code == 302
    assert auth.client.get("/").status_code == 200


def test_six_wrong_passwords_are_rate_limited(auth):
    auth.create_user("ada")
    statuses = [auth.login("ada", f"wrong-{i}").status_code for i in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    limited = auth.client.post(
        "/login",
        data={"username": "ada", "password": "x", "csrf_token": auth.csrf()},
        headers={"Accept": "application/json"},
    )
    assert limited.status_code == 429
    assert "Too many log-in attempts" in limited.get_json()["error"]["message"]


def test_login_post_without_csrf_token_is_400(secure_app):
    response = secure_app.test_client().post(
        "/login", data={"username": "ada", "password": "x"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 400
    assert "security token (CSRF)" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(auth):
    response = auth.signup("ada")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_cli_create_user_and_token_contract(auth, secure_app):
    result = auth.create_user("root", admin=True)
    assert "Created user 'root' (administrator)." in result.output
    token = auth.token_for("root")
    assert token.startswith("qt_") and len(token) > 30
    client = secure_app.test_client()
    answer = client.get("/api/v1/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    with secure_app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert stored.token_hash != token and token not in stored.token_hash
        assert stored.last_used_at is not None


def test_cli_refuses_a_taken_name(auth, secure_app):
    auth.create_user("ada")
    result = secure_app.test_cli_runner().invoke(
        args=["quartile", "create-user", "ada", "--password", "another one"]
    )
    assert result.exit_code != 0
    assert "The user name 'ada' is taken." in result.output


@pytest.mark.parametrize("token", ["qt_guessed-token-value", "", "Bearer"])
def test_guessed_tokens_are_401_json(secure_app, token):
    response = secure_app.test_client().get(
        "/api/v1/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.content_type == "application/json"
    assert response.get_json()["error"]["status"] == 401


def test_revoked_token_stops_working(auth, secure_app):
    auth.signup("ada")
    page = auth.client.post(
        "/account",
        data={"tok-name": "laptop", "tok-submit": "1", "tok-csrf_token": auth.csrf("/account")},
    )
    html = page.get_data(as_text=True)
    token = html.split('id="new-token">')[1].split("<")[0]
    bearer = {"Authorization": f"Bearer {token}"}
    other = secure_app.test_client()
    assert other.get("/api/v1/", headers=bearer).status_code == 200
    with secure_app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    revoke = auth.client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": auth.csrf("/account")}
    )
    assert revoke.status_code == 302
    refused = other.get("/api/v1/", headers=bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.get_json()["error"]["message"]


def test_change_password(auth):
    auth.signup("ada")
    response = auth.client.post(
        "/account",
        data={
            "pw-current": "correct horse",
            "pw-password": "battery staple",
            "pw-confirm": "battery staple",
            "pw-submit": "1",
            "pw-csrf_token": auth.csrf("/account"),
        },
    )
    assert response.status_code == 302
    auth.logout()
    assert auth.login("ada", "correct horse").status_code == 401
    assert auth.login("ada", "battery staple").status_code == 302


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "x'; DROP TABLE users;--"])
def test_hostile_user_names_are_rendered_inert(auth, secure_app, name):
    assert auth.signup(name).status_code == 302
    html = auth.client.get("/account").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    with secure_app.app_context():
        assert db.session.scalar(select(User.username).where(User.username == name)) == name


def test_signup_can_be_closed(make_app):
    app = make_app(AUTH="on", SIGNUP="closed")
    response = app.test_client().get("/signup")
    assert response.status_code == 403
    assert "Sign-up is closed" in response.get_data(as_text=True)


def test_login_never_redirects_off_site(auth):
    auth.create_user("ada")
    response = auth.client.post(
        "/login?next=//evil.example/x",
        data={"username": "ada", "password": "correct horse", "csrf_token": auth.csrf()},
    )
    assert response.headers["Location"] == "/"


def test_auth_off_needs_no_login(client):
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/").status_code == 200


def test_a_visitor_sees_no_feature_links(secure_app):
    page = secure_app.test_client().get("/login").get_data(as_text=True)
    assert 'href="/datasets"' not in page and 'href="/equations"' not in page
    assert 'href="/signup"' in page


def test_the_local_user_made_meanwhile_by_another_node_is_reused(make_app, monkeypatch):
    """Two nodes' first requests with QUARTILE_AUTH=off: both find no local user, both insert
    it; the one that loses the race on the unique name reads the winner's row (no 500)."""
    from web.auth import local_user

    app = make_app(AUTH="off")
    with app.app_context():
        winner = local_user().id  # the other node's row, already committed
        scalar = db.session.scalar
        calls = []

        def not_yet_seen(statement, *args, **kwargs):
            calls.append(statement)
            return None if len(calls) == 1 else scalar(statement, *args, **kwargs)

        monkeypatch.setattr(db.session, "scalar", not_yet_seen)
        assert local_user().id == winner
        assert db.session.scalars(select(User)).all() == [db.session.get(User, winner)]
