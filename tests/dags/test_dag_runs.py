"""dag.test() of each DAG on the offline sample, against real SeaweedFS and the sample server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest import table
from ingest.config import SAMPLE_CATALOG, Settings
from ingest.sample.server import SampleServer
from ingest.storage import Stores
from tests.dags.conftest import ROOT

pytestmark = pytest.mark.airflow


def use(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"S3_ENDPOINT_URL": settings.s3_endpoint_url, "S3_ACCESS_KEY": settings.s3_access_key,
           "S3_SECRET_KEY": settings.s3_secret_key, "RAW_BUCKET": settings.raw_bucket,
           "PROCESSED_BUCKET": settings.processed_bucket, "CATALOG_PATH": str(SAMPLE_CATALOG),
           "PER_HOST_DELAY": "0"}
    for key, value in env.items():
        monkeypatch.setenv(f"NEWS_INGEST_{key}", str(value))


def load(dag_id: str, retries: int | None = None) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py")).dags[dag_id]
    for task in dag.tasks if retries is not None else []:
        task.retries = retries  # dag.test() waits out each retry delay
    return dag


def raw_events(run_id: str) -> list[dict[str, Any]]:
    """The extras of the news-raw events a news_poll run emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        found = session.query(AssetEvent).join(
            AssetModel, AssetEvent.asset_id == AssetModel.id).filter(
            AssetModel.name == "news-raw", AssetEvent.source_dag_id == "news_poll",
            AssetEvent.source_run_id == run_id).order_by(AssetEvent.id).all()
        return [dict(event.extra or {}) for event in found]


def test_poll_then_process(airflow_db: Path, settings: Settings, stores: Stores,
                           sample_server: SampleServer, monkeypatch: pytest.MonkeyPatch) -> None:
    use(settings, monkeypatch)
    # a manual run at 01:00 covers the hour before it
    run = load("news_poll").test(logical_date=datetime(2014, 3, 31, 1, tzinfo=UTC))
    assert run.state == "success"
    captures = sorted(stores.raw.list("captures/"))
    assert captures == [
        "captures/dt=2014-03-31/group=sample/20140331T0000Z-20140331T0100Z.warc.gz"]
    assert list(stores.raw.list("reports/poll/dt=2014-03-31/")) == [
        "reports/poll/dt=2014-03-31/20140331T0000Z-20140331T0100Z/sample.json"]

    run = load("news_process").test(run_conf={"captures": captures})
    assert run.state == "success"
    got = table.rows(settings)
    assert ("2014-03-30", "asia-pacific") in {(r["dt"], r["region"]) for r in got}  # UTC+8
    assert len(got) == 8
    manifests = list(stores.processed.list("runs/"))
    assert len(manifests) == 1
    assert stores.processed.get_json(manifests[0])["counts"]["articles"] == 8


