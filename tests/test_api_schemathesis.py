"""Property-based API testing: schemathesis drives the live app from its own OpenAPI document.

Fails on any 5xx and on any response that breaks the documented schema. Examples are bounded so
the run stays short; the seed is fixed so a failure reproduces.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


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
