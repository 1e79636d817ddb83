"""A zip of releases: each bad member refused or skipped by name with its reason, the others
ingested; nothing written outside the store; a whole zip refused when it is hostile."""

from __future__ import annotations

import zipfile

from store.db import db
from store.models import Dataset, Family
from tests.families_fixtures import csv_release, finished, upload_many, zip_of
from tests.storage_fixtures import stored_keys
from upload.bundle import MAX_MEMBERS

MB = 1024 * 1024


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(Dataset.id))),
                db.session.scalar(db.select(db.func.count(Family.id))))


def _blobs(app) -> list[str]:
    """The stored originals' sha256s."""
    return [key.rsplit("/", 1)[-1] for key in stored_keys(app, "blobs/")]


def test_bad_members_are_skipped_by_name_and_the_others_ingested(make_app, tmp_path):
    app = make_app(MAX_CONTENT_LENGTH=2 * MB)
    client = app.test_client()
    good = {"releases/2020Q2.csv": csv_release("2020Q2", {"Canada": [1.0] * 6}),
            "releases/2020Q3.csv": csv_release("2020Q3", {"Canada": [1.0] * 7})}
    members = {
        **good,
        "../evil.csv": csv_release("2020Q4", {"Canada": [2.0] * 8}),
        "/etc/absolute.csv": b"a,b\n1,2\n",
        "inner.zip": zip_of({"x.csv": b"a,b\n1,2\n"}),
        "notes.pdf": b"%PDF-1.4 not a spreadsheet",
        "big.csv": b"1234567890\n" * (300 * 1024),  # over the 2 MB limit unpacked
        "bomb.csv": b"0" * (int(1.5 * MB)),  # deflates ~1000:1
        "broken.xlsx": b"PK\x03\x04 this is no workbook",
        "copy of 2020Q2.csv": csv_release("2020Q2", {"Canada": [3.0] * 6}),
    }
    response = upload_many(client, {"dallas.zip": zip_of(members)})
    job = finished(client, response)
    assert job["state"] == "done", job["error"]
    result = job["result"]
    assert sorted(d["label"] for d in result["datasets"]) == ["2020Q2", "2020Q3"]
    reasons = {p["name"]: p["reason"] for p in result["problems"]}
    assert reasons["../evil.csv"] == "unsafe name: it points outside the archive"
    assert reasons["/etc/absolute.csv"] == "unsafe name: it points outside the archive"
    assert reasons["inner.zip"] == "a zip inside the zip: upload its workbooks directly"
    assert reasons["notes.pdf"].startswith("not a spreadsheet (.pdf)")
    size = len(members["big.csv"]) / MB
    assert reasons["big.csv"] == f"{size:.1f} MB unpacked, over the upload limit of 2 MB"
    assert reasons["bomb.csv"].endswith("times: a zip bomb")
    assert "broken.xlsx" in reasons and reasons["broken.xlsx"]
    assert reasons["copy of 2020Q2.csv"] == (
        f"The family {result['family_name']!r} already has a release labelled '2020Q2' "
        "(2020Q2.csv); nothing was changed. Give this release another label.")
    assert len(reasons) == 8
    family = client.get(f"/api/v1/families/{result['family']}").get_json()
    assert family["name"] == "dallas"
    assert [r["label"] for r in family["releases"]] == ["2020Q2", "2020Q3"]
    # Only the two releases' bytes are kept, inside the store; nothing landed beside it.
    assert len(_blobs(app)) == 2
    assert not list(tmp_path.rglob("evil.csv")) and not list(tmp_path.parent.glob("evil*"))
    assert not [p for p in (app.config["FILES_DIR"] / "tmp").rglob("*") if p.is_file()]


def test_a_zip_of_ten_thousand_members_is_refused_whole(app, client):
    before = _counts(app)
    buffer = zip_of({f"m{n}.csv": b"" for n in range(10_000)})
    response = upload_many(client, {"many.zip": buffer})
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == (
        f"many.zip holds 10,000 files; Quartile takes at most {MAX_MEMBERS} workbooks in one "
        "zip. Split it into smaller zips.")
    assert _counts(app) == before and _blobs(app) == []


def test_a_zip_with_nothing_readable_is_a_422_naming_each_member(app, client):
    response = upload_many(client, {"junk.zip": zip_of({"a.pdf": b"x", "../b.csv": b"a\n1\n"})})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == (
        "No file of the upload could be read: a.pdf: not a spreadsheet (.pdf); Quartile reads "
        "XLSX, XLSM, XLS, ODS, CSV and TSV; ../b.csv: unsafe name: it points outside the "
        "archive.")
    assert _counts(app) == (0, 0) and _blobs(app) == []


def test_a_damaged_zip_is_a_400(app, client):
    response = upload_many(client, {"broken.zip": b"PK\x03\x04 not really"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(
        "broken.zip is not a readable zip archive")
    assert _counts(app) == (0, 0)


def test_a_member_whose_declared_size_lies_stops_at_the_limit(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1 * MB)
    client = app.test_client()
    content = zip_of({"2020Q2.csv": csv_release("2020Q2", {"Canada": [1.0] * 6}),
                      "liar.csv": b"9" * (3 * MB)})
    # Rewrite liar.csv's declared size (local header and central directory) to 100 bytes.
    with zipfile.ZipFile(__import__("io").BytesIO(content)) as archive:
        info = archive.getinfo("liar.csv")
    real = info.file_size.to_bytes(4, "little")
    forged = content.replace(real, (100).to_bytes(4, "little"))
    assert forged != content
    job = finished(client, upload_many(client, {"lying.zip": forged}))
    reasons = {p["name"]: p["reason"] for p in job["result"]["problems"]}
    assert list(reasons) == ["liar.csv"] and reasons["liar.csv"]
    assert [d["label"] for d in job["result"]["datasets"]] == ["2020Q2"]
    assert len(_blobs(app)) == 1


def test_release_with_several_files_is_refused(app, client):
    files = {"a.csv": csv_release("2020Q2", {"A": [1.0] * 6}),
             "b.csv": csv_release("2020Q3", {"A": [1.0] * 7})}
    response = upload_many(client, files, release="2020Q2")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("`release` labels one file")
    assert _counts(app) == (0, 0) and _blobs(app) == []


def test_a_cancelled_bulk_ingest_keeps_nothing_of_what_it_had_not_saved(app, client):
    import jobs
    from tests.stack_fixtures import wait_for

    files = {f"2020Q{q}.csv": csv_release(f"2020Q{q}", {"A": [1.0] * (4 + q)})
             for q in (1, 2, 3, 4)}
    response = upload_many(client, files)
    job_id = response.get_json()["job"]
    cancel = client.delete(f"/api/v1/jobs/{job_id}")
    job = wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                   in jobs.FINAL and b, 30, "job")
    if cancel.status_code == 409:  # it finished first: nothing to check but the four releases
        assert job["state"] == "done" and len(job["result"]["datasets"]) == 4
        return
    assert job["state"] == "cancelled"

    def tidy() -> bool:  # the running task tidies up once it notices the cancel
        with app.app_context():
            kept = db.session.scalars(db.select(Dataset.sha256)).all()
        return sorted(_blobs(app)) == sorted(kept)

    wait_for(tidy, 30, "the cancelled job's bytes to go")
