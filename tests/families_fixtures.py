"""Releases for the families API tests: the two real Dallas Fed workbooks, and small CSV
releases made in code (quarters down column A, one column per country) whose values and names a
test chooses, so renames, revisions and clashes are known exactly."""

from __future__ import annotations

import io
import zipfile

import jobs
from tests.stack_fixtures import wait_for
from tests.upload_actions import DATA


def csv_release(last: str, columns: dict[str, list[float]], start: str = "2019Q1") -> bytes:
    """A CSV release: quarters from `start` to `last`, then `columns` (values per quarter)."""
    import pandas as pd

    periods = pd.period_range(start, last, freq="Q")
    lines = ["Quarter," + ",".join(columns)]
    for n, period in enumerate(periods):
        lines.append(f"{period}," + ",".join(f"{values[n]:.4f}" for values in columns.values()))
    return ("\n".join(lines) + "\n").encode()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def upload_many(client, files: dict[str, bytes], headers: dict | None = None, **fields):
    """POST several `file` fields (and form `fields`). The body is encoded here: the test
    client spools a body over 500 KB to a temporary file that it never closes."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import stream_encode_multipart

    data = MultiDict([("file", FileStorage(io.BytesIO(content), name,
                                           content_type="application/octet-stream"))
                      for name, content in files.items()] + list(fields.items()))
    stream, length, boundary = stream_encode_multipart(data)
    with stream:
        body = stream.read(length)
    return client.post("/api/v1/datasets", data=body, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={boundary}")


def finished(client, response, headers: dict | None = None) -> dict:
    """Follow a 202's job to its end; the job row."""
    assert response.status_code == 202, response.get_data(as_text=True)
    job_id = response.get_json()["job"]
    return wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}", headers=headers or {})
                             .get_json())["state"] in jobs.FINAL and b, 60, f"job {job_id}")


def real_family(client) -> dict:
    """Both real workbooks uploaded at once: the finished job's result."""
    files = {name: (DATA / name).read_bytes() for name in ("2011Q2.xlsx", "2020Q1.xlsx")}
    job = finished(client, upload_many(client, files))
    assert job["state"] == "done", job["error"]
    return job["result"]
