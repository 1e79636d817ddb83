"""Stored sheets read once per process, read ahead after an upload, and never stale.

The reader here is the real Parquet reader on real stored files; a gate (an Event) only holds
a read open long enough to see what a second caller does meanwhile.
"""

from __future__ import annotations

import logging
import threading

import pandas as pd
import pytest

from tests.upload_actions import UploadActions
from upload import service
from upload.pipeline import read_sheet
from upload.sheet_cache import SheetCache


@pytest.fixture
def parquet(tmp_path):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    path = tmp_path / "s.parquet"
    frame.to_parquet(path)
    return frame, path


class Files:
    """What the cache is given as `objects`: here only a folder of Parquet files."""

    def __init__(self, folder):
        self.folder = folder


def reader(gate: threading.Event | None = None):
    def read(objects: Files, key: str) -> pd.DataFrame:
        if gate is not None:
            assert gate.wait(10)
        return read_sheet(objects.folder / key)
    return read


def test_a_sheet_is_read_once_and_served_from_memory_after(parquet, tmp_path):
    frame, _ = parquet
    cache, files = SheetCache(reader()), Files(tmp_path)
    first, second = cache(files, "s.parquet"), cache(files, "s.parquet")
    pd.testing.assert_frame_equal(first, frame)
    assert second is first and cache.reads == 1


def test_a_request_during_the_read_ahead_waits_for_it_instead_of_reading_again(parquet,
                                                                               tmp_path):
    frame, _ = parquet
    gate = threading.Event()
    cache, files = SheetCache(reader(gate)), Files(tmp_path)
    thread = cache.read_ahead(files, ["s.parquet"])
    assert thread is not None
    got = {}
    asker = threading.Thread(target=lambda: got.setdefault("frame", cache(files, "s.parquet")))
    asker.start()
    asker.join(0.2)
    assert asker.is_alive()  # waiting for the read under way
    gate.set()
    asker.join(10)
    thread.join(10)
    pd.testing.assert_frame_equal(got["frame"], frame)
    assert cache.reads == 1
    assert cache.read_ahead(files, ["s.parquet"]) is None  # cached: nothing to read


def test_a_failed_read_ahead_is_not_kept_and_the_next_caller_sees_the_error(tmp_path, caplog):
    caplog.set_level(logging.INFO, "quartile.upload")
    cache, files = SheetCache(reader()), Files(tmp_path)
    cache.read_ahead(files, ["missing.parquet"]).join(10)
    assert "not read ahead" in caplog.text
    with pytest.raises(FileNotFoundError):
        cache(files, "missing.parquet")
    pd.DataFrame({"a": [7]}).to_parquet(tmp_path / "missing.parquet")  # stored after all
    assert cache(files, "missing.parquet")["a"].tolist() == [7]


def test_the_least_recently_used_sheet_goes_first(tmp_path):
    for name in "abc":
        pd.DataFrame({name: [1]}).to_parquet(tmp_path / f"{name}.parquet")
    cache, files = SheetCache(reader(), maxsize=2), Files(tmp_path)
    cache(files, "a.parquet"), cache(files, "b.parquet"), cache(files, "a.parquet")
    cache(files, "c.parquet")  # b goes
    cache(files, "a.parquet")
    assert cache.reads == 3
    cache(files, "b.parquet")
    assert cache.reads == 4


def wait_for_read_ahead() -> None:
    for thread in threading.enumerate():
        if thread.name == "sheet-read-ahead":
            thread.join(10)


def test_an_upload_reads_its_sheet_ahead_and_a_reparse_gets_a_fresh_frame(client):
    uploads = UploadActions(client)
    reads = service._read_cached.reads
    dataset = uploads.upload_bytes(b"Title line\nA,B\n1,2\n3,4\n", "titled.csv").get_json()
    wait_for_read_ahead()
    assert service._read_cached.reads == reads + 1
    sheet = dataset["sheets"][0]["name"]
    rows = uploads.rows(dataset["id"], sheet).get_json()
    assert service._read_cached.reads == reads + 1  # served from the frame read ahead
    assert rows["columns"] == ["A", "B"] and rows["rows"] == [[1, 2], [3, 4]]
    reparsed = client.post(f"/api/v1/datasets/{dataset['id']}/reparse",
                           json={"sheets": {dataset["sheets"][0]["original_name"]:
                                            {"header_row": 1}}}).get_json()
    again = uploads.rows(dataset["id"], reparsed["sheets"][0]["name"]).get_json()
    assert again["columns"][0] == "Title line" and again["total"] == 3  # A,B / 1,2 / 3,4


def test_a_deleted_dataset_is_not_served_from_the_frame_read_ahead(client):
    uploads = UploadActions(client)
    dataset = uploads.dataset("HousingPreferences.csv")
    wait_for_read_ahead()
    sheet = dataset["sheets"][0]["name"]
    assert uploads.rows(dataset["id"], sheet).status_code == 200
    client.delete(f"/api/v1/datasets/{dataset['id']}")
    client.post("/api/v1/trash/empty")
    response = uploads.rows(dataset["id"], sheet)
    assert response.status_code == 404


def test_a_large_upload_is_not_read_ahead(client, monkeypatch):
    monkeypatch.setattr(service, "READ_AHEAD_CELLS", 100)  # HousingPreferences: 545 × 13
    reads = service._read_cached.reads
    UploadActions(client).dataset("HousingPreferences.csv")
    wait_for_read_ahead()
    assert service._read_cached.reads == reads


def test_a_sheet_read_while_the_cache_is_cleared_is_not_kept(parquet, tmp_path):
    """cache_clear() means "as if never read": a read ahead still under way must not put the
    frame back afterwards (a test deletes the stored file, then expects its loss to show)."""
    gate = threading.Event()
    cache, files = SheetCache(reader(gate)), Files(tmp_path)
    thread = cache.read_ahead(files, ["s.parquet"])
    cache.cache_clear()
    gate.set()
    thread.join(10)
    (tmp_path / "s.parquet").unlink()
    with pytest.raises(FileNotFoundError):
        cache(files, "s.parquet")
