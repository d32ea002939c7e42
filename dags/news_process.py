"""
### news_process

Event-driven: runs whenever **news-raw** gets an event (no timer). Three stages:

1. **plan**: the raw captures named by the triggering events (several events can arrive in one
   run), plus any capture a poll left in the raw bucket's `inbox/` whose event never reached a
   run; a capture is split into shards (at most one per `STAGE_SHARD_BYTES`) only as far as
   needed to keep the extraction slots (the `news_extract` pool, `NEWS_INGEST_EXTRACT_SLOTS`)
   busy.
2. **extract** (mapped, one task per part: the captures of a feed group, or of several small
   groups, or one shard of a big group's sites, each group's captures taken in order; about two
   parts per extraction slot; runs on any worker in parallel, in the `news_extract` pool so
   polls and extraction never take each other's slots): text and metadata (site boilerplate
   learned from the group's earlier captures taken out), canonical URL, hashes, MinHash
   signature and region tags of every page, stored as Parquet under `staging/` in the
   processed bucket, and each group's site line history under `state/sitelines/`.
3. **commit** (serial): each capture as its own batch (so the output does not depend on how
   events were grouped), deduplicated in fetch-time order against the index (read once per
   run), its rows committed to the **articles** Delta table (`s3://<processed>/articles`,
   partitioned by `dt` and `region`) in one transaction, then a run manifest. A capture whose
   extraction failed is left for the next run (this task then fails, after the others are
   committed). Emits an event on **news-processed** naming the partitions touched.

A manual run can name captures itself: trigger with conf `{"captures": ["captures/dt=.../x.warc.gz"]}`
to (re)process exactly those raw captures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import TriggerRule, dag, task
from news_assets import EXTRACT_POOL, PROCESSED, RAW


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
    @task
    def plan(**context: Any) -> list[dict[str, Any]]:
        """The captures of this run (its events, conf, and the inbox) and their extraction parts."""
        from news_ingest_airflow import capture_keys, settings

        from ingest.pipeline import plan as run_plan

        conf = getattr(context.get("dag_run"), "conf", None)
        keys = capture_keys(conf, context.get("triggering_asset_events"))
        # extraction tasks that can run at once (the news_extract pool): a run of many
        # captures is not cut into more parts than keep them busy (every part starts a
        # process and reads its whole capture)
        current = settings()
        return run_plan(keys, current, use_inbox=True, slots=current.extraction_slots)

    @task(pool=EXTRACT_POOL, map_index_template="{{ part_label }}")
    def extract(part: dict[str, Any]) -> dict[str, Any]:
        """Extract the capture shards of one part (a shard of a big capture, or several small
        captures) into staging, one object per capture shard; stateless."""
        from airflow.sdk import get_current_context
        from news_ingest_airflow import settings

        from ingest.pipeline import extract as run_extract
        from ingest.pipeline import part_label

        get_current_context()["part_label"] = part_label(part)  # type: ignore[typeddict-unknown-key]
        return run_extract(part, settings())

    @task(outlets=[PROCESSED], trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS)
    def commit(parts: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
        """Deduplicate and commit every capture of the run, one batch per capture, in order."""
        from news_ingest_airflow import settings

        from ingest.pipeline import commit as run_commit

        summary = run_commit(list(parts), settings())
        context["outlet_events"][PROCESSED].extra = {
            "manifests": summary["manifests"], "partitions": summary["partitions"],
            "counts": summary["counts"], "table_versions": summary["table_versions"],
        }
        return summary

    parts = plan()
    extract.expand(part=parts) >> commit(parts)


news_process()
