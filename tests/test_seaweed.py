"""scripts/seaweed.py: a real SeaweedFS S3 server starts, stores, stops, and comes back with its
data."""

from __future__ import annotations

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from scripts.seaweed import SeaweedServer


def test_seaweed_stores_stops_and_restarts_with_its_data(tmp_path):
    server = SeaweedServer(tmp_path).start()
    try:
        client = server.client()
        client.put_object(Bucket=server.bucket, Key="a/b.bin", Body=b"\x00quartile\xff")
        assert client.get_object(Bucket=server.bucket, Key="a/b.bin")["Body"].read() == (
            b"\x00quartile\xff")
        endpoint = server.endpoint_url

        server.stop()
        assert not server.running()
        with pytest.raises((BotoCoreError, ClientError)):
            server.client(timeout=0.5).head_object(Bucket=server.bucket, Key="a/b.bin")

        server.start()
        assert server.endpoint_url == endpoint
        assert client.get_object(Bucket=server.bucket, Key="a/b.bin")["Body"].read() == (
            b"\x00quartile\xff")
        assert server.env()["QUARTILE_S3_ENDPOINT_URL"] == endpoint
        listed = client.list_objects_v2(Bucket=server.bucket)["Contents"]
        assert [item["Key"] for item in listed] == ["a/b.bin"]
    finally:
        server.stop()
