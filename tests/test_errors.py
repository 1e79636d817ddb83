"""The error contract: one envelope, the right status, JSON for the API and HTML for pages."""

import pytest
from flask import Blueprint, request

from errors import BadInput, Unprocessable

API_JSON = {"Accept": "application/json"}


def assert_envelope(response, status, code, message_part):
    assert response.status_code == status
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert message_part in error["message"]


def test_unknown_api_url_is_a_json_404(client):
    assert_envelope(
        client.get("/api/v1/no-such-thing"),
        404,
        "not_found",
        "Nothing is found at /api/v1/no-such-thing.",
    )


def test_unknown_page_is_an_html_404_with_the_same_message(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert "Nothing is found at /no-such-page." in response.get_data(as_text=True)


def test_a_client_preferring_json_gets_json_for_a_page_url(client):
    assert_envelope(
        client.get("/no-such-page", headers=API_JSON), 404, "not_found", "/no-such-page"
    )


def test_wrong_method_is_405_with_allow_header(client):
    response = client.post("/healthz")
    assert_envelope(response, 405, "method_not_allowed", "POST is not allowed on /healthz")
    assert "GET" in response.headers["Allow"]


def test_wrong_method_page_flavour(client):
    response = client.delete("/", headers={"Accept": "text/html"})
    assert response.status_code == 405
    assert "DELETE is not allowed on /" in response.get_data(as_text=True)


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_oversized_body_is_413_naming_the_limit(make_app, accept):
    app = make_app(MAX_CONTENT_LENGTH=300 * 1024)
    bp = Blueprint("reader", __name__)

    @bp.post("/api/v1/test-read")
    def read():
        return {"size": len(request.get_data())}

    app.register_blueprint(bp)
    client = app.test_client()
    response = client.post(
        "/api/v1/test-read",
        data=b"x" * (400 * 1024),
        headers={"Accept": accept, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 413
    assert "larger than the 300 KB limit" in response.get_data(as_text=True)


def _app_with_failing_views(make_app):
    app = make_app()
    bp = Blueprint("failing", __name__)

    @bp.get("/api/v1/test-bad-input")
    def bad_input():
        raise BadInput("Column 'Price' is not numeric.")

    @bp.get("/test-unprocessable")
    def unprocessable():
        raise Unprocessable("The equation solver took longer than 5 s.", code="time_limit")

    @bp.get("/api/v1/test-crash")
    def crash():
        raise RuntimeError("secret internal detail")

    app.register_blueprint(bp)
    return app


def test_quartile_errors_use_their_status_code_and_message(make_app):
    client = _app_with_failing_views(make_app).test_client()
    assert_envelope(
        client.get("/api/v1/test-bad-input"), 400, "bad_input", "Column 'Price' is not numeric."
    )
    page = client.get("/test-unprocessable", headers={"Accept": "text/html"})
    assert page.status_code == 422
    assert "The equation solver took longer than 5 s." in page.get_data(as_text=True)


@pytest.mark.expected_traceback
def test_an_unexpected_error_is_a_500_without_the_traceback(make_app, caplog):
    client = _app_with_failing_views(make_app).test_client()
    response = client.get("/api/v1/test-crash")
    assert_envelope(response, 500, "internal_error", "request id")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "secret internal detail" in caplog.text  # but the log has it


def test_form_post_without_csrf_token_is_400(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    bp = Blueprint("form", __name__)

    @bp.post("/test-form")
    def form():
        return "accepted"

    app.register_blueprint(bp)
    response = app.test_client().post(
        "/test-form", data={"name": "x"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 400
    assert "without a valid security token (CSRF)" in response.get_data(as_text=True)
    json_response = app.test_client().post("/test-form", data={"name": "x"}, headers=API_JSON)
    assert_envelope(json_response, 400, "csrf_failed", "security token")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/datasets?q=a%00b", None),
        ("get", "/api/v1/datasets/ab%00cd", None),
        ("post", "/api/v1/reports", {"dataset": "x\u0000y", "sections": [{"type": "summary"}]}),
    ],
)
def test_nul_characters_are_a_clear_400(client, method, url, body):
    response = getattr(client, method)(url, json=body) if body else getattr(client, method)(url)
    assert_envelope(response, 400, "nul_character", "NUL character")
