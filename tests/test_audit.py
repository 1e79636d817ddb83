"""The audit log: security events with user, time, event and source address, for
administrators only (a 404 for anyone else, as for a page that does not exist)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.auth_actions import AuthActions, app_with_users
from tests.upload_actions import UploadActions


@pytest.fixture
def app(make_app):
    return app_with_users(make_app)


def events_for_root(app, **query) -> dict:
    root = AuthActions(app, app.test_client())
    assert root.login("root").status_code == 302
    response = root.client.get("/api/v1/audit", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_security_events_are_logged_with_user_time_and_address(app):
    ada = AuthActions(app, app.test_client())
    assert ada.login("ada", "wrong password").status_code == 401
    assert ada.login("mallory", "guess").status_code == 401
    assert ada.login("ada").status_code == 302
    ada.client.post("/account", data={"tok-name": "laptop", "tok-submit": "1",
                                      "csrf_token": ada.csrf("/account")})
    from store.db import db
    from store.models import ApiToken

    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.name == "laptop"))
        prefix, token_id = token.prefix, token.id
    ada.client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": ada.csrf("/account")})
    csrf = {"X-CSRFToken": ada.csrf("/account")}
    dataset = UploadActions(ada.client, csrf).dataset("HousingPreferences.csv")
    url = f"/api/v1/datasets/{dataset['id']}"
    assert ada.client.post(f"{url}/shares", json={"username": "bob"},
                           headers=csrf).status_code == 200
    assert ada.client.delete(url, headers=csrf).status_code == 204
    assert ada.client.post(f"/api/v1/trash/dataset/{dataset['id']}/restore",
                           headers=csrf).status_code == 200
    ada.logout()

    body = events_for_root(app)
    mine = [(e["user"], e["event"], e["detail"]) for e in reversed(body["events"])
            if e["user"] in ("ada", "mallory")]
    assert mine == [
        ("ada", "login_failed", ""),
        ("mallory", "login_failed", ""),
        ("ada", "login", ""),
        ("ada", "token_created", f"token 'laptop' ({prefix}…)"),
        ("ada", "token_revoked", f"token 'laptop' ({prefix}…)"),
        ("ada", "dataset_shared", f"dataset {dataset['id']} with 'bob'"),
        ("ada", "deleted", f"dataset {dataset['id']} 'HousingPreferences.csv'"),
        ("ada", "restored", f"dataset {dataset['id']} 'HousingPreferences.csv'"),
        ("ada", "logout", ""),
    ]
    assert body["total"] == len(body["events"])
    newest = body["events"][0]
    assert newest["event"] == "login" and newest["user"] == "root"  # root reading the log
    assert {e["address"] for e in body["events"]} == {"127.0.0.1"}
    for event in body["events"]:
        assert abs(datetime.now(UTC) - datetime.fromisoformat(event["time"])) < timedelta(
            minutes=5)
    only = events_for_root(app, event="login_failed")
    assert {e["user"] for e in only["events"]} == {"ada", "mallory"} and only["total"] == 2


def test_only_administrators_see_the_audit_log(app):
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/audit").status_code == 401
    ada = AuthActions(app, app.test_client())
    ada.login("ada")
    for path in ("/api/v1/audit", "/admin/audit"):
        response = ada.client.get(path)
        assert response.status_code == 404, path
    assert "Audit log" not in ada.client.get("/").get_data(as_text=True)  # no link either
    root = AuthActions(app, app.test_client())
    root.login("root")
    page = root.client.get("/admin/audit")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<td>ada</td><td>login</td>" in text.replace("\n", "")
    assert root.client.get("/api/v1/audit?event=nonsense").status_code == 422
    # found by schemathesis: an offset beyond SQLite's integers was a 500
    assert root.client.get("/api/v1/audit?offset=56068178439013713051648").status_code == 422
