"""Scale-out on Celery: news_process's extraction tasks spread over two Celery workers (this
machine's Redis as the broker, PostgreSQL as the metadata database and result backend), and
the processed output is byte-identical to a LocalExecutor run of the same captures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ingest import dataset
from ingest.config import Settings
from ingest.storage import Stores, make_s3_client
from tests.dags.conftest import ROOT
from tests.integration.test_stages import processed_state, twin
from tests.support import corpus

sys.path.insert(0, str(ROOT / "scripts"))
from stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]


def run_process(tmp_path: Path, name: str, settings: Settings, keys: list[str],
                workers: dict[str, int] | None, extra: dict[str, str] | None = None
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One manual news_process run over ``keys`` on a fresh stack; its run and task instances."""
    env = {"NEWS_INGEST_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
           "NEWS_INGEST_S3_ACCESS_KEY": settings.s3_access_key or "",
           "NEWS_INGEST_S3_SECRET_KEY": settings.s3_secret_key or "",
           "NEWS_INGEST_RAW_BUCKET": settings.raw_bucket,
           "NEWS_INGEST_PROCESSED_BUCKET": settings.processed_bucket,
           "NEWS_INGEST_STAGE_SHARD_BYTES": str(settings.stage_shard_bytes),
           # only news_process runs (unpaused below): no poll adds captures of its own
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True", **(extra or {})}
    stack = Stack(tmp_path / name, port=_free_port(), env=env, celery_workers=workers)
    stack.start()
    try:
        stack.wait_for_dags(["news_process"])
        stack.api("PATCH", "/dags/news_process", json={"is_paused": False})
        run = stack.api("POST", "/dags/news_process/dagRuns",
                        json={"logical_date": None, "conf": {"captures": keys}})
        done = stack.wait_for_runs("news_process", 1, timeout=600)[0]
        assert done["state"] == "success", stack.logs()
        tis = stack.api("GET", f"/dags/news_process/dagRuns/{run['dag_run_id']}/taskInstances",
                        params={"limit": 500})["task_instances"]
        return done, tis
    finally:
        stack.stop()


def _free_port() -> int:
    from ingest.seaweed import free_port

    return free_port()


@pytest.mark.timeout(1500)  # two stacks, one after the other
def test_extraction_spreads_over_two_celery_workers_with_the_bytes_of_a_local_run(
        tmp_path: Path, settings: Settings, stores: Stores) -> None:
    keys = corpus.write(stores, corpus.exchanges(96))
    settings = settings.model_copy(update={"stage_shard_bytes": 96 * 1024})

    celery = twin(settings, "celery")
    _, tis = run_process(tmp_path, "celery", celery, keys, {"alpha": 2, "beta": 2})
    extract = [ti for ti in tis if ti["task_id"] == "extract"]
    # each group's captures, in order, in shards of its sites: the groups were split
    assert len(extract) > len({dataset.capture_chain(k)[1] for k in keys})  # type: ignore[index]
    assert all(ti["state"] == "success" for ti in extract)
    assert {ti["hostname"] for ti in extract} == {"alpha", "beta"}, extract
    assert all(ti["rendered_map_index"] for ti in extract)  # "g0 c00 1/3", not "0"

    local = twin(settings, "local")
    # as many extraction slots as the two workers' processes (the celery stack's pool, from
    # its workers), so both runs cut the captures alike
    _, tis = run_process(tmp_path, "local", local, keys, None, {"NEWS_INGEST_EXTRACT_SLOTS": "4"})
    assert len([ti for ti in tis if ti["task_id"] == "extract"]) == len(extract)

    got, reference = processed_state(celery), processed_state(local)
    assert len(reference["rows"]) > 80
    assert got == reference
    staging = Stores.from_settings(celery, make_s3_client(celery)).processed.list("staging/")
    assert not list(staging)
