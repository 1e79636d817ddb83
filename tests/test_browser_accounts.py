"""Accounts in Chromium: sign up, upload, log out, and the upload is no longer reachable."""

import re

import pytest

from tests.upload_actions import DATA

pytestmark = pytest.mark.browser


@pytest.fixture
def secure_server(make_app):
    from tests.conftest import LiveServer

    server = LiveServer(make_app(AUTH="on", WTF_CSRF_ENABLED=True)).start()
    yield server
    server.stop()


def test_sign_up_upload_log_out(secure_server, page):
    p = page.page
    p.goto(secure_server.url + "/")
    p.wait_for_url(re.compile(r"/login"))
    page.check_accessibility()
    p.get_by_role("link", name="Sign up").click()
    p.fill("#username", "<b>ada</b>")
    p.fill("#password", "correct horse battery")
    p.fill("#confirm", "correct horse battery")
    p.get_by_role("button", name="Sign up").click()
    p.wait_for_url(secure_server.url + "/")
    assert "Welcome, <b>ada</b>." in p.inner_text("main")  # shown as text, not markup
    p.goto(secure_server.url + "/upload")
    with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
        p.set_input_files("#file-input", str(DATA / "HousingPreferences.csv"))
    dataset_url = p.url
    p.get_by_role("button", name="Log out").click()
    p.wait_for_url(re.compile(r"/login"))
    answer = p.goto(dataset_url)
    assert "/login" in p.url  # pages send a stranger to the log-in form
    api = p.request.get(dataset_url.replace("/datasets/", "/api/v1/datasets/"))
    assert api.status == 401
    assert answer.status == 200
