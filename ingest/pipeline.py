"""The entry points the DAGs (and the CLI) call: plain arguments in, JSON-ready dicts out.

Each function is one task body. Orchestrator context (data interval, connections) is turned into
plain values by the caller; nothing here knows about Airflow.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ingest import inbox
from ingest.config import Catalog, Settings, load_catalog
from ingest.errors import PollFailed
from ingest.history import backfill_group
from ingest.models import DataInterval
from ingest.poll import poll_group
from ingest.process import process_captures
from ingest.regions import RegionTable
from ingest.reprocess import rebuild
from ingest.storage import Stores

log = logging.getLogger(__name__)


def load(settings: Settings | None = None) -> tuple[Settings, Catalog]:
    """Settings (from the environment unless given) and the validated catalog."""
    settings = settings or Settings.from_env()
    table = RegionTable.load(settings.regions_path) if settings.regions_path else RegionTable.load()
    return settings, load_catalog(settings.catalog_path, regions=table.names)


def feed_groups(settings: Settings | None = None) -> list[str]:
    """The schedule groups with enabled feeds (one poll task each)."""
    _, catalog = load(settings)
    return catalog.groups()


def interval_of(start: datetime | None, end: datetime | None, fallback: datetime) -> DataInterval:
    """The run's data interval; a manual run without one works on the hour of ``fallback``."""
    if start is not None and end is not None and end > start:
        return DataInterval(start, end)
    return DataInterval.hour_of(fallback)


def poll(group: str, interval: DataInterval, settings: Settings | None = None,
         history: bool = False) -> dict[str, Any]:
    """Poll one feed group for one interval; returns capture keys and per-feed outcomes.

    ``history``: work from the feeds' historical sources for a past interval (backfill runs)
    instead of asking the feeds what they list now.
    """
    settings, catalog = load(settings)
    stores = Stores.from_settings(settings)
    if history:
        result = backfill_group(settings, stores, catalog, group, interval)
    else:
        result = poll_group(settings, stores, catalog, group, interval)
    summary = result.as_dict()
    for feed in summary["feeds"]:
        log.info("feed %-40s %-13s entries=%s new=%s pages ok=%s failed=%s deferred=%s "
                 "backlog=%s %s %s", feed["feed_id"], feed["status"], feed["entries"],
                 feed["new_entries"], feed["pages_ok"], feed["pages_failed"],
                 feed["pages_deferred"], feed["backlog"], feed.get("sources", ""), feed["error"])
        for problem in feed.get("problems", []):
            log.warning("feed %s: %s", feed["feed_id"], problem)
    counts = summary["counts"]
    failed = [f for f in summary["feeds"] if f["status"] == "error"]
    log.log(logging.WARNING if failed else logging.INFO,
            "group %s %s: %d feeds, %d failed; pages %d fetched, %d failed, %d deferred; "
            "backlog %d; capture %s", group, interval.label, counts["feeds"], len(failed),
            counts["pages_ok"], counts["pages_failed"], counts["pages_deferred"],
            counts["backlog"], result.capture_key or "none")
    if failed and len(failed) == len(summary["feeds"]):
        names = "; ".join(f"{f['feed_id']} ({f['error'][:200]})" for f in failed)
        raise PollFailed(f"every feed of group {group!r} failed for {interval.label}: {names}. "
                         f"Report: {stores.raw.uri(result.report_key)}")
    return summary


def process(capture_keys: list[str], settings: Settings | None = None,
            use_inbox: bool = False) -> dict[str, Any]:
    """Process raw captures into the processed bucket, each capture as its own batch (in key
    order), so the batches and their bytes do not depend on how events were grouped into runs;
    returns keys and summed counts. ``use_inbox``: also process every capture marked in the
    inbox (see ``ingest.inbox``), and clear the markers of the captures processed."""
    settings, catalog = load(settings)
    stores = Stores.from_settings(settings)
    marked = inbox.ready(stores, inbox.pending(stores)) if use_inbox else {}
    if set(marked) - set(capture_keys):
        log.info("inbox: %d captures not named by this run's events",
                 len(set(marked) - set(capture_keys)))
    capture_keys = [*capture_keys, *marked]
    summary: dict[str, Any] = {"batches": [], "manifests": [], "partitions": [], "counts": {},
                               "regions": {}, "reports": [], "table_versions": []}
    for key in sorted(set(capture_keys)):
        result = process_captures(settings, stores, [key], catalog=catalog)
        for item in result.skipped:
            log.info("skipped %s", item["reason"])
        for item in result.errors:
            log.warning("failed %s", item)
        if key in marked:
            inbox.done(stores, key, marked[key])
        summary["batches"].append(result.batch)
        summary["manifests"].append(result.manifest_key)
        summary["partitions"] += result.partitions
        if result.table_version is not None:
            summary["table_versions"].append(result.table_version)
        summary["reports"] += result.reports
        for name, target in (("counts", result.counts), ("regions", result.regions)):
            for k, v in target.items():
                summary[name][k] = summary[name].get(k, 0) + v
    summary["partitions"] = sorted(set(summary["partitions"]))
    summary["reports"] = sorted(set(summary["reports"]))
    return summary


def reprocess(interval: DataInterval, settings: Settings | None = None) -> dict[str, Any]:
    """Rebuild the processed data of the interval's days from raw captures (no fetching)."""
    settings, catalog = load(settings)
    stores = Stores.from_settings(settings)
    result = rebuild(settings, stores, interval, catalog=catalog)
    summary = result.as_dict()
    log.info("rebuilt %s: %s; table version %s", ", ".join(result.days),
             summary.get("counts"), summary.get("table_version"))
    return summary


def maintain(settings: Settings | None = None) -> dict[str, Any]:
    """Compact and vacuum the articles table (see ``ingest.maintain``)."""
    from ingest.maintain import maintain as run

    settings = settings or Settings.from_env()
    return run(settings, Stores.from_settings(settings))


def ensure_buckets(settings: Settings | None = None) -> None:
    """Create the raw and processed buckets if they do not exist."""
    settings = settings or Settings.from_env()
    Stores.from_settings(settings).ensure_buckets()
