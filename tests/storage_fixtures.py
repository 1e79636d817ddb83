"""A real S3 server for the tests: one SeaweedFS per test session (per xdist worker), started
like the private redis-servers of tests/stack_fixtures.py, and the `storage_backend` switch.

Modules listed in S3_MODULES run every app test twice, on local files and on SeaweedFS
(conftest's pytest_generate_tests); QUARTILE_TEST_STORAGE=s3 runs the whole suite on SeaweedFS.
Each S3 test gets a prefix of its own in the bucket, so tests never see each other's objects.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest

from scripts.seaweed import SeaweedServer
from store.objects import ObjectStore, objects_for

S3_MODULES = {"test_datasets_api", "test_trash", "test_datasets_by_period", "test_charts_api",
              "test_reports_api"}
EVERYTHING_ON_S3 = os.environ.get("QUARTILE_TEST_STORAGE", "").lower() == "s3"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """The session's SeaweedFS; its AWS_* and QUARTILE_S3_ENDPOINT_URL in the environment (a
    test that stops it starts it again before it ends: see `stopped_store`)."""
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed")).start()
    saved = {name: os.environ.get(name) for name in server.env()}
    os.environ.update(server.env())
    yield server
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def s3_url(seaweed) -> str:
    """A fresh prefix of the session's bucket, as a QUARTILE_STORAGE_URL."""
    return seaweed.storage_url(f"t-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def storage_backend(request) -> str:
    """"local" or "s3": which object store make_app's apps use."""
    return getattr(request, "param", "s3" if EVERYTHING_ON_S3 else "local")


@pytest.fixture
def storage_overrides(request, storage_backend) -> dict:
    if storage_backend == "s3":
        return {"STORAGE_URL": request.getfixturevalue("s3_url"),
                "S3_ENDPOINT_URL": request.getfixturevalue("seaweed").endpoint_url}
    return {}


def parametrize_storage(metafunc) -> None:
    """Both backends for the modules that prove the storage path (see the module docstring)."""
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "storage_backend" in metafunc.fixturenames and module in S3_MODULES \
            and not EVERYTHING_ON_S3:
        metafunc.parametrize("storage_backend", ["local", "s3"], indirect=True)


@dataclass(frozen=True)
class Stored:
    """An object of an app's store, asked like a path: `stored(app, "blobs/ab/…").exists()`."""

    objects: ObjectStore
    key: str

    def exists(self) -> bool:
        return self.objects.exists(self.key)

    def read_bytes(self) -> bytes:
        return self.objects.get_bytes(self.key)

    def write_bytes(self, data: bytes) -> None:
        self.objects.put_bytes(self.key, data)


def stored(app, key: str) -> Stored:
    return Stored(objects_for(app.config["FILES_DIR"]), key)


def stored_keys(app, prefix: str) -> list[str]:
    return sorted(info.key for info in objects_for(app.config["FILES_DIR"]).keys(prefix))
