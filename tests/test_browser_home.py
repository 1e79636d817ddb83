"""The home page in real Chromium: it loads, its links work, it is accessible, nothing leaves."""

import pytest

pytestmark = pytest.mark.browser


def test_home_page_loads_and_every_link_answers(live_server, page):
    response = page.page.goto(live_server.url + "/")
    assert response.status == 200
    assert page.page.title() == "Home · Quartile"
    page.check_accessibility()
    hrefs = page.page.eval_on_selector_all(
        "a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    local = sorted({h for h in hrefs if h.startswith("/")})
    assert "/api/v1/docs" in local and "/healthz" in local
    for href in local:
        answer = page.page.goto(live_server.url + href)
        assert answer.status == 200, href
        if "text/html" in answer.headers.get("content-type", ""):
            page.check_accessibility()


def test_error_page_is_html_with_the_message(live_server, page):
    answer = page.page.goto(live_server.url + "/no-such-page")
    assert answer.status == 404
    assert "Nothing is found at /no-such-page." in page.page.inner_text("main")
    page.console_errors.clear()  # Chromium logs the 404 status of the page itself
