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


def test_sign_up_keeps_the_name_and_links_after_log_out_go_to_the_log_in_page(secure_server,
                                                                              page):
    """Regression (issue 17): a PDF link opened after logging out answered raw JSON."""
    p = page.page
    p.goto(secure_server.url + "/signup")
    p.fill("#username", "grace")
    p.fill("#password", "short")
    p.fill("#confirm", "short")
    p.get_by_role("button", name="Sign up").click()
    assert p.input_value("#username") == "grace"  # only the password is typed again
    assert "at least 8 characters" in p.inner_text("main").lower()
    page.check_accessibility()
    p.fill("#password", "correct horse battery")
    p.fill("#confirm", "correct horse battery")
    p.get_by_role("button", name="Sign up").click()
    p.wait_for_url(secure_server.url + "/")
    p.goto(secure_server.url + "/account")  # the first account administers the server
    assert "You are an administrator" in p.inner_text("[data-admin-note]")
    page.check_accessibility()
    p.get_by_role("button", name="Log out").click()
    p.wait_for_url(re.compile(r"/login"))
    pdf = secure_server.url + "/api/v1/reports/abc.pdf"
    p.goto(pdf)  # a link opened in the browser: the log-in page, coming back after
    assert p.url == secure_server.url + "/login?next=/api/v1/reports/abc.pdf"
    assert p.get_by_role("button", name="Log in").is_visible()
    api = p.request.get(pdf, headers={"Accept": "application/json"})
    assert api.status == 401 and api.json()["error"]["code"] == "login_required"


def test_the_administrator_disables_a_user_on_the_users_page(secure_server, page, tmp_path):
    from tests.auth_actions import AuthActions

    AuthActions(secure_server.app, None).create_user("root", admin=True)
    AuthActions(secure_server.app, None).create_user("ada")
    p = page.page
    p.goto(secure_server.url + "/login")
    p.fill("#username", "root")
    p.fill("#password", "correct horse")
    p.get_by_role("button", name="Log in").click()
    p.get_by_role("link", name="Users").click()
    p.wait_for_url(secure_server.url + "/admin/users")
    page.check_accessibility()
    row = p.locator('tr[data-user="ada"]')
    row.get_by_role("button", name="Disable").click()
    p.wait_for_url(secure_server.url + "/admin/users")
    assert row.locator(".badge").inner_text() == "disabled"
    assert p.locator('tr[data-user="root"]').get_by_role("button").count() == 0  # not oneself
    page.check_accessibility()
    p.set_viewport_size({"width": 390, "height": 844})
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    p.screenshot(path=str(tmp_path / "users-phone.png"), full_page=True)  # --basetemp
