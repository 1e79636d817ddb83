"""The object-store contract (store/objects.py), on local files and on a real SeaweedFS: the
same calls give the same answers on both backends."""

from __future__ import annotations

import hashlib
import os
import shutil
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


def folder(path, files: dict[str, bytes]):
    path.mkdir()
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def test_a_tree_is_stored_whole_with_its_marker_last_and_once(objects, tmp_path):
    work = folder(tmp_path / "parse", {"one.parquet": b"1", "meta.json": b"{}"})
    assert objects.put_tree("sheets/s/p/", work, last="meta.json") is True
    assert not work.exists()
    again = folder(tmp_path / "again", {"one.parquet": b"other", "meta.json": b"{}"})
    assert objects.put_tree("sheets/s/p/", again, last="meta.json") is False
    assert not again.exists()
    assert objects.get_bytes("sheets/s/p/one.parquet") == b"1"


def test_a_partial_tree_without_its_marker_is_replaced(objects, tmp_path):
    objects.put_bytes("sheets/s/p/one.parquet", b"half")  # an interrupted copy
    work = folder(tmp_path / "parse", {"one.parquet": b"1", "meta.json": b"{}"})
    assert objects.put_tree("sheets/s/p/", work, last="meta.json") is True
    assert objects.get_bytes("sheets/s/p/one.parquet") == b"1"
    assert objects.exists("sheets/s/p/meta.json")


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


def s3_objects(seaweed, url, cache_dir, cache_bytes):
    return open_store(url, cache_dir=cache_dir, cache_bytes=cache_bytes,
                      endpoint_url=seaweed.endpoint_url)


def test_the_read_cache_keeps_within_its_limit_least_recently_used_first(seaweed, s3_url,
                                                                         tmp_path):
    objects = s3_objects(seaweed, s3_url, tmp_path / "cache", cache_bytes=250)
    for name in ("a", "b", "c"):
        objects.put_bytes(f"reports/{name}.pdf", name.encode() * 100)  # cached as it goes up
        os.utime(objects.cache.path(f"reports/{name}.pdf"), (1_000_000, 1_000_000))
    objects.local_path("reports/a.pdf")  # used now: the newest
    objects.put_bytes("reports/d.pdf", b"d" * 100)  # over the limit: down to 90 % (225)
    cached = sorted(p.name for p in objects.cache.root.rglob("*.pdf"))
    assert cached == ["a.pdf", "d.pdf"]
    assert objects.cache.usage() <= 250
    assert objects.get_bytes("reports/b.pdf") == b"b" * 100  # evicted, fetched again


def test_a_deleted_cache_file_is_fetched_again(seaweed, s3_url, tmp_path):
    objects = s3_objects(seaweed, s3_url, tmp_path / "cache", cache_bytes=10_000)
    objects.put_bytes("blobs/ab/abc", b"original")
    path = objects.local_path("blobs/ab/abc")
    path.unlink()
    assert objects.local_path("blobs/ab/abc").read_bytes() == b"original"
    shutil.rmtree(tmp_path / "cache")  # the whole cache lost
    assert objects.get_bytes("blobs/ab/abc") == b"original"


def test_a_new_node_with_an_empty_cache_reads_what_another_stored(seaweed, s3_url, tmp_path):
    first = s3_objects(seaweed, s3_url, tmp_path / "a", cache_bytes=10_000)
    second = s3_objects(seaweed, s3_url, tmp_path / "b", cache_bytes=10_000)
    first.put_bytes("reports/x.pdf", b"%PDF")
    assert second.get_bytes("reports/x.pdf") == b"%PDF"
    second.delete("reports/x.pdf")
    assert not first.exists("reports/x.pdf")  # asked of the store, not of a's cached copy
