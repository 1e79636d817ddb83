"""The object-store contract (store/objects.py), on local files and on a real SeaweedFS: the
same calls give the same answers on both backends."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest

from errors import StorageUnavailable
from store.objects import LocalObjects, open_store


@pytest.fixture(params=["local", "s3"])
def objects(request, tmp_path):
    if request.param == "local":
        return LocalObjects(tmp_path / "files")
    return open_store(request.getfixturevalue("s3_url"), cache_dir=tmp_path / "cache",
                      cache_bytes=10 * 1024 * 1024,
                      endpoint_url=request.getfixturevalue("seaweed").endpoint_url)


def test_bytes_and_files_go_in_and_come_out_the_same(objects, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    objects.put_bytes("reports/a.pdf", data)
    source = tmp_path / "upload.bin"
    source.write_bytes(data[::-1])
    objects.put_file("blobs/ab/abc", source)
    assert source.exists()  # a copy, unless moved
    assert objects.get_bytes("reports/a.pdf") == data
    assert objects.local_path("blobs/ab/abc").read_bytes() == data[::-1]
    assert objects.exists("reports/a.pdf") and not objects.exists("reports/b.pdf")
    moved = tmp_path / "moved.bin"
    moved.write_bytes(b"moved")
    objects.put_file("blobs/cd/cde", moved, move=True)
    assert not moved.exists()
    assert objects.get_bytes("blobs/cd/cde") == b"moved"


def test_a_missing_object_is_file_not_found(objects):
    with pytest.raises(FileNotFoundError):
        objects.get_bytes("reports/none.pdf")
    with pytest.raises(FileNotFoundError):
        objects.local_path("reports/none.pdf").read_bytes()


def test_keys_list_what_is_stored_with_size_and_time(objects):
    before = datetime.now(UTC) - timedelta(seconds=5)
    for key in ("sheets/s1/p1/a.parquet", "sheets/s1/p1/meta.json", "sheets/s2/p1/a.parquet",
                "charts/ab/x.png"):
        objects.put_bytes(key, key.encode())
    listed = {info.key: info for info in objects.keys("sheets/s1/")}
    assert sorted(listed) == ["sheets/s1/p1/a.parquet", "sheets/s1/p1/meta.json"]
    assert listed["sheets/s1/p1/meta.json"].size == len(b"sheets/s1/p1/meta.json")
    assert before <= listed["sheets/s1/p1/meta.json"].modified <= datetime.now(UTC) + \
        timedelta(seconds=5)
    assert len(list(objects.keys())) == 4


def test_delete_and_delete_prefix(objects):
    for key in ("sheets/s1/p1/a.parquet", "sheets/s1/p2/b.parquet", "sheets/s2/p1/c.parquet"):
        objects.put_bytes(key, b"x")
    objects.local_path("sheets/s1/p1/a.parquet")  # cached on S3: must go with the object
    assert objects.delete_prefix("sheets/s1/") == 2
    assert [i.key for i in objects.keys("sheets/")] == ["sheets/s2/p1/c.parquet"]
    objects.delete("sheets/s2/p1/c.parquet")
    objects.delete("sheets/s2/p1/c.parquet")  # already gone: no error
    assert list(objects.keys()) == []
    with pytest.raises(FileNotFoundError):
        objects.local_path("sheets/s1/p1/a.parquet").read_bytes()


def test_a_tree_is_stored_whole_with_its_marker_last_and_once(objects, tmp_path):
    work = tmp_path / "parse"
    work.mkdir()
    (work / "one.parquet").write_bytes(b"1")
    (work / "meta.json").write_bytes(b"{}")
    assert objects.put_tree("sheets/s/p/", work, last="meta.json") is True
    assert not work.exists()
    again = tmp_path / "again"
    again.mkdir()
    (again / "one.parquet").write_bytes(b"other")
    (again / "meta.json").write_bytes(b"{}")
    assert objects.put_tree("sheets/s/p/", again, last="meta.json") is False
    assert not again.exists()
    assert objects.get_bytes("sheets/s/p/one.parquet") == b"1"


@pytest.mark.parametrize("key", ["../x", "/abs", "blobs/../../x", "blobs//x", "other/x",
                                 "blobs\\x", ""])
def test_keys_that_leave_the_store_are_refused(objects, key):
    with pytest.raises(ValueError):
        objects.put_bytes(key, b"x")


def test_the_local_backend_keeps_todays_layout(tmp_path):
    objects = LocalObjects(tmp_path)
    sha = hashlib.sha256(b"x").hexdigest()
    objects.put_bytes(f"blobs/{sha[:2]}/{sha}", b"x")
    assert (tmp_path / "blobs" / sha[:2] / sha).read_bytes() == b"x"
    assert objects.local_path(f"blobs/{sha[:2]}/{sha}") == tmp_path / "blobs" / sha[:2] / sha
    assert objects.url == tmp_path.resolve().as_uri()


def test_a_bad_url_names_the_two_forms(tmp_path):
    with pytest.raises(ValueError, match="file:///path or s3://bucket/prefix"):
        open_store("ftp://x", cache_dir=tmp_path, cache_bytes=1)


def test_wrong_credentials_are_storage_unavailable(seaweed, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    objects = open_store(seaweed.storage_url("x"), cache_dir=tmp_path, cache_bytes=1024,
                         endpoint_url=seaweed.endpoint_url)
    with pytest.raises(StorageUnavailable, match="nothing was saved"):
        objects.put_bytes("reports/a.pdf", b"x")
    with pytest.raises(StorageUnavailable, match="cannot be read"):
        objects.get_bytes("reports/a.pdf")
