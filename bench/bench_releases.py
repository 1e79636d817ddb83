"""Bulk ingest of a family of releases against single uploads (issue 14), through the HTTP API.

36 quarterly workbooks of the Dallas Fed shape (`bench.dallas_releases`) are uploaded once one by
one (`POST /api/v1/datasets`, each parsed before the answer) and once as one zip (one
`ingest_batch` job, parsed `POOL.size` at a time). Target: the bulk wall time ≤ 1.2 × the sum of
the single uploads divided by the parser pool's worker count. Then the family's API: the series
map and `vintages` of one series over the 36 releases, cold and cached.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import zipfile
from pathlib import Path

import jobs
from app import create_app
from bench.dallas_releases import make_releases
from bench.table import print_table, row, timings
from upload.pipeline import POOL
from web import families

CACHE = Path(tempfile.gettempdir()) / "quartile-bench-vintages"
COUNT = 36
TARGET_RATIO = 1.2


def _app(files: Path):
    return create_app({"FILES_DIR": files, "AUTH": "off", "SECRET_KEY": "bench",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{files / 'bench.sqlite3'}",
                       "TESTING": True, "WTF_CSRF_ENABLED": False})


def _zip(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in paths:
            archive.write(path, path.name)
    return buffer.getvalue()


def _wait(client, job_id: str) -> dict:
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}").get_json()
        if job["state"] in jobs.FINAL:
            return job
        time.sleep(0.02)


def main() -> None:
    paths = make_releases(CACHE / "xlsx", COUNT)
    POOL.start()
    with tempfile.TemporaryDirectory() as single_dir, tempfile.TemporaryDirectory() as bulk_dir:
        client = _app(Path(single_dir)).test_client()
        singles = []
        for path in paths:
            started = time.perf_counter()
            response = client.post("/api/v1/datasets", content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(path.read_bytes()), path.name)})
            assert response.status_code == 201, response.get_data(as_text=True)
            singles.append(time.perf_counter() - started)

        client = _app(Path(bulk_dir)).test_client()
        content = _zip(paths)
        started = time.perf_counter()
        response = client.post("/api/v1/datasets", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(content), "dallas.zip")})
        job = _wait(client, response.get_json()["job"])
        bulk = time.perf_counter() - started
        assert job["state"] == "done", job["error"]
        assert len(job["result"]["datasets"]) == COUNT, job["result"]["problems"]
        family_id = job["result"]["family"]

        budget = TARGET_RATIO * sum(singles) / POOL.size
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores (the ratio assumes the workers have a core each)")
        print(f"{COUNT} single uploads: {sum(singles):.2f} s in all "
              f"(median {sorted(singles)[COUNT // 2] * 1000:.0f} ms); parser workers: "
              f"{POOL.size}")
        print(f"bulk zip of {COUNT}: {bulk:.2f} s = "
              f"{bulk / (sum(singles) / POOL.size):.2f} × (sum of singles / workers); "
              f"target ≤ {TARGET_RATIO} ({budget:.2f} s): {'yes' if bulk <= budget else 'NO'}; "
              f"{bulk / sum(singles):.2f} × the sum of singles")

        def family_detail():
            families.CACHE.clear()
            return client.get(f"/api/v1/families/{family_id}?sheet=HPI").get_json()

        def vintages_cold():
            families.CACHE.clear()
            return client.post(f"/api/v1/families/{family_id}/analyses/vintages",
                               json={"sheet": "HPI", "series": "US"}).get_json()

        def vintages_cached():
            return client.post(f"/api/v1/families/{family_id}/analyses/vintages",
                               json={"sheet": "HPI", "series": "US"}).get_json()

        assert len(vintages_cold()["releases"]) == COUNT
        print_table([
            row("GET family (series map of HPI, 36 releases)", timings(family_detail, 5), None),
            row("POST vintages (US, 36 releases), cold", timings(vintages_cold, 5), 300),
            row("POST vintages (US, 36 releases), cached", timings(vintages_cached, 20), 20),
        ])