def test_a_group_whose_every_feed_fails_fails_its_task_and_the_others_are_announced(
        airflow_db: Path, settings: Settings, stores: Stores, sample_server: SampleServer,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    use(settings, monkeypatch)
    catalog = tmp_path / "feeds.yaml"
    catalog.write_text(SAMPLE_CATALOG.read_text(encoding="utf-8") + (
        "  - {id: dead, url: 'http://127.0.0.1:9/feed.xml', publisher: Dead, group: down}\n"
        "  - {id: gone, url: '${NEWS_INGEST_SAMPLE_BASE}/nothing.xml', publisher: Gone, "
        "group: down}\n"), encoding="utf-8")
    monkeypatch.setenv("NEWS_INGEST_CATALOG_PATH", str(catalog))
    run = load("news_poll", retries=0).test(logical_date=datetime(2014, 3, 31, 1, tzinfo=UTC))
    with create_session() as session:
        tis = {(ti.task_id, ti.rendered_map_index): ti.state for ti in session.query(
            TaskInstance).filter(TaskInstance.run_id == run.run_id)}
    # mapped tasks are named by their group; the failing group's task failed, the others ran
    assert tis[("poll", "down")] == "failed"
    assert tis[("poll", "sample")] == "success"
    # the group that worked emitted its news-raw event naming its capture; the failed one none
    events = raw_events(run.run_id)
    assert [e["groups"] for e in events] == [["sample"]], events
    assert events[0]["captures"] == [
        "captures/dt=2014-03-31/group=sample/20140331T0000Z-20140331T0100Z.warc.gz"]
    report = stores.raw.get_json(
        "reports/poll/dt=2014-03-31/20140331T0000Z-20140331T0100Z/down.json")
    assert {f["feed_id"]: f["status"] for f in report["feeds"]} == {"dead": "error",
                                                                     "gone": "error"}
    assert "127.0.0.1:9" in report["feeds"][0]["error"]
    assert list(stores.raw.list("captures/dt=2014-03-31/group=sample/"))


def test_a_run_that_captured_nothing_emits_no_event(
        airflow_db: Path, settings: Settings, stores: Stores, sample_server: SampleServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    use(settings, monkeypatch)
    first = load("news_poll").test(logical_date=datetime(2014, 3, 31, 1, tzinfo=UTC))
    again = load("news_poll").test(logical_date=datetime(2014, 3, 31, 2, tzinfo=UTC))
    assert again.state == "success"  # every feed answered 304: nothing new
    with create_session() as session:
        poll = session.query(TaskInstance).filter(TaskInstance.run_id == again.run_id,
                                                  TaskInstance.task_id == "poll").one()
    assert poll.state == "success"
    assert len(raw_events(first.run_id)) == 1
    assert raw_events(again.run_id) == []  # (the alias outlet: no event added, none emitted)


def test_s3_settings_come_from_the_news_s3_connection(
        airflow_db: Path, settings: Settings, stores: Stores, sample_server: SampleServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from ingest.seaweed import free_port

    use(settings, monkeypatch)
    # the environment points at a dead endpoint; only the Airflow connection is right
    monkeypatch.setenv("NEWS_INGEST_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NEWS_INGEST_S3_ACCESS_KEY", "wrong")
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_S3", json.dumps({
        "conn_type": "aws", "login": settings.s3_access_key, "password": settings.s3_secret_key,
        "extra": {"endpoint_url": settings.s3_endpoint_url, "region_name": "us-east-1"}}))
    run = load("news_poll").test(logical_date=datetime(2014, 3, 31, 5, tzinfo=UTC))
    assert run.state == "success"
    assert list(stores.raw.list("captures/dt=2014-03-31/group=sample/"))


def test_a_history_run_reads_historical_sources(
        airflow_db: Path, settings: Settings, stores: Stores, sample_server: SampleServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    use(settings, monkeypatch)
    run = load("news_poll").test(logical_date=datetime(2014, 3, 31, 1, tzinfo=UTC),
                                 run_conf={"history": True})
    assert run.state == "success"
    report = stores.raw.get_json(
        "reports/poll/dt=2014-03-31/20140331T0000Z-20140331T0100Z/sample.json")
    feeds = report["feeds"]
    assert {f["mode"] for f in feeds} == {"history"}
    # the sample site publishes no sitemaps: recorded per feed, the run still succeeds
    assert all(p["source"] == "sitemap" for f in feeds for p in f["problems"])
    assert {f["status"] for f in feeds} == {"partial"}
    assert stores.raw.get_json("state/feeds/group=sample.json", None) is None


def test_reprocess_rebuilds_a_day_from_raw_captures(
        airflow_db: Path, settings: Settings, stores: Stores, sample_server: SampleServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    use(settings, monkeypatch)
    assert load("news_poll").test(logical_date=datetime(2014, 3, 31, 1, tzinfo=UTC)).state == \
        "success"
    captures = sorted(stores.raw.list("captures/"))
    assert load("news_process").test(run_conf={"captures": captures}).state == "success"
    old = list(stores.processed.list("runs/"))
    hits = dict(sample_server.hits)
    run = load("news_reprocess").test(logical_date=datetime(2014, 4, 1, tzinfo=UTC))
    assert run.state == "success"
    new = [k for k in stores.processed.list("runs/") if k not in old]
    assert len(new) == 1  # the rebuild's manifest, beside the first batch's
    assert stores.processed.get_json(new[0])["counts"]["articles"] == 8
    assert len(table.rows(settings)) == 8  # replaced, not added
    assert table.open_table(settings).version() == 1  # the first commit, then the rebuild's
    assert sample_server.hits == hits  # nothing was fetched
