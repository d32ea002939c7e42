"""Backfill end to end through a real scheduler, the way the UI's Backfill dialog does it.

Airflow's components on an embedded PostgreSQL under the supervisor (``scripts/stack.py``); a
backfill of ``news_poll`` over three past days is created with ``POST /api/v2/backfills``, the
scheduler is SIGKILLed in its middle and restarted by the supervisor; its runs read the sites'
sitemaps (served on
loopback), their news-raw events trigger news_process, and each day's partitions land once in a
real SeaweedFS with no article twice. Repeating the backfill with
``reprocess_behavior=completed`` leaves every data object byte for byte the same; a backfill of
``news_reprocess`` over the same days rebuilds them from the raw captures without fetching.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from ingest import table
from ingest.config import Settings
from ingest.sample.server import SampleServer
from ingest.storage import Stores
from tests.dags.conftest import ROOT
from tests.support import history, tables

sys.path.insert(0, str(ROOT / "scripts"))
from stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]

DAYS = ["2014-03-29", "2014-03-30", "2014-03-31"]
PER_DAY = {"one": 3, "two": 2}


@pytest.fixture
def site() -> Iterator[SampleServer]:
    with SampleServer() as server:
        for name, count in PER_DAY.items():
            history.install(server, f"/{name}", date(2014, 3, 29), days=3, per_day=count)
            # the live feed lists nothing, so the scheduled (live) run adds no articles
            server.files[f"/{name}/feed.xml"] = (
                b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
                b"</channel></rss>")
        yield server


@pytest.fixture
def airflow(tmp_path: Path, settings: Settings, stores: Stores,
            site: SampleServer) -> Iterator[Stack]:
    catalog = tmp_path / "feeds.yaml"
    catalog.write_text(yaml.safe_dump({"version": 1, "defaults": {
        "group": "hist", "allow_private": True, "history": ["captures", "sitemap"]}, "feeds": [
        {"id": name, "url": f"{site.base}/{name}/feed.xml", "publisher": name.title(),
         "sitemaps": [f"{site.base}/{name}/sitemap-index.xml"]} for name in PER_DAY]}))
    env = {"NEWS_INGEST_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
           "NEWS_INGEST_S3_ACCESS_KEY": settings.s3_access_key or "",
           "NEWS_INGEST_S3_SECRET_KEY": settings.s3_secret_key or "",
           "NEWS_INGEST_RAW_BUCKET": settings.raw_bucket,
           "NEWS_INGEST_PROCESSED_BUCKET": settings.processed_bucket,
           "NEWS_INGEST_CATALOG_PATH": str(catalog), "NEWS_INGEST_PER_HOST_DELAY": "0",
           "NEWS_INGEST_POLL_CRON": "0 0 * * *",  # daily runs: three for three days
           "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp_path / "logs")}
    server = Stack.start_fresh(tmp_path, env)
    try:
        yield server
    finally:
        server.stop()


def wait_for_a_running_task(airflow: Stack, dag_id: str, timeout: float = 120.0) -> None:
    """Wait until a task instance of ``dag_id`` is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = airflow.api("GET", f"/dags/{dag_id}/dagRuns/~/taskInstances",
                            params={"state": "running"})
        if found["task_instances"]:
            return
        time.sleep(0.5)
    raise TimeoutError(f"no running task of {dag_id} within {timeout:g} s")


