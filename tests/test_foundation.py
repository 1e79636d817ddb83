"""Health check, OpenAPI document, security headers, configuration, request log."""

import logging

from config import Config


def test_healthz_reports_version_database_and_pdflatex(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] is True
    assert isinstance(body["pdflatex"], bool)
    assert body["version"]
    assert body["job_engine"] == "embedded"
    assert body["redis"] is None  # not configured


def test_healthz_reports_redis_when_configured(make_app):
    body = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/healthz").get_json()
    assert body["redis"] is False  # nothing listens on port 1


def test_openapi_document_is_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/" in spec["paths"]


def test_api_docs_page_lists_the_endpoints(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/openapi.json" in page
    assert "<code>/api/v1/</code>" in page


def test_security_headers_on_every_response(client):
    for url in ("/", "/healthz", "/no-such-page"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self' 'nonce-" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_inline_scripts_carry_the_responses_nonce(client):
    response = client.get("/")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    html = response.get_data(as_text=True)
    assert html.count("<script") == html.count(f'nonce="{nonce}"')


def test_session_cookie_settings(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_config_reads_quartile_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QUARTILE_FILES_DIR", str(tmp_path))
    monkeypatch.setenv("QUARTILE_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("QUARTILE_SECRET_KEY", "from-env")
    monkeypatch.setenv("QUARTILE_UPLOAD_LIMIT_MB", "7")
    monkeypatch.setenv("QUARTILE_JOB_ENGINE", "celery")
    monkeypatch.setenv("QUARTILE_REDIS_URL", "redis://127.0.0.1:6379/3")
    config = Config()
    assert config.FILES_DIR == tmp_path
    assert config.SQLALCHEMY_DATABASE_URI == "sqlite:///elsewhere.db"
    assert config.SECRET_KEY == "from-env"
    assert config.MAX_CONTENT_LENGTH == 7 * 1024 * 1024
    assert config.JOB_ENGINE == "celery"
    assert config.REDIS_URL == "redis://127.0.0.1:6379/3"


def test_default_secret_key_is_random_and_persistent(monkeypatch, tmp_path):
    monkeypatch.delenv("QUARTILE_SECRET_KEY", raising=False)
    monkeypatch.setenv("QUARTILE_FILES_DIR", str(tmp_path))
    first, second = Config().SECRET_KEY, Config().SECRET_KEY
    assert first == second and len(first) == 64
    assert (tmp_path / ".secret_key").stat().st_mode & 0o077 == 0


def test_one_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="quartile.request"):
        response = client.get("/healthz", headers={"X-Request-Id": "abc123"})
    lines = [r.getMessage() for r in caplog.records if r.name == "quartile.request"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /healthz 200 ")
    assert "id=abc123" in lines[0]
    assert response.headers["X-Request-Id"] == "abc123"


def test_openapi_declares_the_bearer_scheme(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert {"BearerToken": []} in spec["security"]
