"""End to end through a real scheduler: Airflow's components on an embedded PostgreSQL
(``scripts/stack.py``) on a temporary AIRFLOW_HOME.

The scheduled news_poll run polls the offline sample, its news-raw asset event triggers a
news_process run, and its rows land in the articles Delta table in a real SeaweedFS.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import table
from ingest.config import Settings
from ingest.sample.server import SampleServer
from ingest.storage import Stores
from tests.dags.conftest import ROOT, sample_stack_env

sys.path.insert(0, str(ROOT / "scripts"))
from stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]


@pytest.fixture
def airflow(tmp_path: Path, settings: Settings, stores: Stores,
            sample_server: SampleServer) -> Iterator[Stack]:
    env = sample_stack_env(tmp_path, settings, sample_server)
    server = Stack.start_fresh(tmp_path, env)
    try:
        yield server
    finally:
        server.stop()


def test_poll_event_triggers_process_and_the_table_gets_its_rows(
        airflow: Stack, settings: Settings, stores: Stores) -> None:
    airflow.wait_for_dags(["news_poll", "news_process"])
    poll = airflow.wait_for_runs("news_poll", 1)[0]
    assert poll["state"] == "success", airflow.log_path.read_text()[-3000:]
    process = airflow.wait_for_runs("news_process", 1)[0]
    assert process["state"] == "success", airflow.log_path.read_text()[-3000:]
    assert process["run_type"] == "asset_triggered"
    # the stack created the pools the DAGs name, extraction sized to this machine's cores
    pools = {p["name"]: p["slots"] for p in airflow.api("GET", "/pools")["pools"]}
    assert pools["news_extract"] == os.cpu_count() and pools["news_poll"] == 4
    extract = airflow.api("GET", f"/dags/news_process/dagRuns/{process['dag_run_id']}"
                                 "/taskInstances", params={"task_id": "extract"})
    assert {ti["pool"] for ti in extract["task_instances"]} == {"news_extract"}

    events = airflow.api("GET", "/assets/events", params={"limit": 10})["asset_events"]
    # when the clock passes an hour during the test, a second scheduled poll runs; it finds
    # nothing new, so its event names no captures
    raw_events = [e for e in events if e["uri"].startswith("s3://news-raw")
                  and e["extra"]["captures"]]
    assert len(raw_events) == 1 and len(raw_events[0]["extra"]["captures"]) == 1
    assert "/group=sample/" in raw_events[0]["extra"]["captures"][0]

    got = table.rows(settings)
    assert ("2014-03-30", "asia-pacific") in {(r["dt"], r["region"]) for r in got}  # UTC+8
    manifests = list(stores.processed.list("runs/"))
    assert len(manifests) == 1
    manifest = stores.processed.get_json(manifests[0])
    assert manifest["counts"]["articles"] == 8
    assert manifest["captures"] == raw_events[0]["extra"]["captures"]
