"""UploadActions, like flaskr's AuthActions: upload sample files through the API in one line."""

from __future__ import annotations

import io
from pathlib import Path

DATA = Path(__file__).parent / "data"


class UploadActions:
    def __init__(self, client, headers: dict | None = None):
        self.client = client
        self.headers = headers or {}

    def upload_bytes(self, content: bytes, filename: str):
        return self.client.post(
            "/api/v1/datasets",
            data={"file": (io.BytesIO(content), filename)},
            headers=self.headers,
            content_type="multipart/form-data",
        )

    def upload(self, name: str, as_name: str | None = None):
        return self.upload_bytes((DATA / name).read_bytes(), as_name or name)

    def dataset(self, name: str) -> dict:
        response = self.upload(name)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response.get_json()

    def rows(self, dataset_id: str, sheet: str, offset=0, limit=100):
        from urllib.parse import quote

        return self.client.get(
            f"/api/v1/datasets/{dataset_id}/sheets/{quote(sheet, safe='')}/rows",
            query_string={"offset": offset, "limit": limit},
            headers=self.headers,
        )
