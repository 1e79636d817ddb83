"""Ownership: another user's dataset is a 404 everywhere, unless shared or public."""

import pytest

from tests.auth_actions import AuthActions
from tests.upload_actions import UploadActions


@pytest.fixture
def secure_app(make_app):
    return make_app(AUTH="on")


def _user(app, name):
    auth = AuthActions(app, app.test_client())
    auth.create_user(name)
    headers = {"Authorization": f"Bearer {auth.token_for(name)}"}
    return UploadActions(app.test_client(), headers), auth


def test_another_users_dataset_is_404_on_page_api_and_downloads(secure_app):
    alice, _ = _user(secure_app, "alice")
    bob, bob_auth = _user(secure_app, "bob")
    dataset = alice.dataset("2020Q1.xlsx")
    ds = dataset["id"]
    for url in (
        f"/api/v1/datasets/{ds}",
        f"/api/v1/datasets/{ds}/original",
        f"/api/v1/datasets/{ds}/sheets/HPI/rows",
        f"/api/v1/datasets/{ds}/sheets/HPI/export/csv",
        f"/api/v1/datasets/{ds}/sheets/HPI/first-look",
    ):
        response = bob.client.get(url, headers=bob.headers)
        assert response.status_code == 404, url
        assert response.get_json()["error"]["message"] == f"There is no dataset {ds!r}."
    assert bob.client.delete(f"/api/v1/datasets/{ds}", headers=bob.headers).status_code == 404
    bob_auth.login("bob")
    assert bob_auth.client.get(f"/datasets/{ds}").status_code == 404
    assert bob_auth.client.get(f"/datasets/{ds}/delete").status_code == 404
    # and Alice still has it
    assert alice.client.get(f"/api/v1/datasets/{ds}", headers=alice.headers).status_code == 200


def test_lists_show_only_ones_own(secure_app):
    alice, _ = _user(secure_app, "alice")
    bob, _ = _user(secure_app, "bob")
    alice.dataset("2020Q1.xlsx")
    mine = bob.dataset("HousingPreferences.csv")
    listing = bob.client.get("/api/v1/datasets", headers=bob.headers).get_json()
    assert [d["id"] for d in listing["datasets"]] == [mine["id"]]


def test_same_bytes_by_two_users_are_stored_once_but_owned_separately(secure_app):
    alice, _ = _user(secure_app, "alice")
    bob, _ = _user(secure_app, "bob")
    a = alice.upload("2020Q1.xlsx")
    b = bob.upload("2020Q1.xlsx")
    assert a.status_code == b.status_code == 201
    assert a.get_json()["id"] != b.get_json()["id"]
    files = secure_app.config["FILES_DIR"]
    assert len([p for p in (files / "blobs").rglob("*") if p.is_file()]) == 1
    # Alice deletes hers: Bob's still reads, the shared bytes stay
    alice.client.delete(f"/api/v1/datasets/{a.get_json()['id']}", headers=alice.headers)
    assert bob.rows(b.get_json()["id"], "HPI").status_code == 200


def test_sharing_read_only_and_public(secure_app):
    alice, _ = _user(secure_app, "alice")
    bob, _ = _user(secure_app, "bob")
    carol, _ = _user(secure_app, "carol")
    ds = alice.dataset("2020Q1.xlsx")["id"]
    shared = alice.client.post(
        f"/api/v1/datasets/{ds}/shares", json={"username": "bob"}, headers=alice.headers
    )
    assert shared.status_code == 200
    assert bob.rows(ds, "HPI").status_code == 200
    refused = bob.client.delete(f"/api/v1/datasets/{ds}", headers=bob.headers)
    assert refused.status_code == 403
    assert "read-only" in refused.get_json()["error"]["message"]
    assert carol.rows(ds, "HPI").status_code == 404
    alice.client.patch(f"/api/v1/datasets/{ds}", json={"is_public": True}, headers=alice.headers)
    assert carol.rows(ds, "HPI").status_code == 200
    unknown = alice.client.post(
        f"/api/v1/datasets/{ds}/shares", json={"username": "nobody"}, headers=alice.headers
    )
    assert unknown.status_code == 400
    assert "no user named 'nobody'" in unknown.get_json()["error"]["message"]
