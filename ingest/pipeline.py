"""The entry points the DAGs (and the CLI) call: plain arguments in, JSON-ready dicts out.

Each function is one task body. Orchestrator context (data interval, connections) is turned into
plain values by the caller; nothing here knows about Airflow.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ingest import completeness, dataset, inbox, table
from ingest.config import Catalog, Settings, load_catalog
from ingest.dedupe import capture_day
from ingest.errors import PollFailed
from ingest.history import backfill_group
from ingest.models import DataInterval
from ingest.poll import poll_group
from ingest.process import (
    Decided,
    IndexPool,
    ProcessResult,
    batch_id,
    config_hash,
    decide_captures,
    write_batches,
)
from ingest.regions import RegionTable, default_tagger
from ingest.reprocess import rebuild
from ingest.stage import (
    StagedShard,
    drop_staged,
    extract_shard,
    part_groups,
    read_staged,
    shard_counts,
    stage_id,
    write_shard,
)
from ingest.storage import Stores, each

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
    summary = {**result.as_dict(), **usage()}
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


def plan(capture_keys: list[str], settings: Settings | None = None,
         use_inbox: bool = False, slots: int | None = None) -> list[dict[str, Any]]:
    """The parts of a processing run, one extraction task each: the captures named, plus
    (``use_inbox``) every capture marked in the inbox (see ``ingest.inbox``). A feed group's
    captures stay together, in key order, cut into shards by site (by their bytes and the
    ``slots``, the extraction tasks that can run at once; see ``shard_counts``): each shard of
    a group is one unit, its captures extracted one after the other so that each starts from
    the site line history the one before stored; small units share a task (``part_groups``).
    JSON-ready: a
    part names the ``stage`` (staging generation) and its ``items``, each a ``capture``, its
    ``shard`` and ``shards`` and the capture's inbox ``marker`` version (None: not marked)."""
    settings, catalog = load(settings)
    stores = Stores.from_settings(settings)
    marked = inbox.ready(stores, inbox.pending(stores)) if use_inbox else {}
    if set(marked) - set(capture_keys):
        log.info("inbox: %d captures not named by this run's events",
                 len(set(marked) - set(capture_keys)))
    stage = stage_id(config_hash(settings), catalog)
    found = {key: stores.raw.stat(key) for key in sorted({*capture_keys, *marked})}
    # a capture already committed as it is now (an earlier run took it from the inbox before
    # its event came) is not extracted again; its marker goes
    batches = {key: batch_id({key: info[0]}) for key, info in found.items() if info}
    done = table.committed(settings, batches.values())
    todo: dict[str, int] = {}
    for key, info in found.items():
        if key in batches and batches[key] in done and stores.processed.exists(
                dataset.manifest_key(capture_day(key), batches[key])):
            log.info("%s: committed before as it is now; not processed again", key)
            if key in marked:
                inbox.done(stores, key, marked[key])
            continue
        todo[key] = info[1] if info else 0
    # a feed group's captures are extracted in order, in one task per shard of its sites, so
    # each starts from the site line history its predecessor stored (ingest.sitestate)
    chains: dict[str, list[str]] = {}
    for key in sorted(todo):
        link = dataset.capture_chain(key)
        chains.setdefault(link[1] if link else key, []).append(key)
    sizes_of = {chain: sum(todo[key] for key in keys) for chain, keys in chains.items()}
    counts = shard_counts(sizes_of, settings, slots)
    units = [(chain, i) for chain in chains for i in range(counts[chain])]
    items = [[{"capture": key, "shard": i, "shards": counts[chain], "marker": marked.get(key),
               "marked": key in marked} for key in chains[chain]] for chain, i in units]
    sizes = [sizes_of[chain] / counts[chain] for chain, _ in units]
    return [{"stage": stage, "items": [item for i in group for item in items[i]]}
            for group in part_groups(sizes, settings, slots)]


def part_items(part: dict[str, Any]) -> list[dict[str, Any]]:
    """The capture shards of a part (a part planned before parts held several is one)."""
    return list(part["items"]) if "items" in part else [part]


