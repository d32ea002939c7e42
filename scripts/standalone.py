"""Run news-ingest on Airflow standalone with the embedded SeaweedFS: ``make run`` and ``make demo``.

    python scripts/standalone.py run    # SeaweedFS + Airflow with the DAGs unpaused; Ctrl-C stops
    python scripts/standalone.py demo   # offline sample: one poll and one process run, then a table

The ``Standalone`` class is also the end-to-end tests' harness: it starts ``airflow standalone``
on a given AIRFLOW_HOME and port, logs in through the REST API and waits for DAG runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


class PortInUse(RuntimeError):
    """Another process took the chosen port first."""


class Standalone:
    """``airflow standalone`` (LocalExecutor on SQLite) in a subprocess, driven over REST."""

    def __init__(self, home: Path, port: int = 8080, env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> None:
        self.home = home
        self.port = port
        self.base = f"http://localhost:{port}"
        self.log_path = log_path or home / "standalone.log"
        bindir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self._token = ""

    def start(self, timeout: float = 300.0) -> Standalone:
        """Start Airflow and wait until its API answers and login works."""
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process
        self.proc = subprocess.Popen(["airflow", "standalone"], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=str(self.home))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"airflow standalone exited; see {self.log_path}")
            if b"address already in use" in self.log_path.read_bytes():
                self.stop()
                raise PortInUse(f"port {self.port} was taken before Airflow bound it")
            try:
                if httpx.get(f"{self.base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    self.login()
                    return self
            except (httpx.HTTPError, FileNotFoundError, KeyError):
                pass
            time.sleep(2)
        raise RuntimeError(f"Airflow did not come up on {self.base}; see {self.log_path}")

    @classmethod
    def start_fresh(cls, base: Path, env: dict[str, str], attempts: int = 3) -> Standalone:
        """Start Airflow under ``base``/airflow<N> with its own SQLite database on a free port,
        trying another port when one is taken before Airflow binds it."""
        from ingest.seaweed import free_port

        for attempt in range(attempts):
            home = base / f"airflow{attempt}"
            server = cls(home, port=free_port(), env={
                **env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db"})
            try:
                return server.start()
            except PortInUse:
                continue
        raise RuntimeError(f"no free port for Airflow after {attempts} attempts")

    def password(self) -> str:
        """The generated admin password (simple auth manager)."""
        path = self.home / "simple_auth_manager_passwords.json.generated"
        return str(json.loads(path.read_text())["admin"])

    def login(self) -> None:
        """Get a bearer token for the REST API."""
        resp = httpx.post(f"{self.base}/auth/token",
                          json={"username": "admin", "password": self.password()}, timeout=10)
        resp.raise_for_status()
        self._token = resp.json()["access_token"]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the REST API; returns the decoded JSON (raises on HTTP errors, with the body).

        A 503 is retried a few times: Airflow answers it when its metadata database is busy
        (SQLite locks it while the scheduler writes)."""
        for attempt in range(6):
            headers = {"Authorization": f"Bearer {self._token}"}
            resp = httpx.request(method, f"{self.base}/api/v2{path}", headers=headers,
                                 timeout=30, **kwargs)
            if resp.status_code == 401:
                self.login()
                continue
            if resp.status_code == 503 and attempt < 5:
                time.sleep(2 + 2 * attempt)
                continue
            break
        if resp.is_error:
            raise httpx.HTTPStatusError(
                f"{method} {path}: {resp.status_code} {resp.text[:500]}", request=resp.request,
                response=resp)
        return resp.json() if resp.content else None

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 180.0) -> None:
        """Wait until the DAG processor has parsed every DAG in ``dag_ids``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {d["dag_id"] for d in self.api("GET", "/dags", params={"limit": 100})["dags"]}
            if set(dag_ids) <= found:
                return
            time.sleep(2)
        raise TimeoutError(f"DAGs {dag_ids} not parsed within {timeout:g} s; see {self.log_path}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """All runs of a DAG, oldest first."""
        data = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100,
                                                                   "order_by": "run_after"})
        return list(data["dag_runs"])

    def wait_for_runs(self, dag_id: str, count: int, timeout: float = 300.0,
                      done: tuple[str, ...] = ("success", "failed")) -> list[dict[str, Any]]:
        """Wait until ``dag_id`` has at least ``count`` finished runs; return all its runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs(dag_id)
            if sum(r["state"] in done for r in runs) >= count:
                return runs
            time.sleep(2)
        raise TimeoutError(f"{dag_id}: fewer than {count} finished runs after {timeout:g} s")

    def backfill(self, dag_id: str, start: str, end: str, behavior: str = "none",
                 max_active_runs: int = 3, timeout: float = 600.0) -> dict[str, Any]:
        """Create a backfill through ``POST /api/v2/backfills`` (what the UI's Backfill dialog
        sends) and wait until it has completed; returns the backfill."""
        try:
            created = self.api("POST", "/backfills", json={
                "dag_id": dag_id, "from_date": start, "to_date": end,
                "reprocess_behavior": behavior, "max_active_runs": max_active_runs})
        except httpx.HTTPStatusError as exc:
            # a 503 (database locked) can come after the backfill was created: the retry then
            # hears 409 "already a running backfill"; take that one
            if exc.response.status_code != 409:
                raise
            running = [b for b in self.api("GET", "/backfills", params={"dag_id": dag_id})[
                "backfills"] if not b.get("completed_at")]
            if len(running) != 1:
                raise
            created = running[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.api("GET", f"/backfills/{created['id']}")
            if found.get("completed_at"):
                return dict(found)
            time.sleep(3)
        raise TimeoutError(f"backfill {created['id']} of {dag_id} not done in {timeout:g} s")

    def wait_until_idle(self, dag_id: str, at_least: int, quiet: float = 15.0,
                        timeout: float = 600.0) -> list[dict[str, Any]]:
        """Wait until ``dag_id`` has ``at_least`` runs, all finished, and no new run has
        appeared for ``quiet`` seconds (asset-triggered runs follow their events)."""
        deadline = time.monotonic() + timeout
        last: tuple[int, float] = (-1, time.monotonic())
        while time.monotonic() < deadline:
            runs = self.runs(dag_id)
            if len(runs) != last[0]:
                last = (len(runs), time.monotonic())
            finished = all(r["state"] in ("success", "failed") for r in runs)
            if len(runs) >= at_least and finished and time.monotonic() - last[1] >= quiet:
                return runs
            time.sleep(2)
        raise TimeoutError(f"{dag_id} did not settle within {timeout:g} s; see {self.log_path}")

    def stop(self) -> None:
        """Stop Airflow and every process it started."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def _s3_env(endpoint: str, access: str, secret: str) -> dict[str, str]:
    return {"NEWS_INGEST_S3_ENDPOINT_URL": endpoint, "NEWS_INGEST_S3_ACCESS_KEY": access,
            "NEWS_INGEST_S3_SECRET_KEY": secret}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run() -> int:
    """``make run``: SeaweedFS with data in ./data and Airflow with the DAGs unpaused."""
    from ingest.config import Settings
    from ingest.seaweed import SeaweedServer
    from ingest.storage import Stores

    settings = Settings.from_env()
    port = int(os.environ.get("AIRFLOW_PORT", "8080"))
    s3_port = int((settings.s3_endpoint_url or "http://127.0.0.1:8333").rsplit(":", 1)[1])
    seaweed = SeaweedServer(ROOT / "data" / "seaweed", s3_port=s3_port,
                            access_key=settings.s3_access_key or "newsingest",
                            secret_key=settings.s3_secret_key or "newsingest-secret",
                            buckets=(settings.raw_bucket, settings.processed_bucket))
    seaweed.start()
    Stores.from_settings(settings).ensure_buckets()
    print(f"SeaweedFS S3: {seaweed.endpoint} (data in {seaweed.data_dir})", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything, as Ctrl-C does
    home = Path(os.environ.get("AIRFLOW_HOME", ROOT / ".airflow"))
    airflow = Standalone(home, port=port, env=_s3_env(seaweed.endpoint, seaweed.access_key,
                                                      seaweed.secret_key))
    try:
        airflow.start()
        airflow.wait_for_dags(["news_poll", "news_process"])
        print(f"Airflow UI: {airflow.base}  login: admin / {airflow.password()}", flush=True)
        print("DAGs news_poll and news_process are unpaused. Ctrl-C stops everything.", flush=True)
        while airflow.proc is not None and airflow.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        airflow.stop()
        seaweed.stop()
    return 0


def demo() -> int:
    """``make demo``: the offline sample through Airflow, then articles per region."""
    from ingest.config import SAMPLE_CATALOG, Settings
    from ingest.sample.server import SampleServer
    from ingest.seaweed import SeaweedServer, free_port
    from ingest.storage import Stores

    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="news-ingest-demo-"))
    seaweed = SeaweedServer(work / "seaweed").start()
    sample = SampleServer().__enter__()
    env = {**_s3_env(seaweed.endpoint, seaweed.access_key, seaweed.secret_key),
           "NEWS_INGEST_CATALOG_PATH": str(SAMPLE_CATALOG),
           "NEWS_INGEST_SAMPLE_BASE": sample.base, "NEWS_INGEST_PER_HOST_DELAY": "0"}
    os.environ.update(env)
    settings = Settings.from_env()
    Stores.from_settings(settings).ensure_buckets()
    airflow = Standalone(work / "airflow", port=free_port(), env=env)
    try:
        print(f"Starting Airflow (AIRFLOW_HOME={airflow.home}) ...", flush=True)
        airflow.start()
        airflow.wait_for_dags(["news_poll", "news_process"])
        print("news_poll is unpaused: waiting for its scheduled run ...", flush=True)
        poll = airflow.wait_for_runs("news_poll", 1)[0]
        print(f"news_poll {poll['dag_run_id']}: {poll['state']}", flush=True)
        proc = airflow.wait_for_runs("news_process", 1)[0]
        print(f"news_process {proc['dag_run_id']} (triggered by the news-raw asset): "
              f"{proc['state']}", flush=True)
        from ingest.cli import main as cli

        cli(["report"])
        ok = poll["state"] == proc["state"] == "success"
        print(f"demo {'finished' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s",
              flush=True)
        return 0 if ok else 1
    finally:
        airflow.stop()
        sample.__exit__(None, None, None)
        seaweed.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    sys.exit({"run": run, "demo": demo}[command]())
