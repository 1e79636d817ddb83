"""The S3 backend of store/objects.py: any S3-compatible object store through boto3.

Credentials come the standard AWS way (AWS_* variables, ~/.aws files, an instance role), never
from Quartile's own settings; `QUARTILE_S3_ENDPOINT_URL` points at a non-AWS server (SeaweedFS,
MinIO, Ceph). Timeouts are short and retries few, so a store that is down answers a request with
errors.StorageUnavailable (a 503 with a clear message) in about a second, not after minutes.

Reads go through a DiskCache: objects never change under a key, so a cached copy is served with
no request at all, and an upload this node stored is cached as it goes up.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from errors import StorageUnavailable
from store.disk_cache import DiskCache
from store.objects import CHUNK, ObjectInfo, ObjectStore, check_key

log = logging.getLogger("quartile.storage")
MISSING = {"404", "NoSuchKey", "NotFound"}
CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=5, max_pool_connections=32,
                       retries={"total_max_attempts": 2, "mode": "standard"})


class S3Objects(ObjectStore):
    def __init__(self, bucket: str, prefix: str, *, cache_dir: Path, cache_bytes: int,
                 endpoint_url: str | None = None):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.endpoint_url = endpoint_url or None
        # One folder per bucket and prefix: a node that changes stores never reads another's.
        self.cache = DiskCache(Path(cache_dir) / bucket / (self.prefix or "_"), cache_bytes)
        self._client = None
        self._client_pid: int | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Objects({self.url!r}, endpoint={self.endpoint_url!r})"

    @property
    def client(self):
        """One boto3 client per process (thread-safe; not to be shared across a fork)."""
        if self._client is None or self._client_pid != os.getpid():
            with self._lock:
                if self._client is None or self._client_pid != os.getpid():
                    self._client = boto3.session.Session().client(
                        "s3", endpoint_url=self.endpoint_url, config=CLIENT_CONFIG)
                    self._client_pid = os.getpid()
        return self._client

    def name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    # -- writing -------------------------------------------------------------------------------
    def put_file(self, key: str, source: Path, move: bool = False) -> None:
        check_key(key)
        with open(source, "rb") as body, self.translated(key, writing=True):
            self.client.put_object(Bucket=self.bucket, Key=self.name(key), Body=body)
        if move:
            self.cache.adopt(key, Path(source))

    def put_bytes(self, key: str, data: bytes) -> None:
        check_key(key)
        with self.translated(key, writing=True):
            self.client.put_object(Bucket=self.bucket, Key=self.name(key), Body=data)
        self.cache.fill(key, lambda out: out.write(data))

    def put_tree(self, prefix: str, source: Path, last: str) -> bool:
        try:
            if self.exists(prefix + last):
                return False
            files = sorted(p for p in source.rglob("*") if p.is_file() and p.name != last)
            for path in [*files, source / last]:
                self.put_file(prefix + path.relative_to(source).as_posix(), path, move=True)
            return True
        finally:
            shutil.rmtree(source, ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------
    def local_path(self, key: str) -> Path:
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        check_key(key)

        def download(out) -> None:
            with self.translated(key, writing=False):
                body = self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"]
                for chunk in body.iter_chunks(CHUNK):
                    out.write(chunk)

        return self.cache.fill(key, download)

    def digest(self, key: str) -> str:
        check_key(key)
        digest = hashlib.sha256()
        with self.translated(key, writing=False):
            body = self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"]
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            with self.translated(key, writing=False):
                self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        except FileNotFoundError:
            return False
        return True

    def keys(self, prefix: str = "") -> Iterator[ObjectInfo]:
        start = len(self.name(""))
        with self.translated(prefix, writing=False):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.name(prefix))
            for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(item["Key"][start:], item["Size"],
                                     item["LastModified"].astimezone(UTC))

    # -- deleting ------------------------------------------------------------------------------
    def delete(self, key: str) -> None:
        check_key(key)
        with self.translated(key, writing=True):
            self.client.delete_object(Bucket=self.bucket, Key=self.name(key))
        self.cache.discard(key)

    def delete_prefix(self, prefix: str) -> int:
        keys = [info.key for info in self.keys(prefix)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self.name(key)} for key in keys[start:start + 1000]]
            with self.translated(prefix, writing=True):
                self.client.delete_objects(Bucket=self.bucket,
                                           Delete={"Objects": batch, "Quiet": True})
        for key in keys:
            self.cache.discard(key)
        self.cache.discard_prefix(prefix)
        return len(keys)

    def forget_cached(self, key: str) -> None:
        self.cache.discard(key)

    def ping(self) -> None:
        with self.translated("", writing=False):
            self.client.head_bucket(Bucket=self.bucket)

    @contextmanager
    def translated(self, key: str, writing: bool):
        """boto3's errors in Quartile's words: a missing object is FileNotFoundError, anything
        else (refused, timed out, denied, no bucket) is StorageUnavailable, logged with the
        detail an operator needs."""
        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                raise FileNotFoundError(f"{self.url}/{key}") from None
            log.warning("Object store %s (%s) refused %r: %s", self.url, self.endpoint_url,
                        key, error)
            raise StorageUnavailable(writing=writing) from None
        except BotoCoreError as error:
            log.warning("Object store %s (%s) unreachable for %r: %s", self.url,
                        self.endpoint_url, key, error)
            raise StorageUnavailable(writing=writing) from None
