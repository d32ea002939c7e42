"""
### news_maintain

Daily upkeep of the **articles** Delta table: every day whose partitions hold several small
files (each processing batch adds one per partition it touches) is compacted into files of up to
128 MB, one commit per day under the table's writer lock (rows unchanged); then files that no
table version of the last `NEWS_INGEST_TABLE_RETENTION_DAYS` (7) days uses are vacuumed, so
time travel reaches back that far and a reader that started before the vacuum finishes its
query. What was done is in the task's return value and in
`reports/maintenance/dt=<day>/<time>.json` in the processed bucket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task
from news_assets import PROCESSED
from news_ingest_airflow import cron_schedule


@dag(
    dag_id="news_maintain",
    schedule=cron_schedule("MAINTAIN_CRON", "30 3 * * *"),
    start_date=datetime(2010, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["news", "maintenance"],
    doc_md=__doc__,
)
def news_maintain() -> None:
    @task(outlets=[PROCESSED])
    def compact_and_vacuum(**context: Any) -> dict[str, Any]:
        """Compact the table's small files and vacuum files past the retention."""
        from news_ingest_airflow import settings

        from ingest.pipeline import maintain

        report = maintain(settings())
        context["outlet_events"][PROCESSED].extra = {"maintenance": report.get("report", "")}
        return report

    compact_and_vacuum()


news_maintain()
