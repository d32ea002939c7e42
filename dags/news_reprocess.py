"""
### news_reprocess

Rebuilds processed data from the raw captures already stored, with the current extractor, tagger
and dedupe, without fetching anything: use it after changing any of them. Paused by default.

Each run covers its data interval's days (daily by default; `NEWS_INGEST_REPROCESS_CRON`):
every capture under `captures/dt=<day>/` is processed again as one batch whose rows replace
those captures' rows in the articles table in one Delta commit (readers see the old rows or the
new ones, never both), and whose dedupe segments replace theirs. Repeating a rebuild with the
same code commits nothing; rows carry `extractor` and `config_hash`.

Typical use is a backfill over the range to rebuild (Backfill dialog, `airflow backfill create
--dag-id news_reprocess --from-date ... --to-date ...`). Runs one at a time; its commits and
news_process's take the table's writer lock in turn.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task
from news_assets import PROCESSED
from news_ingest_airflow import cron_schedule


@dag(
    dag_id="news_reprocess",
    schedule=cron_schedule("REPROCESS_CRON", "0 0 * * *"),
    start_date=datetime(2010, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["news", "process"],
    doc_md=__doc__,
)
def news_reprocess() -> None:
    @task(outlets=[PROCESSED])
    def rebuild(**context: Any) -> dict[str, Any]:
        """Rebuild the articles of this run's days from raw captures."""
        from news_ingest_airflow import settings

        from ingest.pipeline import interval_of, reprocess

        dag_run = context["dag_run"]
        fallback = getattr(dag_run, "run_after", None) or datetime.now(UTC)
        interval = interval_of(context.get("data_interval_start"),
                               context.get("data_interval_end"), fallback)
        summary = reprocess(interval, settings())
        context["outlet_events"][PROCESSED].extra = {
            "manifest": summary.get("manifest", ""), "partitions": summary.get("partitions", []),
            "counts": summary.get("counts", {}), "table_version": summary.get("table_version")}
        return summary

    rebuild()


news_reprocess()
