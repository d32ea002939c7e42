"""DAG integrity: the files import cleanly, wire as designed and do nothing heavy at parse time."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.dags.conftest import AIRFLOW_ENV, ROOT

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dagbag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"news_poll", "news_process", "news_reprocess", "news_maintain"}


def test_every_dag_is_documented_tagged_and_retried(dagbag: Any) -> None:
    for dag in dagbag.dags.values():
        assert dag.doc_md and len(dag.doc_md) > 100, dag.dag_id
        assert "news" in dag.tags, dag.dag_id
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id}"


def test_poll_is_interval_scheduled_and_emits_the_raw_asset(dagbag: Any) -> None:
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags["news_poll"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.catchup is False
    assert [t.task_id for t in dag.topological_sort()] == ["feed_groups", "poll"]
    poll = dag.get_task("poll")
    # one poll per group, each emitting its own event (through an alias: a poll that captured
    # nothing emits none, tests/dags/test_dag_runs.py)
    assert poll.is_mapped
    assert [(type(a).__name__, a.name) for a in poll.outlets] == [
        ("AssetAlias", "news-raw-captures")]


def test_process_is_scheduled_on_the_raw_asset(dagbag: Any) -> None:
    dag = dagbag.dags["news_process"]
    assert "news-raw" in str(dag.timetable.asset_condition)
    assert [t.task_id for t in dag.topological_sort()] == ["plan", "extract", "commit"]
    assert dag.get_task("extract").is_mapped  # one task per capture shard, any worker
    assert [a.name for a in dag.get_task("commit").outlets] == ["news-processed"]
    # the single writer of the dedupe index: runs never overlap, so each sees the last one's
    # segment (tests/integration show concurrent batches still cannot corrupt it)
    assert dag.max_active_runs == 1


def test_reprocess_is_time_scheduled_paused_and_single(dagbag: Any) -> None:
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags["news_reprocess"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.is_paused_upon_creation is True and dag.max_active_runs == 1
    assert dag.catchup is False
    assert [a.name for a in dag.get_task("rebuild").outlets] == ["news-processed"]


def test_parsing_does_no_network_and_imports_no_pipeline_code() -> None:
    code = (
        "import sys, socket\n"
        "def refuse(*a, **k): raise RuntimeError('network at parse time')\n"
        "socket.socket.connect = refuse\n"
        f"sys.path[:0] = [{str(ROOT / 'dags')!r}, {str(ROOT / 'plugins')!r}]\n"
        "import runpy\n"
        f"runpy.run_path({str(ROOT / 'dags' / 'news_poll.py')!r})\n"
        f"runpy.run_path({str(ROOT / 'dags' / 'news_process.py')!r})\n"
        f"runpy.run_path({str(ROOT / 'dags' / 'news_reprocess.py')!r})\n"
        "heavy = [m for m in ('ingest.pipeline', 'trafilatura', 'boto3', 'pyarrow') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**AIRFLOW_ENV, "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(("dag_file", "variable"), [("news_poll", "NEWS_INGEST_POLL_CRON"),
                                                    ("news_reprocess", "NEWS_INGEST_REPROCESS_CRON"),
                                                    ("news_maintain", "NEWS_INGEST_MAINTAIN_CRON")])
def test_an_invalid_schedule_names_its_variable(dag_file: str, variable: str) -> None:
    code = (f"import sys; sys.path[:0] = [{str(ROOT / 'dags')!r}, {str(ROOT / 'plugins')!r}]\n"
            f"import runpy; runpy.run_path({str(ROOT / 'dags' / f'{dag_file}.py')!r})\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**AIRFLOW_ENV, "PATH": "/usr/bin:/bin", variable: "61 * * * *"},
                         timeout=120)
    assert out.returncode != 0
    assert f"ConfigError: {variable}='61 * * * *' is not a valid cron expression" in out.stderr


def test_maintain_is_daily_single_and_emits_the_processed_asset(dagbag: Any) -> None:
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags["news_maintain"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert [a.name for a in dag.get_task("compact_and_vacuum").outlets] == ["news-processed"]


def test_tasks_run_in_the_pools_the_deployment_creates(dagbag: Any) -> None:
    """Extraction (CPU) and polls (network) have pools of their own, so neither starves the
    other; every pool a task names is one `ensure_pools` creates (a missing pool is a silent
    stall: the scheduler never queues its tasks)."""
    from news_assets import EXTRACT_POOL, POLL_POOL
    from news_ingest_airflow import pool_sizes

    from ingest.config import Settings

    sizes = pool_sizes(Settings(extract_slots=6))
    assert sizes == {EXTRACT_POOL: 6, POLL_POOL: 4}
    assert pool_sizes(Settings(extract_slots=6, poll_slots=5))[POLL_POOL] == 5
    assert pool_sizes(Settings())[EXTRACT_POOL] >= 1  # default: this machine's cores
    pools = {(d.dag_id, t.task_id): t.pool for d in dagbag.dags.values() for t in d.tasks}
    assert pools[("news_process", "extract")] == EXTRACT_POOL
    assert pools[("news_poll", "poll")] == POLL_POOL
    assert set(pools.values()) <= {"default_pool", *sizes}
