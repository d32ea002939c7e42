"""Table maintenance (the news_maintain DAG): compact small files, vacuum old ones, report; and
``migrate`` (``news-ingest migrate-table``) from the Parquet layout of schema version 1.

Every processing batch adds a few small files to the articles table (one per partition it
touches), so hourly polling makes hundreds a day. ``maintain`` rewrites each partition that has
more than one file into files of up to ``TARGET_FILE_SIZE`` (one commit per day, under the
table's writer lock; the rows do not change), writes a log checkpoint, folds each day's dedupe
segments into one object (``ingest.dedupe.day_key``), thins the site line histories of days past
their lookback (``thin_histories``), then vacuums: deletes the files that no table
version of the last ``table_retention_days`` uses. A reader that started on an older version
keeps reading it (its files are within the retention), and the current version's files are
never vacuumed. What was done goes to ``reports/maintenance/dt=<day>/<time>.json``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from ingest import dataset, sitestate, table
from ingest.config import Settings
from ingest.dedupe import SEGMENT_VERSION, day_key, read_day
from ingest.models import DataInterval
from ingest.storage import Stores, each

log = logging.getLogger(__name__)

TARGET_FILE_SIZE = 128 * 1024 * 1024


def files_per_partition(settings: Settings) -> Counter[tuple[str, str]]:
    """How many data files each (dt, region) partition of the current version has."""
    found = table.open_table(settings)
    if found is None:
        return Counter()
    actions = pa.table(found.get_add_actions(flatten=True)).to_pylist()
    return Counter((str(a["partition.dt"]), str(a["partition.region"])) for a in actions)


def compact_segments(stores: Stores) -> dict[str, int]:
    """Fold each day's capture segments into the day's compacted object (``_day.json``), so a
    window of N days is about N objects to read whatever the polling frequency; returns the
    number of segments folded per day. Call it holding the table's writer lock: processing
    writes segments only under that lock, so none is rewritten between the fold and the
    delete."""
    days = sorted({m.group(1) for key in stores.processed.list("state/dedupe/")
                   if (m := re.match(r"state/dedupe/dt=([^/]+)/(?!_day\.json$)", key))})
    folded: dict[str, int] = {}
    for day in days:
        found, _, files, _ = read_day(stores, day)
        if not files:
            continue
        stores.processed.put_json(day_key(day), {
            "version": SEGMENT_VERSION, "day": day, "captures": {
                capture: {k: doc[k] for k in ("entries", "near", "near_version") if k in doc}
                for capture, doc in sorted(found.items())}})
        for key in files:
            stores.processed.delete(key)
        folded[day] = len(files)
    return folded


STAGING_MAX_AGE = timedelta(days=2)


def sweep_staging(stores: Stores, now: datetime) -> int:
    """Remove staging objects older than ``STAGING_MAX_AGE``: left by a run that never
    committed them (its captures were processed by a later run, or by a rebuild, or the
    configuration changed since). A run commits within minutes of its extraction."""
    removed = 0
    for key in list(stores.processed.list(dataset.STAGING_PREFIX)):
        written = stores.processed.modified(key)
        if written is not None and now - written > STAGING_MAX_AGE:
            stores.processed.delete(key)
            removed += 1
    return removed


_HISTORY = re.compile(r"^(state/sitelines/[^/]+/dt=([^/]+)/[^/]+/)([^/]+)/")


def thin_histories(stores: Stores, now: datetime) -> int:
    """Of the site line histories (``ingest.sitestate``) of capture days more than
    ``LOOKBACK_DAYS`` back, keep each feed group's last one of the day and remove the others.
    A capture processed in order (live polls, a backfill, a rebuild of a whole day) reads only
    the latest history before it, which is kept; only a capture of such a day processed again
    on its own, after the thinning, starts from the day before's last history instead of its
    own predecessor's. Returns the objects removed."""
    cutoff = (now - timedelta(days=sitestate.LOOKBACK_DAYS + 1)).strftime("%Y-%m-%d")
    last: dict[str, str] = {}
    old: list[tuple[str, str, str]] = []
    for key in stores.processed.list(dataset.SITELINES_PREFIX):
        m = _HISTORY.match(key)
        if m is None or m.group(2) >= cutoff:
            continue
        old.append((key, m.group(1), m.group(3)))
        last[m.group(1)] = max(last.get(m.group(1), ""), m.group(3))
    gone = [key for key, chain, label in old if label != last[chain]]
    each(stores.processed.delete, gone)
    return len(gone)


