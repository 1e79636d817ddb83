"""`quartile backup` and `quartile restore` (issue 16): the embedded default, byte-exact."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from config import Config
from store.db import db
from tests.test_reports_api import built, housing_scatter
from tests.upload_actions import UploadActions


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_hashes(root: Path, skip: set[str]) -> dict[str, str]:
    """sha256 of every file under root (hashlib here, independent of the backup's own)."""
    return {p.relative_to(root).as_posix(): sha(p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()
            and p.relative_to(root).parts[0] not in skip}


def served(client, dataset_id: str, chart_id: str, report_id: str) -> dict[str, str]:
    """What the app serves, hashed: the original, a sheet's rows, the chart, the report PDF."""
    urls = {
        "original": f"/api/v1/datasets/{dataset_id}/original",
        "rows": f"/api/v1/datasets/{dataset_id}/sheets/HousingPreferences/rows",
        "chart": f"/api/v1/charts/{chart_id}.png",
        "report": f"/api/v1/reports/{report_id}.pdf",
    }
    hashes = {}
    for name, url in urls.items():
        with client.get(url) as response:  # files are streamed: close them
            assert response.status_code == 200, (name, response.get_data(as_text=True))
            hashes[name] = sha(response.data)
    return hashes


def quit_app(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sqlite_app(make_app, database_url):
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("backup and restore cover the embedded default, SQLite")
    return make_app(STORAGE_URL=None)  # and local files, whatever QUARTILE_TEST_STORAGE says


def test_backup_wipe_restore_serves_every_byte_again(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    chart = housing_scatter(client, housing["id"])
    report = built(client, housing, [{"type": "summary"}])
    assert report["status"] == "done", report
    before = served(client, housing["id"], chart["id"], report["id"])
    files = Path(app.config["FILES_DIR"])
    database = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    stored = tree_hashes(files, skip={"tmp"})
    assert any(n.startswith("reports/") for n in stored) and any(n.startswith("charts/")
                                                                 for n in stored)
    with app.app_context():
        rows = {table: db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("datasets", "charts", "reports")}

    out = tmp_path / "backup.tar"
    result = app.test_cli_runner().invoke(args=["quartile", "backup", str(out)])
    assert result.exit_code == 0, result.output
    assert "Backed up the database and" in result.output

    quit_app(app)
    shutil.rmtree(files)
    database.unlink()
    target = tmp_path / "restored"
    result = app.test_cli_runner().invoke(args=["quartile", "restore", str(out),
                                                "--into", str(target)])
    assert result.exit_code == 0, result.output
    restored_db = target / database.name
    assert f"QUARTILE_DATABASE_URL=sqlite:///{restored_db}" in result.output
    assert tree_hashes(target, skip={database.name}) == stored  # identical bytes, every file

    again = create_app(Config(FILES_DIR=target, SQLALCHEMY_DATABASE_URI=f"sqlite:///{restored_db}",
                              SECRET_KEY="test", TESTING=True, AUTH="off"))
    try:
        with again.app_context():
            assert {table: db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar()
                    for table in rows} == rows
        after = served(again.test_client(), housing["id"], chart["id"], report["id"])
        assert after == before
    finally:
        quit_app(again)


def test_a_backup_taken_while_writes_go_on_is_consistent(sqlite_app, tmp_path):
    """A writer committing during the backup waits for the snapshot or lands after it: the
    restored database is whole and every dataset in it finds its original."""
    client = sqlite_app.test_client()
    UploadActions(client).dataset("HousingPreferences.csv")
    database = Path(make_url(sqlite_app.config["SQLALCHEMY_DATABASE_URI"]).database)
    stop = threading.Event()

    def write():
        connection = sqlite3.connect(database, timeout=30)
        while not stop.is_set():
            with connection:
                connection.execute("UPDATE datasets SET name = name")
        connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        out = tmp_path / "busy.tar"
        result = sqlite_app.test_cli_runner().invoke(args=["quartile", "backup", str(out)])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    target = tmp_path / "busy"
    assert sqlite_app.test_cli_runner().invoke(
        args=["quartile", "restore", str(out), "--into", str(target)]).exit_code == 0
    connection = sqlite3.connect(target / database.name)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        hashes = [row[0] for row in connection.execute("SELECT sha256 FROM datasets")]
    finally:
        connection.close()
    assert hashes and all((target / "blobs" / h[:2] / h).exists() for h in hashes)


def craft(path: Path, members: list[tuple[str, bytes | None, bytes]], files: dict) -> Path:
    """A tar with a manifest listing `files` and the given (name, link target or None, data)."""
    with tarfile.open(path, "w") as archive:
        manifest = json.dumps({"format": "quartile-backup/1", "database": "quartile.sqlite3",
                               "files": files}).encode()
        for name, link, data in [("quartile-backup.json", None, manifest), *members]:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link.decode()
            else:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("member, link, listed", [
    ("../evil", None, {}),
    ("files/../../evil", None, {"../../evil": sha(b"x")}),
    ("/tmp/evil", None, {}),
    ("files/blobs/ab/link", b"/etc/passwd", {}),
], ids=["parent", "listed-parent", "absolute", "symlink"])
def test_restore_refuses_path_traversal_and_links(runner, tmp_path, member, link, listed):
    archive = craft(tmp_path / "evil.tar", [(member, link, b"x"), ("database.sqlite3", None, b"")],
                    listed)
    target = tmp_path / "target"
    result = runner.invoke(args=["quartile", "restore", str(archive), "--into", str(target)])
    assert result.exit_code != 0
    assert "unsafe path" in result.output or "link or device" in result.output, result.output
    assert not (tmp_path / "evil").exists()
    assert not target.exists() or not any(target.iterdir())


def test_restore_refuses_a_directory_that_is_not_empty(runner, tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    archive = craft(tmp_path / "ok.tar", [("database.sqlite3", None, b"")], {})
    result = runner.invoke(args=["quartile", "restore", str(archive), "--into", str(target)])
    assert result.exit_code != 0 and "is not empty" in result.output
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_restore_refuses_what_is_not_a_backup(runner, tmp_path):
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as archive:
        archive.add(__file__, "notes.py")
    result = runner.invoke(args=["quartile", "restore", str(plain), "--into", str(tmp_path / "t")])
    assert result.exit_code != 0 and "not a Quartile backup" in result.output


def test_a_damaged_file_fails_its_checksum_and_restores_nothing(runner, tmp_path):
    archive = craft(tmp_path / "bad.tar", [("files/blobs/ab/abc", None, b"changed"),
                                           ("database.sqlite3", None, b"")],
                    {"blobs/ab/abc": sha(b"original")})
    target = tmp_path / "t"
    result = runner.invoke(args=["quartile", "restore", str(archive), "--into", str(target)])
    assert result.exit_code != 0 and "does not match its checksum" in result.output
    assert not any(target.iterdir())
