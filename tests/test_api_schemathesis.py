"""Property-based API testing: schemathesis drives the live app from its own OpenAPI document.

Fails on any 5xx and on any response that breaks the documented schema. Examples are bounded so
the run stays short; the seed is fixed so a failure reproduces. With log-in on, runs sending an
invalid, an expired and a revoked token check no operation answers those with a 5xx.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from store.db import db
from tests.conftest import LiveServer

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.stack
def test_api_survives_schemathesis(live_server, tmp_path):
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples",
        os.environ.get("QUARTILE_SCHEMATHESIS_EXAMPLES", "25"),
        "--seed",
        "20261125",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or "passed" in result.stdout


# -- bad tokens: every operation, invalid / expired / revoked -----------------------------------
def bad_tokens(app) -> dict[str, str]:
    """An invalid token, an expired one and a revoked one (both real tokens of a real user)."""
    from web.auth import create_token, create_user

    with app.app_context():
        user = create_user("schemathesis", "correct horse")
        expired, expired_clear = create_token(user, "expired", expires_days=0)
        revoked, revoked_clear = create_token(user, "revoked")
        revoked.revoked_at = revoked.created_at
        db.session.commit()
    return {"invalid": "qt_" + "x" * 43, "expired": expired_clear, "revoked": revoked_clear}


@pytest.fixture
def secure_live_server(make_app):
    """The live server with log-in on, as deployed."""
    server = LiveServer(make_app(AUTH="on", WTF_CSRF_ENABLED=True)).start()
    yield server
    server.stop()


@pytest.mark.stack
def test_bad_tokens_never_cause_a_server_error(secure_live_server, tmp_path):
    """Every call carries an invalid, an expired or a revoked token, in turn (the hook)."""
    tokens = bad_tokens(secure_live_server.app)
    command = [
        str(SCHEMATHESIS), "run", f"{secure_live_server.url}/api/v1/openapi.json",
        "--checks", "not_a_server_error",
        "--phases", "examples,fuzzing", "--max-examples", "3", "--seed", "20261207",
        "--request-timeout", "30", "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name(
        "schemathesis_bad_tokens.py")), "QUARTILE_TEST_BAD_TOKENS": ",".join(tokens.values())}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                            env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "401" in result.stdout  # the tokens were sent (and refused)


FITTING = {"fmt": "csv", "kind": "dataset"}  # path converters that take a word; "1" fits the rest


def test_every_operation_answers_a_bad_token_with_401(make_app):
    """The deterministic half: each operation of the OpenAPI document, each kind of bad token,
    answers the 401 envelope (public operations answer as for anyone) — never a 5xx."""
    app = make_app(AUTH="on", WTF_CSRF_ENABLED=True)
    tokens = bad_tokens(app)
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    public = {"/api/v1/openapi.json"}
    checked = 0
    for path, operations in spec["paths"].items():
        url = re.sub(r"\{([^}]+)\}", lambda m: FITTING.get(m.group(1), "1"), path)
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for kind, token in tokens.items():
                response = client.open(url, method=method.upper(),
                                       headers={"Authorization": f"Bearer {token}"})
                assert response.status_code < 500, (method, url, kind)
                if path not in public:
                    assert response.status_code == 401, (method, url, kind)
                    assert response.get_json()["error"]["code"] == "bad_token"
                checked += 1
    assert checked >= 3 * 40  # the whole document, not a corner of it
