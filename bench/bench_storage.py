"""Object storage against local files (issue 16), on a private SeaweedFS on this machine.

- reading a stored 2020Q1 sheet (`load_sheet` with the in-process cache emptied): local files;
  S3 with this node's disk cache warm (target ≤ 1.5 × local); S3 cold, the cached copy deleted
  first, so the object is fetched (target ≤ 50 ms);
- uploading tests/data/2020Q1.xlsx through `POST /api/v1/datasets` (stored, parsed, every
  object written before the answer): S3 against local (target ≤ 1.5 × local). Each upload is
  of bytes the store does not hold: the dataset is deleted and the trash emptied in between.
"""

from __future__ import annotations

import io
import tempfile
import time
import uuid
from pathlib import Path

from app import create_app
from bench.table import print_table, row, timings
from scripts.seaweed import SeaweedServer
from store.db import db
from store.models import Dataset
from upload import service
from upload.pipeline import POOL

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "2020Q1.xlsx"
SHEET = "HPI"
RATIO = 1.5
COLD_MS = 50.0


def _app(files: Path, storage_url: str | None = None):
    settings = {"FILES_DIR": files, "AUTH": "off", "SECRET_KEY": "bench", "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{files / 'bench.sqlite3'}",
                "WTF_CSRF_ENABLED": False}
    if storage_url:
        settings.update(STORAGE_URL=storage_url)
    return create_app(settings)


def _upload(client) -> dict:
    response = client.post("/api/v1/datasets", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(DATA.read_bytes()), DATA.name)})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _upload_times(client, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat + 1):  # the first is a warm-up
        started = time.perf_counter()
        dataset = _upload(client)
        out.append((time.perf_counter() - started) * 1000)
        assert client.delete(f"/api/v1/datasets/{dataset['id']}").status_code == 204
        assert client.post("/api/v1/trash/empty").status_code == 200
    return out[1:]


def _reader(app, dataset_id: str, cold: bool = False):
    files = app.config["FILES_DIR"]
    objects = app.extensions["quartile_objects"]
    with app.app_context():
        dataset = db.session.get(Dataset, dataset_id)
        db.session.expunge(dataset)
    key = service.sheet_key(files, dataset, SHEET)

    def read() -> None:
        service._read_cached.cache_clear()
        if cold:
            objects.cache.discard(key)
        service.load_sheet(files, dataset, SHEET)

    return read


def main() -> None:
    POOL.start()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        server = SeaweedServer(root / "seaweed").start()
        try:
            _run(root, server)
        finally:
            server.stop()


def _run(root: Path, server: SeaweedServer) -> None:
    import os

    os.environ.update(server.env())
    local = _app(root / "local")
    remote = _app(root / "s3", server.storage_url(f"bench-{uuid.uuid4().hex[:8]}"))
    local_client, remote_client = local.test_client(), remote.test_client()

    uploads_local = _upload_times(local_client, 7)
    uploads_s3 = _upload_times(remote_client, 7)
    local_id, remote_id = _upload(local_client)["id"], _upload(remote_client)["id"]
    read_local = timings(_reader(local, local_id), 30, warmup=3)
    read_warm = timings(_reader(remote, remote_id), 30, warmup=3)
    read_cold = timings(_reader(remote, remote_id, cold=True), 30, warmup=3)

    local_read_ms = sorted(read_local)[len(read_local) // 2]
    local_upload_ms = sorted(uploads_local)[len(uploads_local) // 2]
    print_table([
        row(f"read {SHEET} sheet, local files", read_local, None),
        row(f"read {SHEET} sheet, S3 warm cache (≤ {RATIO} × local)", read_warm,
            RATIO * local_read_ms),
        row(f"read {SHEET} sheet, S3 cold (≤ {COLD_MS:g} ms)", read_cold, COLD_MS),
        row("upload 2020Q1.xlsx, local files", uploads_local, None),
        row(f"upload 2020Q1.xlsx, S3 (≤ {RATIO} × local)", uploads_s3,
            RATIO * local_upload_ms),
    ])


if __name__ == "__main__":
    main()