def part_label(part: dict[str, Any]) -> str:
    """A short name for an extraction task: its first capture's group and interval, and its
    shard; "+N" for the other capture shards it holds."""
    items = part_items(part)
    first = items[0]
    name = first["capture"].rsplit("/", 1)[-1].removesuffix(".warc.gz")
    group = next((p.split("=", 1)[1] for p in first["capture"].split("/")
                  if p.startswith(("group=", "feed="))), "")
    shard = f" {first['shard'] + 1}/{first['shards']}" if first["shards"] > 1 else ""
    more = f" +{len(items) - 1}" if len(items) > 1 else ""
    return f"{group} {name}{shard}{more}".strip()


def extract(part: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """The extraction stage for one part of a plan: extract its pages and store them under
    their staging key (``ingest.stage``), each capture after the one before it of its group
    (each starts from the site line history the one before stored). A retry rewrites the same
    objects whole."""
    settings, catalog = load(settings)
    return extract_with(settings, catalog, Stores.from_settings(settings), part)


def extract_with(settings: Settings, catalog: Catalog, stores: Stores, part: dict[str, Any]
                 ) -> dict[str, Any]:
    """``extract`` on given stores."""
    tagger = default_tagger(settings.regions_path)
    stage = stage_id(config_hash(settings), catalog)
    keys: list[str] = []
    total: Counter[str] = Counter()
    for item in part_items(part):
        shard = extract_shard(settings, stores, item["capture"], item["shard"], item["shards"],
                              catalog, tagger)
        keys.append(write_shard(stores, stage, shard))
        outcomes = Counter(shard.data.column("outcome").to_pylist())
        total.update(outcomes)
        for error in shard.errors:
            log.warning("%s", error["error"])
        log.info("%s: %d pages (%s) -> %s", part_label(item), shard.data.num_rows,
                 ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none",
                 stores.processed.uri(keys[-1]))
    return {"staging": keys, "pages": sum(total.values()), **total, **usage()}


def commit(parts: list[dict[str, Any]], settings: Settings | None = None) -> dict[str, Any]:
    """The serial stage of a run: each capture of the plan as its own batch (in key order, so
    batches and bytes do not depend on how events were grouped into runs), decided against
    the dedupe index read once for the run, from its staged pages; consecutive batches share
    a table commit up to ``commit_pages`` pages. A capture without complete
    staging of its current version (its extraction task failed, or a poll merged records into
    it since) is extracted here, so the run completes either way."""
    settings, catalog = load(settings)
    stores = Stores.from_settings(settings)
    return commit_with(settings, catalog, stores, parts, staged=True)


def process(capture_keys: list[str], settings: Settings | None = None,
            use_inbox: bool = False) -> dict[str, Any]:
    """Plan, extract and commit in this process (the CLI's path; the DAG runs the stages as
    tasks); returns keys and summed counts."""
    settings, catalog = load(settings)
    stores = Stores.from_settings(settings)
    parts = plan(capture_keys, settings, use_inbox)
    return commit_with(settings, catalog, stores, parts, staged=False)


@contextmanager
def collecting_less() -> Iterator[None]:
    """Python's cycle collector, tuned for the serial stage: it makes many small objects that
    live to its end (its index, its decisions), and each full collection would walk them and
    everything the process held before (the task runner's modules) again. What exists at the
    start is frozen (left out of collections) and the youngest generation is collected 20
    times less often; both are undone at the end. Most garbage is freed by reference counts
    anyway; this only defers the search for cycles."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold[0] * 20, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def commit_with(settings: Settings, catalog: Catalog, stores: Stores,
                parts: list[dict[str, Any]], staged: bool) -> dict[str, Any]:
    """``commit`` on given stores; ``staged``: read the extraction stage's staging (else
    extract every capture here)."""
    arrow_pool()
    with collecting_less():
        return _commit_with(settings, catalog, stores, parts, staged)


def arrow_pool() -> None:
    """Arrow's allocations in this process from jemalloc instead of pyarrow's default,
    mimalloc: the serial stage's Arrow buffers are made in one thread (staging read ahead,
    rows built beside the deciding, files encoded) and freed in another, which mimalloc's
    per-thread heaps keep resident. Measured by bench/commit.py (20,000 pages a commit):
    peak 763-823 MiB with mimalloc, 646-680 with jemalloc, and no slower. jemalloc gives
    freed pages back at once instead of after its default 10 s (a run's staging, rows and
    files are freed within seconds of being made): at 40,000 pages (two commits, the second
    decided while the first is written) peak 839-849 MiB, 700-764 without the delay, and
    no slower. Buffers made before keep their own pool; a pyarrow built without jemalloc keeps
    its default."""
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:
        log.info("pyarrow has no jemalloc pool here; Arrow's default pool stays")


def _commit_with(settings: Settings, catalog: Catalog, stores: Stores,
                 parts: list[dict[str, Any]], staged: bool) -> dict[str, Any]:
    items = [item for part in parts for item in part_items(part)]
    marked = {p["capture"]: p["marker"] for p in items if p["marked"]}
    captures = sorted({p["capture"] for p in items})
    stage = parts[0]["stage"] if parts else ""
    pool, writer = IndexPool(stores), table.Writer(settings)
    summary: dict[str, Any] = {"batches": [], "manifests": [], "partitions": [], "counts": {},
                               "regions": {}, "reports": [], "table_versions": [],
                               "seconds": {"staging": 0.0}}

    def read(key: str) -> StagedShard | None:
        return read_staged(stores, stage, key, (stores.raw.stat(key) or ("",))[0])

    pending: list[tuple[str, Decided]] = []
    writing: list[Future[list[tuple[str, Decided]]]] = []  # the write in flight, if any

    def write(group: list[tuple[str, Decided]]) -> list[tuple[str, Decided]]:
        """Write decided batches in one table commit, then drop their inbox markers and
        staging."""
        log.info("writing %d captures (%d pages) in one table commit; resident memory %.0f "
                 "MiB, at most %.0f so far", len(group),
                 sum(decided.result.counts["pages"] for _, decided in group), resident_mib(),
                 peak_rss_mib())
        write_batches(settings, stores, [decided for _, decided in group], pool, writer,
                      reports=False)
        each(lambda key: _clean(stores, key, marked, stage if staged else None),
             [key for key, _ in group])
        return group

    def settle() -> None:
        """Wait for the write in flight; a failed one raises here, so nothing decided after
        it is written."""
        while writing:
            for _, decided in writing.pop().result():
                _finish(decided.result, summary)

    def flush() -> None:
        """Hand the batches decided so far to the writer thread, once the previous group's
        write is done: the table commit (delta-rs lets go of the GIL) and the segment,
        manifest and count writes of one group overlap the deciding of the next, and the
        groups are written one at a time, in order."""
        settle()
        if pending:
            writing.append(writer_thread.submit(write, list(pending)))
            pending.clear()

    # the next capture's staging is read while this one is decided (four ahead was measured:
    # no faster, and the commit task's peak memory grew from 704 to 862 MiB); consecutive
    # captures are gathered into one table commit up to ``commit_pages`` pages (each its own
    # batch, so the rows do not depend on the gathering)
    # a group whose capture is extracted here has its later captures of the run extracted here
    # too: their staging started from the site line history the extraction task stored, which
    # this extraction may have replaced (ingest.sitestate)
    redone: set[str] = set()
    splits = {item["capture"]: item["shards"] for item in items}
    log.info("%d captures to commit; resident memory at the start %.0f MiB", len(captures),
             resident_mib())
    began = time.monotonic()
    with ThreadPoolExecutor(1, thread_name_prefix="staging") as ahead, \
            ThreadPoolExecutor(1, thread_name_prefix="rows") as builder, \
            ThreadPoolExecutor(1, thread_name_prefix="writer") as writer_thread:
        coming = ahead.submit(read, captures[0]) if staged and captures else None
        if captures:  # the first batch's window is read while its staging is
            reading = time.monotonic()
            pool.read_window(captures[:1], settings)
            summary["seconds"]["index"] = time.monotonic() - reading
        for n, key in enumerate(captures):
            if writing and writing[-1].done():
                settle()  # (a failed write stops the run here, not after another batch)
            shards: dict[str, StagedShard] = {}
            reading = time.monotonic()
            chain = dataset.capture_chain(key)
            if coming is not None:
                found = coming.result()
                coming = ahead.submit(read, captures[n + 1]) if n + 1 < len(captures) else None
                if found is not None and chain is not None and chain[1] in redone:
                    log.warning("%s: an earlier capture of its group was extracted again in "
                                "this run; extracting it here too", key)
                elif found is not None:
                    shards[key] = found
                else:
                    log.warning("%s: no complete staging of its current version (its extraction "
                                "task failed, or a poll merged records into it since); "
                                "extracting it here", key)
                if key not in shards and chain is not None:
                    redone.add(chain[1])
            summary["seconds"]["staging"] += time.monotonic() - reading
            if key not in shards:
                # extracted here whole, its site line history stored in the plan's split
                extracting = time.monotonic()
                shards[key] = extract_shard(settings, stores, key, 0, 1, catalog,
                                            default_tagger(settings.regions_path),
                                            history_shards=splits[key])
                summary["seconds"]["extract"] = summary["seconds"].get("extract", 0.0) + (
                    time.monotonic() - extracting)
            pending.append((key, decide_captures(settings, stores, [key], catalog=catalog,
                                                 staged=shards, pool=pool, builder=builder)))
            if sum(d.result.counts["pages"] for _, d in pending) >= settings.commit_pages:
                flush()
        flush()
        settle()
    # each interval's completeness report once, from every capture of it (after each batch,
    # it would read every group's objects again: the square of the groups)
    reporting = time.monotonic()
    completeness.write_reports(stores, captures)
    summary["seconds"]["reports"] = time.monotonic() - reporting
    # the serial stage's own time once its index is in: the whole of it but the index's
    # loading (its steps overlap: the sum of the others is more than this)
    summary["seconds"]["serial"] = time.monotonic() - began - summary["seconds"].get("index", 0.0)
    summary["partitions"] = sorted(set(summary["partitions"]))
    summary["reports"] = sorted(set(summary["reports"]))
    log.info("index: %d days read for %d captures; seconds %s", pool.reads, len(captures),
             {k: round(v, 2) for k, v in summary["seconds"].items()})
    summary.update(usage())
    return summary


def _clean(stores: Stores, key: str, marked: dict[str, Any], stage: str | None) -> None:
    """After a capture's batch is written: its inbox marker and its staging go."""
    if key in marked:
        inbox.done(stores, key, marked[key])
    if stage is not None:
        drop_staged(stores, stage, key)


