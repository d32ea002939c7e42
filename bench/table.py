"""The articles table against the Parquet layout it replaced, on a real SeaweedFS.

Writes the same synthetic articles (default 100,000 over 30 days, as hourly batches of about
140 rows, six regions) twice: as schema version 1 left them (one Parquet part per batch per
(day, region), Hive paths) and as the Delta table (one ``ingest.table.commit`` per batch), then
compacts the table (``ingest.maintain``, run daily as the news_maintain DAG does, and once at the
end; ``--no-daily-maintenance`` leaves it for the end). Prints: commit time per batch (mean, and over the last
tenth, as the table grows), files per (day, region) before and after compaction, and a DuckDB
count by region over each layout (a session's first query and the same query again, best of
3 each), with the speed-ups.
Targets (issue 10): commit under 1 s; after compaction at most one file per (day, region) per
128 MB; the count at least 10x faster than over the Parquet layout.

Run: python bench/table.py [--articles 100000] [--days 30]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq

from ingest import table
from ingest.config import Settings
from ingest.maintain import files_per_partition, maintain
from ingest.query import _bundled_extension_dir, connect
from ingest.storage import Stores

from common import seaweed_store

REGIONS = ["africa", "americas", "asia-pacific", "europe", "middle-east", None]
START = datetime(2026, 10, 1, tzinfo=UTC)


def batch_rows(hour: int, per_batch: int) -> list[dict[str, Any]]:
    capture = f"captures/dt={START + timedelta(hours=hour):%Y-%m-%d}/group=g/{hour}.warc.gz"
    rows = []
    for i in range(per_batch):
        when = START + timedelta(hours=hour, seconds=i)
        aid = f"{hour:05d}{i:05d}"
        rows.append({
            "article_id": aid, "url": f"https://site{i % 50}.example/{aid}",
            "canonical_url": f"https://site{i % 50}.example/{aid}", "feed_id": f"feed{i % 50}",
            "source_domain": f"site{i % 50}.example", "title": f"Story {aid}",
            "text": f"Story {aid}. " + "Officials said the work would go on. " * 12,
            "authors": [], "published_at": when, "fetched_at": when, "language": "en",
            "countries": [], "regions": [], "primary_region": REGIONS[i % len(REGIONS)],
            "region_evidence": [], "content_hash": aid, "dup_cluster_id": aid,
            "is_canonical": True, "duplicate_of": None, "similarity": None,
            "raw_ref": f"s3://raw/{capture}#offset={i}", "capture": capture, "extractor": "x",
            "config_hash": "c"})
    return rows


def write_old_layout(stores: Stores, hour: int, rows: list[dict[str, Any]]) -> int:
    """The schema-1 layout: one part per (day, region) of the batch."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(table.partition_of(row), []).append(row)
    for (day, region), part in groups.items():
        data = table.to_arrow(part).drop_columns(["dt", "region", "capture"])
        out = io.BytesIO()
        pq.write_table(data, out, compression="zstd")
        stores.processed.put(f"old/dt={day}/region={region}/part-{hour:08x}.parquet",
                             out.getvalue())
    return len(groups)


def timed_query(settings: Settings, sql: str) -> tuple[float, float, list[Any]]:
    """(first query of a session, the same query again in that session; best of 3 sessions
    each) and the result. A session's first query pays for listing and footers; DuckDB caches
    some of that for the next."""
    first, again, result = float("inf"), float("inf"), []
    for _ in range(3):
        con = connect(settings)
        started = time.perf_counter()
        result = con.execute(sql).fetchall()
        first = min(first, time.perf_counter() - started)
        for _ in range(2):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            again = min(again, time.perf_counter() - started)
        con.close()
    return first, again, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--no-daily-maintenance", dest="daily_maintenance",
                        action="store_false", help="compact only at the end (the worst case: "
                        "news_maintain not running for the whole period)")
    args = parser.parse_args()
    hours = args.days * 24
    per_batch = max(1, args.articles // hours)
    with seaweed_store() as (settings, stores):
        commit_times, old_files, daily = [], 0, []
        for hour in range(hours):
            rows = batch_rows(hour, per_batch)
            old_files += write_old_layout(stores, hour, rows)
            started = time.perf_counter()
            table.commit(settings, stores.processed, rows, [rows[0]["capture"]], f"b{hour}")
            commit_times.append(time.perf_counter() - started)
            if args.daily_maintenance and hour % 24 == 23 and hour < hours - 1:
                # news_maintain's daily run (the last day is compacted below, timed)
                started = time.perf_counter()
                maintain(settings, stores, now=START + timedelta(hours=hour + 1))
                daily.append(time.perf_counter() - started)
        total = hours * per_batch
        tail = commit_times[-max(1, hours // 10):]
        ranked = sorted(commit_times)
        print(f"{total:,} articles in {hours} hourly batches over {args.days} days"
              + (f", news_maintain daily (mean {statistics.mean(daily):.1f} s)"
                 if daily else ", no maintenance until the end"))
        print(f"commit per batch: mean {statistics.mean(commit_times):.3f} s, last tenth "
              f"{statistics.mean(tail):.3f} s, p95 {ranked[int(len(ranked) * .95)]:.3f} s, "
              f"max {ranked[-1]:.3f} s (target < 1 s)")
        before = files_per_partition(settings)
        started = time.perf_counter()
        report = maintain(settings, stores)
        print(f"compaction: {report['files_before']:,} -> {report['files_after']:,} files "
              f"in {time.perf_counter() - started:.1f} s; files per (day, region): "
              f"max {max(before.values())} before, "
              f"max {max(files_per_partition(settings).values())} after (target 1)")
        assert _bundled_extension_dir()
        old_sql = (f"SELECT region, count(*) FROM read_parquet('s3://{settings.processed_bucket}"
                   "/old/*/*/*.parquet', hive_partitioning = true) GROUP BY region ORDER BY 1")
        new_sql = "SELECT region, count(*) FROM articles GROUP BY region ORDER BY 1"
        old_first, old_again, old_result = timed_query(settings, old_sql)
        new_first, new_again, new_result = timed_query(settings, new_sql)
        assert old_result == new_result, (old_result, new_result)
        print(f"DuckDB count by region (best of 3), Parquet layout ({old_files:,} files) vs "
              "the Delta table after compaction (target >= 10x):")
        print(f"  first query of a session: {old_first:.2f} s vs {new_first:.2f} s, "
              f"{old_first / new_first:.1f}x faster")
        print(f"  again in the same session: {old_again:.2f} s vs {new_again:.2f} s, "
              f"{old_again / new_again:.1f}x faster")



if __name__ == "__main__":
    main()