def maintain(settings: Settings, stores: Stores, now: datetime | None = None) -> dict[str, Any]:
    """Compact every day with a partition of several files, then vacuum; returns the report."""
    now = now or datetime.now(UTC)
    report: dict[str, Any] = {"table": table.uri(settings), "at": now.isoformat(),
                              "compacted": {}, "vacuumed": 0,
                              "staging_removed": sweep_staging(stores, now),
                              "histories_removed": thin_histories(stores, now)}
    before = files_per_partition(settings)
    if not before:
        log.info("maintain: no table at %s yet", table.uri(settings))
        report["segments_compacted"] = {}
        return report
    days = sorted({day for (day, _), n in before.items() if n > 1})
    with table.WriterLock(stores.processed, settings.table_lock_ttl):
        for day in days:
            found = table.open_table(settings)
            metrics = found.optimize.compact(partition_filters=[("dt", "=", day)],
                                             target_size=TARGET_FILE_SIZE)
            report["compacted"][day] = {"files_removed": metrics.get("numFilesRemoved", 0),
                                        "files_added": metrics.get("numFilesAdded", 0)}
        report["segments_compacted"] = compact_segments(stores)
        found = table.open_table(settings)
        hours = int(settings.table_retention_days * 24)
        removed = found.vacuum(retention_hours=hours, dry_run=False,
                               enforce_retention_duration=False)
        report["vacuumed"] = len(removed)
        if days or removed:
            # a checkpoint of the new state: readers replay one Parquet file instead of the
            # JSON entries of every commit since the last checkpoint
            table.open_table(settings).create_checkpoint()
    after = files_per_partition(settings)
    report["files_before"] = sum(before.values())
    report["files_after"] = sum(after.values())
    report["partitions"] = len(after)
    report["version"] = table.open_table(settings).version()
    key = f"reports/maintenance/dt={now:%Y-%m-%d}/{now:%H%M%S}.json"
    stores.processed.put_json(key, report)
    report["report"] = key
    log.info("maintain: compacted %d days, %d -> %d files in %d partitions, vacuumed %d files",
             len(days), report["files_before"], report["files_after"], len(after), len(removed))
    return report


_OLD_PART = re.compile(r"^articles/dt=[^/]+/region=[^/]+/part-[0-9a-f]+\.parquet$")


def migrate(settings: Settings, stores: Stores, tagger: Any = None) -> dict[str, Any]:
    """Convert a processed bucket of the Parquet layout (schema version 1) into the table.

    The raw captures hold everything the old parts were made from, so each day that has
    captures is rebuilt from them (nothing is fetched; see ``ingest.reprocess``); once every
    rebuild has committed, the old parts and the old per-batch dedupe segments are deleted.
    Safe to re-run: a rebuild that committed before commits nothing again.
    """
    from ingest.pipeline import load
    from ingest.reprocess import rebuild

    _, catalog = load(settings)
    old_parts = [k for k in stores.processed.list("articles/") if _OLD_PART.match(k)]
    old_segments = [k for k in stores.processed.list("state/dedupe/")
                    if (stores.processed.get_json(k, {}) or {}).get("version") != SEGMENT_VERSION]
    days = sorted({m.group(1) for k in stores.raw.list("captures/")
                   if (m := re.match(r"captures/dt=(\d{4}-\d{2}-\d{2})/", k))})
    rebuilt = []
    for day in days:
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        done = rebuild(settings, stores, DataInterval(start, start + timedelta(days=1)),
                       catalog=catalog, tagger=tagger)
        if done.result is not None:
            rebuilt.append({"day": day, "articles": done.result.counts.get("articles", 0)})
    for key in old_parts + old_segments:
        stores.processed.delete(key)
    report = {"days": rebuilt, "old_parts_deleted": len(old_parts),
              "old_segments_deleted": len(old_segments),
              "articles": len(table.rows(settings))}
    log.info("migrate: rebuilt %d days from raw captures; deleted %d old parts and %d old "
             "segments; the table has %d articles", len(rebuilt), len(old_parts),
             len(old_segments), report["articles"])
    return report