def _finish(result: ProcessResult, summary: dict[str, Any]) -> None:
    """After a capture's batch: its figures join the run's."""
    for name, took in result.seconds.items():
        summary["seconds"][name] = summary["seconds"].get(name, 0.0) + took
    for item in result.skipped:
        log.info("skipped %s", item["reason"])
    for item in result.errors:
        log.warning("failed %s", item)
    summary["batches"].append(result.batch)
    summary["manifests"].append(result.manifest_key)
    summary["partitions"] += result.partitions
    if result.table_version is not None and result.table_version not in summary["table_versions"]:
        summary["table_versions"].append(result.table_version)
    summary["reports"] += result.reports
    for name, target in (("counts", result.counts), ("regions", result.regions)):
        for k, v in target.items():
            summary[name][k] = summary[name].get(k, 0) + v


def resident_mib() -> float:
    """Resident memory of this process now, in MiB (0.0 where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return round(pages * os.sysconf("SC_PAGESIZE") / 2**20, 1)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (a task's own process)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def usage() -> dict[str, float]:
    """What this process (a task's own) has used so far: peak resident memory in MiB and CPU
    seconds (user and system, from the process's start: Airflow's task start included)."""
    got = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_mib": peak_rss_mib(), "cpu_seconds": round(got.ru_utime + got.ru_stime, 2)}


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
