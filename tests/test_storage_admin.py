"""`quartile storage migrate` (local files → a real SeaweedFS, verified, recorded, re-runnable)
and `quartile storage sweep` (orphans older than the grace period go; what rows need stays)."""

from __future__ import annotations

import hashlib
import logging
import shutil

import pytest

from store.db import db
from store.models import Dataset, Job, SiteSetting
from store.objects import objects_for
from tests.conftest import DATA
from tests.storage_fixtures import stored_keys
from tests.test_reports_api import housing_scatter
from tests.upload_actions import UploadActions
from upload import service

HOUSING = "HousingPreferences"


def quartile(app, *args):
    return app.test_cli_runner().invoke(args=["quartile", *args])


def chart_png(client, dataset_id: str) -> bytes:
    chart = housing_scatter(client, dataset_id)
    with client.get(f"/api/v1/charts/{chart['id']}.png") as response:
        assert response.status_code == 200
        return response.data


def test_migrate_copies_verifies_switches_and_runs_again(make_app, s3_url, seaweed):
    app = make_app()
    client = app.test_client()
    dataset = UploadActions(client).dataset("HousingPreferences.csv")
    chart_png(client, dataset["id"])
    local = objects_for(app.config["FILES_DIR"])
    before = {key: local.digest(key) for key in stored_keys(app, "")}
    assert any(k.startswith("charts/") for k in before) and len(before) > 3

    result = quartile(app, "storage", "migrate", "--to", s3_url)
    assert result.exit_code == 0, result.output
    assert f"Copied {len(before)} object(s), 0 already there" in result.output
    with app.app_context():
        assert db.session.get(SiteSetting, "storage_url").value == s3_url

    again = quartile(app, "storage", "migrate", "--to", s3_url)
    assert again.exit_code == 0, again.output
    assert f"Copied 0 object(s), {len(before)} already there" in again.output

    # A node started now follows the recorded URL, with no local copy of anything.
    for folder in ("blobs", "sheets", "charts"):
        shutil.rmtree(app.config["FILES_DIR"] / folder)
    service._read_cached.cache_clear()
    node = make_app()
    objects = objects_for(node.config["FILES_DIR"])
    assert objects.url == s3_url
    assert {key: objects.digest(key) for key in stored_keys(node, "")} == before
    node_client = node.test_client()
    assert UploadActions(node_client).rows(dataset["id"], HOUSING).status_code == 200
    with node_client.get(f"/api/v1/datasets/{dataset['id']}/original") as response:
        assert response.data == (DATA / "HousingPreferences.csv").read_bytes()


def test_an_explicit_storage_url_wins_over_the_recorded_one_with_a_warning(make_app, s3_url,
                                                                            tmp_path, caplog):
    app = make_app()
    assert quartile(app, "storage", "migrate", "--to", s3_url).exit_code == 0
    elsewhere = (tmp_path / "elsewhere").as_uri()
    with caplog.at_level(logging.WARNING, logger="quartile.storage"):
        node = make_app(STORAGE_URL=elsewhere)
    assert objects_for(node.config["FILES_DIR"]).url == elsewhere
    assert f"QUARTILE_STORAGE_URL={elsewhere} differs from the storage {s3_url}" in caplog.text


def test_a_migration_that_reads_back_other_bytes_switches_nothing(make_app, s3_url,
                                                                   monkeypatch):
    from store.s3_objects import S3Objects

    app = make_app()
    UploadActions(app.test_client()).dataset("HousingPreferences.csv")
    monkeypatch.setattr(S3Objects, "digest", lambda self, key: "0" * 64)
    result = quartile(app, "storage", "migrate", "--to", s3_url)
    assert result.exit_code == 1
    assert "read back differently" in result.output and "nothing was switched" in result.output
    with app.app_context():
        assert db.session.get(SiteSetting, "storage_url") is None


def test_migrate_refuses_a_bad_url(make_app):
    result = quartile(make_app(), "storage", "migrate", "--to", "ftp://x")
    assert result.exit_code == 1
    assert "file:///path or s3://bucket/prefix" in result.output


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_sweep_deletes_old_orphans_and_keeps_what_rows_need(make_app, backend, request):
    app = make_app(**({"STORAGE_URL": request.getfixturevalue("s3_url")}
                      if backend == "s3" else {}))
    client = app.test_client()
    dataset = UploadActions(client).dataset("HousingPreferences.csv")
    objects = objects_for(app.config["FILES_DIR"])
    needed = stored_keys(app, "")
    orphan, pending = (hashlib.sha256(name).hexdigest() for name in (b"orphan", b"pending"))
    orphans = [f"blobs/{orphan[:2]}/{orphan}", f"sheets/{orphan}/{'1' * 64}/meta.json",
               f"sheets/{dataset['sha256']}/{'2' * 64}/old.parquet", f"reports/{'3' * 64}.pdf"]
    kept = [f"charts/ab/{'4' * 64}.png", f"blobs/{pending[:2]}/{pending}",
            f"sheets/{pending}/{'5' * 64}/meta.json"]
    for key in orphans + kept:
        objects.put_bytes(key, b"x")
    with app.app_context():  # an upload queued for a background parse: its bytes stay
        owner_id = db.session.get(Dataset, dataset["id"]).owner_id
        db.session.add(Job(owner_id=owner_id, kind="ingest", params={"sha256": pending}))
        db.session.commit()

    young = quartile(app, "storage", "sweep")
    assert "Swept 0 unreferenced object(s) older than 60 minutes." in young.output
    result = quartile(app, "storage", "sweep", "--grace-minutes", "0")
    assert result.exit_code == 0, result.output
    assert f"Swept {len(orphans)} unreferenced object(s)" in result.output
    assert stored_keys(app, "") == sorted(needed + kept)
    assert UploadActions(client).rows(dataset["id"], HOUSING).status_code == 200


def test_backup_refuses_a_store_it_does_not_cover(make_app, s3_url, tmp_path):
    result = quartile(make_app(STORAGE_URL=s3_url), "backup", str(tmp_path / "out.tar"))
    assert result.exit_code == 1
    assert f"stores its files in {s3_url}" in result.output
    assert not (tmp_path / "out.tar").exists()
