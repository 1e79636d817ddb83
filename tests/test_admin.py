"""The users page for administrators: list, disable, set a password, promote, close sign-up;
a 404 for anyone else, and every change in the audit log."""

import pytest

from tests.auth_actions import AuthActions, app_with_users


@pytest.fixture
def app(make_app):
    """An administrator, root, and a user, ada."""
    return app_with_users(make_app, users=("ada",))


def logged_in(app, name: str) -> AuthActions:
    actions = AuthActions(app, app.test_client())
    assert actions.login(name).status_code == 302
    return actions


def user_id(app, name: str) -> int:
    from store.db import db
    from store.models import User

    with app.app_context():
        return db.session.scalar(db.select(User.id).where(User.username == name))


def post(actions: AuthActions, path: str, **data):
    return actions.client.post(path, data={"csrf_token": actions.csrf("/admin/users"), **data})


def test_only_an_administrator_sees_the_users_page(app):
    ada = logged_in(app, "ada")
    assert ada.client.get("/admin/users").status_code == 404
    assert post(ada, f"/admin/users/{user_id(app, 'root')}/admin").status_code == 404
    assert AuthActions(app, app.test_client()).client.get("/admin/users").status_code == 302
    root = logged_in(app, "root")
    page = root.client.get("/admin/users").get_data(as_text=True)
    assert 'data-user="ada"' in page and 'data-user="root"' in page
    assert 'href="/admin/audit"' in page
    assert "You are an administrator" in root.client.get("/account").get_data(as_text=True)
    assert "You are an administrator" not in ada.client.get("/account").get_data(as_text=True)


def test_a_disabled_user_is_logged_out_and_refused_until_enabled(app):
    ada = logged_in(app, "ada")
    token = ada.token_for("ada")
    bearer = {"Authorization": f"Bearer {token}"}
    assert ada.client.get("/api/v1/datasets", headers=bearer).status_code == 200
    root = logged_in(app, "root")
    ada_id = user_id(app, "ada")
    assert post(root, f"/admin/users/{ada_id}/disable").status_code == 302
    assert ada.client.get("/account").status_code == 302  # the session ended
    assert ada.client.get("/api/v1/datasets", headers=bearer).status_code == 401
    refused = ada.login("ada")
    assert refused.status_code == 403 and "disabled" in refused.get_data(as_text=True)
    assert post(root, f"/admin/users/{ada_id}/disable").status_code == 302  # enable again
    assert ada.login("ada").status_code == 302
    assert ada.client.get("/api/v1/datasets", headers=bearer).status_code == 200
    events = root.client.get("/api/v1/audit").get_json()["events"]
    assert [e["event"] for e in events[:4]] == ["login", "user_enabled", "login_failed",
                                                "user_disabled"]


def test_a_new_password_promotion_and_the_administrators_own_account(app):
    root, ada = logged_in(app, "root"), logged_in(app, "ada")
    ada_id = user_id(app, "ada")
    short = post(root, f"/admin/users/{ada_id}/password", password="short")
    assert short.status_code == 400 and "at least 8" in short.get_data(as_text=True)
    assert post(root, f"/admin/users/{ada_id}/password",
                password="a new long one").status_code == 302
    assert ada.client.get("/account").status_code == 302  # logged out everywhere
    assert ada.login("ada").status_code == 401
    assert ada.login("ada", "a new long one").status_code == 302
    assert post(root, f"/admin/users/{ada_id}/admin").status_code == 302
    assert ada.client.get("/admin/users").status_code == 200  # now an administrator
    mine = post(root, f"/admin/users/{user_id(app, 'root')}/disable")
    assert mine.status_code == 400 and "your own account" in mine.get_data(as_text=True)


def test_closing_sign_up(app):
    root = logged_in(app, "root")
    visitor = AuthActions(app, app.test_client())
    assert visitor.client.get("/signup").status_code == 200
    assert post(root, "/admin/signup").status_code == 302
    assert visitor.client.get("/signup").status_code == 403
    assert visitor.signup("eve", "correct horse").status_code == 403
    assert 'data-signup="closed"' in root.client.get("/admin/users").get_data(as_text=True)
    assert post(root, "/admin/signup").status_code == 302
    assert visitor.client.get("/signup").status_code == 200
