"""``make run``'s runner (``scripts/stack.py run``): SeaweedFS, an embedded PostgreSQL and
Airflow's components as supervised processes; SIGTERM stops them all, with no process left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest.seaweed import free_port
from tests.dags.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]


def processes_mentioning(text: str, width: int = 200) -> list[str]:
    """Live processes whose command line, working directory or environment mention ``text``
    (each as its pid and the first ``width`` characters of its command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            where = os.readlink(entry / "cwd")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if text in cmdline or text in where or text in environ:
            found.append(f"{entry.name}: {cmdline[:width]}")
    return found


def test_make_run_starts_everything_supervised_and_sigterm_leaves_no_process(
        tmp_path: Path) -> None:
    port, s3_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW", "NEWS_INGEST_"))}
    env.update({"PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
                "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW_PORT": str(port),
                "NEWS_INGEST_DATA_DIR": str(tmp_path / "data"),
                "NEWS_INGEST_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
                "NEWS_INGEST_S3_ACCESS_KEY": "k", "NEWS_INGEST_S3_SECRET_KEY": "secret-key",
                "NEWS_INGEST_CATALOG_PATH": str(ROOT / "ingest" / "sample" / "catalog.yaml"),
                "NEWS_INGEST_SAMPLE_BASE": "http://127.0.0.1:9"})
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "stack.py"), "run"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        ready = time.monotonic() - started
        assert any("Airflow UI: http://localhost:" in line for line in output), "".join(output)
        assert httpx.get(f"http://localhost:{port}/api/v2/monitor/health",
                         timeout=5).status_code == 200
        assert any("PostgreSQL on 127.0.0.1:" in line for line in output)
        assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
        print(f"make run ready in {ready:.0f} s")
        running = processes_mentioning(str(tmp_path))
        names = " ".join(running)
        for part in ("weed", "postgres", "scheduler", "dag-processor", "triggerer", "api"):
            assert part in names, (part, running)
        # the executor's workers start from a forkserver that preloaded the pipeline (the
        # scheduler starts it with its executor, a moment after it is up)
        deadline = time.monotonic() + 60
        while not (servers := [line for line in processes_mentioning(str(tmp_path), 2000)
                               if "multiprocessing.forkserver" in line]):
            assert time.monotonic() < deadline, running
            time.sleep(1)
        assert "ingest.preload" in servers[0], servers
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 30
    while processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_mentioning(str(tmp_path)) == []  # no orphans
