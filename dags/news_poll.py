"""
### news_poll

Polls the feed catalog (`feeds.yaml`, or `NEWS_INGEST_CATALOG_PATH`) once per data interval:
one mapped `poll` task per **feed group** does conditional GETs of the group's feeds, fetches
the new articles politely, writes one raw WARC capture per group and interval to the raw
bucket and, as it ends, emits an event on the **news-raw** asset whose extra names the
capture (through the **news-raw-captures** asset alias, so a group that captured nothing emits
none), so `news_process` starts on the first group's capture while the other groups are still
polling.

A group's poll fails (and is retried) when **every** feed of the group failed, with a message
naming them (a failed task emits no event); the other groups' events go out as they finish.
Feeds that failed while others worked leave the task green: see its log summary and return
value (counts of failed feeds, pages failed and deferred, backlog) and the poll report in the
raw bucket.

Schedule: `CronDataIntervalTimetable` (hourly by default; set `NEWS_INGEST_POLL_CRON`). Runs work
from their data interval only, so re-running an interval rewrites the same keys. A manual run
without a data interval works on the hour it was triggered in.

**Backfill runs** (the Backfill dialog, `airflow backfill create`, `POST /api/v2/backfills`)
read each feed's historical sources for their interval instead: the capture already stored,
feed entries published inside it, and the site's sitemaps. A manual run can ask for the same
with conf `{"history": true}`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task
from news_assets import POLL_POOL, RAW, RAW_CAPTURES
from news_ingest_airflow import cron_schedule

log = logging.getLogger(__name__)


def _interval(context: dict[str, Any]) -> Any:
    from ingest.pipeline import interval_of

    dag_run = context["dag_run"]
    fallback = getattr(dag_run, "run_after", None) or datetime.now(UTC)
    return interval_of(context.get("data_interval_start"), context.get("data_interval_end"),
                       fallback)


def _history(context: dict[str, Any]) -> bool:
    """Backfill runs, and manual runs with conf ``history``, poll historical sources."""
    dag_run = context["dag_run"]
    conf = getattr(dag_run, "conf", None) or {}
    run_type = getattr(dag_run, "run_type", "")
    return getattr(run_type, "value", run_type) == "backfill" or bool(conf.get("history"))


@dag(
    dag_id="news_poll",
    schedule=cron_schedule("POLL_CRON", "0 * * * *"),
    start_date=datetime(2010, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["news", "ingest"],
    doc_md=__doc__,
)
def news_poll() -> None:
    @task
    def feed_groups() -> list[str]:
        """The catalog's feed groups with enabled feeds."""
        from news_ingest_airflow import settings

        from ingest.pipeline import feed_groups

        return feed_groups(settings())

    @task(pool=POLL_POOL, map_index_template="{{ feed_group }}", outlets=[RAW_CAPTURES])
    def poll(group: str, **context: Any) -> dict[str, Any]:
        """Poll one feed group for this run's data interval; fails when every feed failed. A
        group that captured something emits a news-raw event naming its capture."""
        from airflow.sdk import get_current_context
        from news_ingest_airflow import settings

        from ingest.pipeline import poll

        get_current_context()["feed_group"] = group  # type: ignore[typeddict-unknown-key]
        interval = _interval(context)
        result = poll(group, interval, settings(), history=_history(context))
        if result["captures"]:
            context["outlet_events"][RAW_CAPTURES].add(RAW, extra={
                "captures": sorted(result["captures"]), "interval": interval.label,
                "groups": [group], "reports": [result["report"]]})
        else:
            log.info("group %s captured nothing for %s: no news-raw event", group,
                     interval.label)
        return result

    poll.expand(group=feed_groups())


news_poll()