def settle(airflow: Stack, stores: Stores, at_least: int) -> None:
    """Wait until news_process is idle and has emptied the processing inbox (every capture the
    backfill wrote has been processed)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        airflow.wait_until_idle("news_process", at_least)
        if not list(stores.raw.list("inbox/")):
            return
        time.sleep(5)
    raise TimeoutError(f"captures still waiting: {list(stores.raw.list('inbox/'))}")


def article_rows(settings: Settings) -> list[dict[str, object]]:
    return [r for r in table.rows(settings) if str(r["dt"]).startswith("2014-")]


def test_backfill_three_days_from_the_api_then_repeat_and_rebuild(
        airflow: Stack, settings: Settings, stores: Stores, site: SampleServer) -> None:
    assert "PostgreSQL on 127.0.0.1:" in airflow.log_path.read_text()  # not SQLite
    airflow.wait_for_dags(["news_poll", "news_process", "news_reprocess"])
    settled = len(airflow.wait_until_idle("news_process", 1))  # after the scheduled live run

    # the REST API answers on the first try while the scheduler is busy (Stack.api never
    # retries); then the scheduler is killed in the middle of the backfill and restarted
    created = airflow.create_backfill("news_poll", "2014-03-29T00:00:00Z", "2014-03-31T00:00:00Z")
    wait_for_a_running_task(airflow, "news_poll")
    scheduler = airflow.component("scheduler")
    os.kill(scheduler.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
    done = airflow.wait_for_backfill(created["id"])
    assert airflow.supervisor.restarts("scheduler") == 1 and scheduler.pid is not None
    assert "scheduler: killed by SIGKILL" in airflow.log_path.read_text()
    runs = [r for r in airflow.runs("news_poll") if r["run_type"] == "backfill"]
    assert len(runs) == 3 and {r["state"] for r in runs} == {"success"}, \
        airflow.log_path.read_text()[-3000:]
    assert not done["is_paused"]
    settle(airflow, stores, settled + 1)

    rows = article_rows(settings)
    assert len(rows) == 3 * sum(PER_DAY.values())
    assert max(Counter(r["article_id"] for r in rows).values()) == 1  # no article twice
    for day in DAYS:
        assert any(r["dt"] == day for r in rows), day
        assert len(list(stores.raw.list(f"captures/dt={day}/group=hist/"))) == 1  # once a day
        report = next(iter(stores.processed.list(f"reports/completeness/dt={day}/")))
        doc = stores.processed.get_json(report)
        assert doc["complete"] and doc["totals"]["extracted"] == sum(PER_DAY.values())
        assert {f["mode"] for f in doc["feeds"]} == {"history"}

    before = tables.state(settings, stores)
    page_hits = {p: n for p, n in site.hits.items() if p.endswith(".html")}
    settled = len(airflow.runs("news_process"))
    ended = {r["dag_run_id"]: r["end_date"] for r in runs}
    airflow.backfill("news_poll", "2014-03-29T00:00:00Z", "2014-03-31T00:00:00Z",
                     behavior="completed")
    again = [r for r in airflow.runs("news_poll") if r["run_type"] == "backfill"]
    # the completed runs were run again (in place, same run ids)
    assert {r["dag_run_id"] for r in again} == set(ended)
    assert all(r["state"] == "success" and r["end_date"] > ended[r["dag_run_id"]] for r in again)
    settle(airflow, stores, settled + 1)
    assert tables.state(settings, stores) == before  # byte for byte, no new commit
    assert {p: n for p, n in site.hits.items() if p.endswith(".html")} == page_hits

    airflow.api("PATCH", "/dags/news_reprocess", json={"is_paused": False})
    airflow.backfill("news_reprocess", "2014-03-29T00:00:00Z", "2014-03-31T00:00:00Z")
    rebuilt = [r for r in airflow.runs("news_reprocess") if r["run_type"] == "backfill"]
    assert len(rebuilt) == 3 and {r["state"] for r in rebuilt} == {"success"}, \
        airflow.log_path.read_text()[-3000:]
    after = article_rows(settings)
    assert sorted(r["article_id"] for r in after) == sorted(r["article_id"] for r in rows)
    assert max(Counter(r["article_id"] for r in after).values()) == 1  # replaced, not added
    # a commit per rebuilt day (and one for the scheduled run of news_reprocess, unpaused now)
    assert table.open_table(settings).version() >= before["version"] + 3
    assert {p: n for p, n in site.hits.items() if p.endswith(".html")} == page_hits
