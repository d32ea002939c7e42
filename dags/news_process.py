"""
### news_process

Event-driven: runs whenever **news-raw** gets an event (no timer). Reads the raw captures named
by the triggering events (several events can arrive in one run; each capture is processed as
its own batch, so the output does not depend on how events were grouped), plus any capture a
poll left in the raw bucket's `inbox/` whose event never reached a run, extracts text and metadata,
canonicalises URLs, deduplicates against the stored index, tags regions, and commits each
batch's rows to the **articles** Delta table (`s3://<processed>/articles`, partitioned by `dt`
and `region`) in one transaction, then writes a run manifest. Emits an event on
**news-processed** naming the partitions touched.

A manual run can name captures itself: trigger with conf `{"captures": ["captures/dt=.../x.warc.gz"]}`
to (re)process exactly those raw captures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task
from news_assets import PROCESSED, RAW


@dag(
    dag_id="news_process",
    schedule=[RAW],
    start_date=datetime(2010, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["news", "process"],
    doc_md=__doc__,
)
def news_process() -> None:
    @task(outlets=[PROCESSED])
    def process(**context: Any) -> dict[str, Any]:
        """Process every capture named by the triggering news-raw events."""
        from news_ingest_airflow import capture_keys, settings

        from ingest.pipeline import process as run_process

        conf = getattr(context.get("dag_run"), "conf", None)
        keys = capture_keys(conf, context.get("triggering_asset_events"))
        summary = run_process(keys, settings(), use_inbox=True)
        context["outlet_events"][PROCESSED].extra = {
            "manifests": summary["manifests"], "partitions": summary["partitions"],
            "counts": summary["counts"], "table_versions": summary["table_versions"],
        }
        return summary

    process()


news_process()
