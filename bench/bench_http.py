"""Server time through the HTTP layer (Flask test client, embedded defaults).

Targets: upload 2020Q1.xlsx (all sheets) to its dataset page ≤ 250 ms median (the book's
prototype: about 2.6 s); a cached repeat of an analysis ≤ 20 ms; an unchanged report ≤ 50 ms.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from bench.table import print_table, row, timings

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def make_client():
    from app import create_app

    files = Path(tempfile.mkdtemp())
    app = create_app({"FILES_DIR": files, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{files}/b.db",
                      "AUTH": "off", "TESTING": True, "WTF_CSRF_ENABLED": False})
    return app.test_client()


def main() -> None:
    client = make_client()
    content = (DATA / "2020Q1.xlsx").read_bytes()

    def upload_and_open():
        body = client.post("/api/v1/datasets", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "2020Q1.xlsx")}).get_json()
        assert client.get(f"/datasets/{body['id']}").status_code == 200
        client.delete(f"/api/v1/datasets/{body['id']}")  # so the next upload parses again

    def upload_in_background():
        job = client.post("/api/v1/datasets?background=true", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(content), "2020Q1.xlsx")}).get_json()
        while (done := client.get(f"/api/v1/jobs/{job['id']}").get_json())["state"] not in (
                "done", "failed", "cancelled"):
            time.sleep(0.002)
        client.delete(f"/api/v1/datasets/{done['result']['dataset']}")

    rows = [row("upload 2020Q1.xlsx + dataset page (parsed each time)",
                timings(upload_and_open, repeat=15, warmup=2), 250),
            row("the same upload as a background job, until done",
                timings(upload_in_background, repeat=15, warmup=2), None)]
    dataset = client.post("/api/v1/datasets", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(content), "2020Q1.xlsx")}).get_json()
    url = f"/api/v1/datasets/{dataset['id']}/analyses/describe"
    rows.append(row("describe HPI via HTTP, cached repeat",
                    timings(lambda: client.post(url, json={"sheet": "HPI"}), repeat=50), 20))
    report = {"dataset": dataset["id"], "sections": [{"type": "describe",
                                                       "sheets": ["HPI", "RHPI", "PDI", "RPDI"]}]}
    first = client.post("/api/v1/reports", json=report).get_json()
    while client.get(f"/api/v1/reports/{first['id']}").get_json()["status"] not in ("done",
                                                                                   "failed"):
        time.sleep(0.05)  # the first build is a job; the repeats below find its PDF
    rows.append(row("unchanged report requested again",
                    timings(lambda: client.post("/api/v1/reports", json=report), repeat=20), 50))
    print_table(rows)
    median = sorted(rows[0][1:2])[0]
    print(f"upload-to-page vs the book's ~2.6 s: {2600 / median:.0f}x faster")


if __name__ == "__main__":
    main()
