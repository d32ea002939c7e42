"""Processing: raw captures -> extracted, deduplicated, region-tagged rows -> the articles table.

A batch is the set of capture keys one run was given; its id is a hash of those keys (and, for
a rebuild, the config), so a re-run of the same batch writes the same state. Order of writes:
the captures' dedupe segments, then one commit to the Delta table (``ingest.table``) replacing
those captures' rows, then the run manifest and the completeness reports. Batches are decided
in memory first (``decide_captures``) and written by ``write_batches``, which may hold several
consecutive batches of a run in one table commit (each recorded by its own id).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import Counter
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ingest import completeness, dataset, language, regions, table
from ingest.config import Catalog, Settings
from ingest.dedupe import (
    MIN_SHINGLES,
    NEAR_VERSION,
    SEGMENT_VERSION,
    ExactIndex,
    Match,
    NearDuplicateIndex,
    capture_day,
    day_key,
    entries_from_segment,
    iso_times,
    read_day,
    segment_key,
    window_days,
)
from ingest.extract import EXTRACTORS
from ingest.minhash import NUM_PERM
from ingest.regions import Tagger, default_tagger
from ingest.stage import ARTICLE, SKIPPED, StagedShard, extract_shard
from ingest.storage import Stores, dumps, each

log = logging.getLogger(__name__)

_DAY = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")


def batch_id(versions: dict[str, str]) -> str:
    """The id of a batch: its capture keys with the version (ETag) of each that was read. A
    capture that grew since (a poll re-run merged records into it) makes another batch, so its
    new rows are committed; the same versions again are the same batch (a re-run)."""
    lines = sorted(f"{key}@{version}" for key, version in versions.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def config_hash(settings: Settings) -> str:
    """Hash of what shapes processed output: extractor version and rules, language detector,
    schema, settings, and the gazetteer and region table the tagger was built from."""
    raw = (f"{EXTRACTORS}|{language.DETECTOR}|{table.SCHEMA_VERSION}|{settings.fingerprint()}|"
           f"{regions.data_fingerprint(settings.regions_path)}")
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


@dataclass
class ProcessResult:
    """What one processing batch produced."""

    batch: str
    day: str
    captures: list[str]
    partitions: list[str] = field(default_factory=list)
    manifest_key: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    regions: dict[str, int] = field(default_factory=dict)
    # per capture and feed: pages, articles, duplicates, near_duplicates, seen_before, skipped,
    # failed (the processing half of the completeness report)
    by_feed: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)  # completeness reports written
    table_version: int | None = None  # the commit's table version; None: committed before
    # seconds spent: extracting here (captures without staging), loading the dedupe index,
    # and the rest (deciding, writing the segments, the table commit, manifest and reports)
    seconds: dict[str, float] = field(default_factory=dict)

    def tally(self, capture: str, feed_id: str, what: str) -> None:
        """Count one page outcome for a capture's feed."""
        feed = self.by_feed.setdefault(capture, {}).setdefault(feed_id, dict.fromkeys(
            ("pages", "articles", "duplicates", "near_duplicates", "seen_before", "skipped",
             "failed"), 0))
        feed[what] += 1

    def manifest(self, settings: Settings) -> dict[str, Any]:
        """The run manifest (deterministic: no timings, which go to the log)."""
        return {
            "batch": self.batch,
            "day": self.day,
            "captures": self.captures,
            "partitions": self.partitions,
            "counts": self.counts,
            "regions": self.regions,
            "skipped": self.skipped,
            "errors": self.errors,
            "by_feed": self.by_feed,
            "extractor": EXTRACTORS,
            "config_hash": config_hash(settings),
            "schema_version": table.SCHEMA_VERSION,
        }

    def as_dict(self) -> dict[str, Any]:
        """Summary for XCom and asset-event extras (keys and counts, no payloads)."""
        return {"batch": self.batch, "manifest": self.manifest_key, "partitions": self.partitions,
                "counts": self.counts, "regions": self.regions, "reports": self.reports,
                "table_version": self.table_version}


class IndexPool:
    """The dedupe index of a run: the window's segments are read from storage once per run
    (each day the first time a batch needs it; a batch's new segments replace its captures'
    sections in memory as they are written), and the index built from them is kept from one
    batch to the next while the next batch has the same window, so a run of a day's captures
    builds it once. Every batch sees exactly what reading the window again would give it: a
    kept index holds the earlier batches' items as their stored segments say
    (:meth:`NearDuplicateIndex.settle`), and it is built again when the window moves or when
    the next batch's capture had a segment of its own in it (a capture processed again)."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        # each day's segments by capture: as read, or as a batch of this run stored them (its
        # JSON bytes, parsed only if an index is built from them again)
        self.days: dict[str, dict[str, dict[str, Any] | bytes]] = {}
        self.stale = 0
        self.reads = 0  # days read from storage
        self.builds = 0  # indexes built from the segments
        self.compacted: dict[str, str | None] = {}  # version of each day's compacted object
        # the kept index: its window, the captures whose segments it was built from, and it
        self._kept: tuple[list[str], set[str], ExactIndex, NearDuplicateIndex] | None = None

    def day(self, day: str) -> dict[str, dict[str, Any] | bytes]:
        if day not in self.days:
            found, stale, _, self.compacted[day] = read_day(self.stores, day)
            self.days[day], self.reads = dict(found), self.reads + 1
            self.stale += stale
        return self.days[day]

    def put(self, capture: str, data: bytes) -> None:
        """A capture's segment as stored (its JSON bytes: an index built from it again reads
        what a reader of the stored object reads)."""
        self.day(capture_day(capture))[capture] = data

    def window(self, keys: list[str], settings: Settings) -> list[str]:
        """The days whose segments a batch of ``keys`` sees (``dedupe_window_days`` either
        side of the batch's days)."""
        days = sorted({capture_day(k) for k in keys} - {"unknown"})
        first = date.fromisoformat(days[0]) if days else datetime.now(UTC).date()
        last = date.fromisoformat(days[-1]) if days else first
        span = (last - first).days
        return window_days((first + timedelta(days=span // 2)).isoformat(),
                           settings.dedupe_window_days + (span + 1) // 2)

    def read_window(self, keys: list[str], settings: Settings) -> None:
        """Read the days of the window of a batch of ``keys`` that are not read yet (a run
        reads its first batch's window while that batch's staging is read)."""
        for d in self.window(keys, settings):
            self.day(d)

    def index_for(self, keys: list[str], batch: str, settings: Settings
                  ) -> tuple[ExactIndex, NearDuplicateIndex]:
        """The exact and near-duplicate indexes of every other capture in the batch's window;
        the batch's own captures are left out, as their articles are being decided again.
        Call :meth:`settle` once the batch's segments are written."""
        days = self.window(keys, settings)
        if self._kept is not None and self._kept[0] == days and not set(keys) & self._kept[1]:
            _, _, exact, near = self._kept
            exact.next_batch(batch)
            near.begin_batch()
            return exact, near
        self._kept = None
        segments: dict[str, dict[str, Any] | bytes] = {}
        stale = self.stale
        for d in days:
            segments.update(self.day(d))
        if self.stale > stale:
            log.warning("%d dedupe segments in the window were written by an older index "
                        "format and are left out; reprocess their days to index them again",
                        self.stale - stale)
        own = set(keys)
        docs = [json.loads(doc) if isinstance(doc, bytes) else doc
                for capture, doc in sorted(segments.items()) if capture not in own]
        exact = ExactIndex(batch, (e for doc in docs for e in entries_from_segment(doc)))
        near = NearDuplicateIndex()
        near_rows = [row for doc in docs if doc.get("near_version") == NEAR_VERSION
                     for row in doc.get("near", [])]
        near.load_rows(sorted(near_rows, key=lambda r: (str(r[1]), str(r[0]))))
        near.begin_batch()
        self.builds += 1
        self._kept = (days, set(segments), exact, near)
        return exact, near

    def settle(self, near: NearDuplicateIndex) -> None:
        """The batch's segments are written: keep its index for the next batch."""
        if self._kept is not None and self._kept[3] is near:
            near.settle()

    def drop(self) -> None:
        """Forget the kept index and the days read (a batch failed half-way: the days may
        hold segments of decided batches that were never stored); they are read again."""
        self._kept = None
        self.days.clear()
        self.compacted.clear()


def decide_captures(
    settings: Settings,
    stores: Stores,
    capture_keys: list[str],
    catalog: Catalog | None = None,
    tagger: Tagger | None = None,
    batch: str = "",
    day: str = "",
    staged: dict[str, StagedShard] | None = None,
    pool: IndexPool | None = None,
    builder: Executor | None = None,
) -> Decided:
    """Decide the captures named by ``capture_keys`` as one batch, in memory
    (:func:`write_batches` writes it).

    ``batch`` overrides the batch id (a rebuild names its own); ``day`` files the batch's
    manifest under that day instead of the first capture's. ``staged``: captures the extraction
    stage has done already (``ingest.stage``); the others are extracted here. ``pool``: the
    run's dedupe index (read once per run); without it the window is read for this batch.
    ``builder``: the run's executor of one thread that builds each batch's table rows while
    the run decides the next (Arrow's takes let go of the GIL); without it they are built here.
    """
    started = time.monotonic()
    keys = sorted(set(capture_keys))
    days = sorted(m.group(1) for k in keys if (m := _DAY.search(k)))
    result = ProcessResult(batch=batch, day=day or (days[0] if days else "unknown"),
                           captures=keys)
    counts = {"captures": len(keys), "pages": 0, "articles": 0, "duplicates": 0,
              "seen_before": 0, "skipped": 0, "failed": 0}
    result.counts = counts
    if not keys:
        result.batch = result.batch or batch_id({})
        return Decided(result, [], _done(table.SCHEMA.empty_table()), {}, False, started,
                       (started,) * 4)
    staged = staged or {}
    versions: dict[str, str] = {}
    shards: list[StagedShard] = []
    candidates: list[_Candidate] = []
    extracting = time.monotonic()
    for key in keys:
        shard = staged.get(key)
        if shard is None:
            tagger = tagger or default_tagger(settings.regions_path)
            shard = extract_shard(settings, stores, key, 0, 1, catalog, tagger)
        versions[key] = shard.version
        result.errors += shard.errors
        n = len(shards)
        shards.append(shard)
        cols = {name: shard.data.column(name).to_pylist() for name in _DECIDING}
        # fetch times as ISO text and microseconds, by Arrow and numpy (no datetime per page)
        seen_at, seen_us = iso_times(shard.data.column("fetched_at"))
        for i, (outcome, feed_id, url, reason) in enumerate(zip(
                cols["outcome"], cols["feed_id"], cols["url"], cols["reason"], strict=True)):
            counts["pages"] += 1
            result.tally(key, feed_id, "pages")
            if outcome == ARTICLE:
                candidates.append(_Candidate(
                    seen_at[i] or "", cols["article_id"][i], n, i, key, feed_id,
                    cols["content_hash"][i], cols["signature"][i], cols["shingles"][i],
                    seen_us[i]))
            elif outcome == SKIPPED:
                counts["skipped"] += 1
                result.tally(key, feed_id, "skipped")
                result.skipped.append({"url": url, "reason": reason})
            else:
                counts["failed"] += 1
                result.tally(key, feed_id, "failed")
                result.errors.append({"url": url, "error": reason})
    batch = result.batch = batch or batch_id(versions)
    pool = pool or IndexPool(stores)
    loading = time.monotonic()
    index, near = pool.index_for(keys, batch, settings)
    deciding = time.monotonic()
    try:
        return _decide(settings, result, keys, candidates, shards, index, near, pool, stores,
                       started, (extracting, loading, deciding), builder)
    except BaseException:
        pool.drop()
        raise


def process_captures(
    settings: Settings,
    stores: Stores,
    capture_keys: list[str],
    catalog: Catalog | None = None,
    tagger: Tagger | None = None,
    batch: str = "",
    day: str = "",
    staged: dict[str, StagedShard] | None = None,
    pool: IndexPool | None = None,
    writer: table.Writer | None = None,
) -> ProcessResult:
    """Process the captures named by ``capture_keys`` into the processed bucket: their rows
    replace whatever rows those captures had in the articles table, in one commit
    (:func:`decide_captures`, then :func:`write_batches` of that one batch). ``writer``: the
    run's table writer (the table kept open between commits)."""
    pool = pool or IndexPool(stores)
    decided = decide_captures(settings, stores, capture_keys, catalog=catalog, tagger=tagger,
                              batch=batch, day=day, staged=staged, pool=pool)
    write_batches(settings, stores, [decided], pool, writer or table.Writer(settings))
    return decided.result


@dataclass
class Decided:
    """A batch decided in memory, not yet written: its rows of the articles table and its
    captures' dedupe segments (the run's index already holds them, so the next batch is
    decided against them), and whether a capture of it was in the index when the run read it
    (committed before). The rows may be built in a thread of the run's while the next batch is
    decided (``decide_captures``' ``builder``); ``rows`` waits for them."""

    result: ProcessResult
    keys: list[str]
    built: Future[pa.Table]
    segments: dict[str, bytes]  # each capture's segment, as the JSON bytes to store
    known: bool
    started: float
    marks: tuple[float, float, float, float]

    @property
    def rows(self) -> pa.Table:
        return self.built.result()


def _done(rows: pa.Table) -> Future[pa.Table]:
    built: Future[pa.Table] = Future()
    built.set_result(rows)
    return built


def _decide(
    settings: Settings, result: ProcessResult, keys: list[str],
    candidates: list[_Candidate], shards: list[StagedShard], index: ExactIndex,
    near: NearDuplicateIndex, pool: IndexPool, stores: Stores, started: float,
    marks: tuple[float, float, float], builder: Executor | None,
) -> Decided:
    """The serial part of a batch before its writes: decide in fetch-time order, build the
    rows and the segments, and put the segments in the run's index."""
    counts = result.counts
    counts["near_duplicates"] = 0
    capture_of: dict[str, str] = {}
    decided: list[tuple[_Candidate, Any]] = []
    for page in sorted(candidates):
        decision = index.decide(page.article_id, page.content_hash, page.seen_at)
        if decision.status == "seen":
            counts["seen_before"] += 1
            result.tally(page.capture, page.feed_id, "seen_before")
            continue
        capture_of[page.article_id] = page.capture
        decided.append((page, decision))
    clusters = near.add_signatures([page.article_id for page, _ in decided],
                                   *_signatures([page for page, _ in decided]),
                                   [page.seen_at for page, _ in decided],
                                   [page.seen_us for page, _ in decided])
    kept: list[tuple[_Candidate, str, tuple[str | None, float | None]]] = []
    for (page, decision), cluster_id in zip(decided, clusters, strict=True):
        dup = _duplicate_info(decision, near.matches.get(page.article_id))
        result.tally(page.capture, page.feed_id, "articles")
        if decision.status == "duplicate":
            counts["duplicates"] += 1
            result.tally(page.capture, page.feed_id, "duplicates")
        elif dup[0] is not None:
            counts["near_duplicates"] += 1
            result.tally(page.capture, page.feed_id, "near_duplicates")
        kept.append((page, cluster_id, dup))
    counts["articles"] = len(kept)
    uris = {s.capture: stores.raw.uri(s.capture) for s in shards}

    hashed = config_hash(settings)
    built = (builder.submit(_rows, shards, kept, uris, hashed) if builder is not None
             else _done(_rows(shards, kept, uris, hashed)))
    known = any(key in pool.day(capture_day(key)) for key in keys)
    segments = {capture: dumps(doc)
                for capture, doc in _segments(keys, index, near, capture_of).items()}
    for capture, data in segments.items():
        pool.put(capture, data)
    pool.settle(near)
    return Decided(result, keys, built, segments, known, started, (*marks, time.monotonic()))


def _tally_rows(result: ProcessResult, rows: pa.Table) -> None:
    """The partitions a batch's rows fall in, and its rows per region (the result's)."""
    for (dt, region), n in Counter(zip(rows.column("dt").to_pylist(),
                                       rows.column("region").to_pylist(), strict=True)).items():
        result.regions[region] = result.regions.get(region, 0) + n
        result.partitions.append(f"dt={dt}/region={region}")
    result.partitions = sorted(set(result.partitions))


def write_batches(settings: Settings, stores: Stores, batches: list[Decided], pool: IndexPool,
                  writer: table.Writer, reports: bool = True) -> None:
    """Write decided batches (consecutive ones of a run, in order): under the table's writer
    lock (so segment compaction never races a rewrite) their segments (stored while the
    table's data files are written), then one table commit holding every batch (each its own
    transaction id, so a re-run in any grouping commits what is missing and nothing twice);
    then each batch's manifest, its captures' processing counts and (``reports``; a run of
    many batches says False and writes them once, at its end: ``completeness.write_reports``)
    the completeness reports of their intervals.
    A run killed between the segments and the commit has its articles in the index but not
    yet in the table (other batches skip them) until its re-run commits them, rather than in
    the table twice."""
    batches = [decided for decided in batches if decided.keys]
    if not batches:
        return
    keys = [key for decided in batches for key in decided.keys]
    try:
        writing = time.monotonic()
        with table.WriterLock(stores.processed, settings.table_lock_ttl):
            first_time = (not any(decided.known for decided in batches)
                          and _never_committed(stores, pool, keys))
            committing = time.monotonic()
            # the segments are stored while the table's files are written, and before the
            # commit (``ready``); the lock is let go only once their writes have ended
            with ThreadPoolExecutor(1, thread_name_prefix="segments") as side:
                storing = side.submit(
                    each, lambda item: stores.processed.put(segment_key(item[0]), item[1],
                                                            "application/json"),
                    [item for decided in batches for item in decided.segments.items()])
                version, done = writer.commit_batches(
                    [(d.rows, d.keys, d.result.batch) for d in batches], first_time,
                    ready=storing.result)
                storing.result()  # (every batch committed before: ``ready`` was not called)
            committed = time.monotonic()
    except BaseException:
        pool.drop()  # the index holds segments that may not be stored
        raise
    for decided in batches:
        result = decided.result
        _tally_rows(result, decided.rows)
        result.table_version = version if result.batch in done else None
        result.manifest_key = dataset.manifest_key(result.day, result.batch)
        result.reports = completeness.report_keys(decided.keys)
    each(lambda result: stores.processed.put_json(result.manifest_key, result.manifest(settings)),
         [decided.result for decided in batches])
    # the captures' counts, then (unless the caller does it once for its run) each interval's
    # report, from every capture of it
    counts = {capture: per_feed for decided in batches
              for capture, per_feed in decided.result.by_feed.items()}
    completeness.store_counts(stores, keys, counts)
    if reports:
        completeness.write_reports(stores, keys)
    # each batch's times; the group's writes are shared evenly among its batches
    share = 1 / len(batches)
    locked, commit_share = (committed - writing) * share, (committed - committing) * share
    after = (time.monotonic() - committed) * share
    for decided in batches:
        result = decided.result
        extracting, loading, deciding, built = decided.marks
        # decide_write is the serial part once the index is loaded; the others are parts of
        # it: deciding (rows built), the table commit, and the other writes
        result.seconds = {"extract": loading - extracting, "index": deciding - loading,
                          "decide_write": built - deciding + locked + after,
                          "decide": built - deciding, "table_commit": commit_share,
                          "other_writes": locked - commit_share + after}
        log.info("batch %s: %s in %.2f s; regions %s; table version %s", result.batch,
                 result.counts, time.monotonic() - decided.started, result.regions,
                 result.table_version if result.table_version is not None
                 else "unchanged (committed before)")


def _never_committed(stores: Stores, pool: IndexPool, keys: list[str]) -> bool:
    """Whether no capture of ``keys`` (none of which the run's index held when it was read)
    has been committed since by another run (then their rows are appended, not put in place
    of others). Every commit writes its captures' segments first, so a capture without a
    segment was never committed. Asked under the writer lock; a day compacted since the run
    read it counts as "maybe committed"."""
    days = sorted({capture_day(key) for key in keys})
    if each(stores.processed.version, [day_key(day) for day in days]) != [
            pool.compacted.get(day) for day in days]:
        return False
    return not any(each(stores.processed.exists, [segment_key(key) for key in keys]))


def _segments(keys: list[str], index: ExactIndex, near: NearDuplicateIndex,
              capture_of: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One segment per capture of the batch (an empty one for a capture without articles);
    the rows keep the indexes' first-seen order."""
    entries: dict[str, list[list[str]]] = {k: [] for k in keys}
    for row in index.segment_rows():
        entries[capture_of[row[0]]].append(row)
    near_rows: dict[str, list[list[object]]] = {k: [] for k in keys}
    for nrow in near.segment_rows():
        near_rows[capture_of[str(nrow[0])]].append(nrow)
    return {key: {"version": SEGMENT_VERSION, "capture": key, "entries": entries[key],
                  "near": near_rows[key], "near_version": NEAR_VERSION} for key in keys}


def _signatures(pages: list[_Candidate]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The staged pages' MinHash signatures as one matrix (a row of zeros for a text too short
    to sign, which is not indexed), and their shingle counts."""
    blank = bytes(NUM_PERM)
    for page in pages:
        if (page.signature is None and page.shingles >= MIN_SHINGLES) or (
                page.signature is not None and len(page.signature) != NUM_PERM):
            raise ValueError(f"{page.capture}: the staged page {page.article_id} has a "
                             f"signature of {len(page.signature or b'')} bytes for "
                             f"{page.shingles} shingles (a signature has {NUM_PERM} bytes, "
                             f"and a text of {MIN_SHINGLES} shingles or more has one)")
    sigs = np.frombuffer(b"".join(page.signature or blank for page in pages), np.uint8)
    return (sigs.reshape(len(pages), NUM_PERM),
            np.fromiter((page.shingles for page in pages), np.int64, len(pages)))


def _duplicate_info(decision: Any, match: Match | None) -> tuple[str | None, float | None]:
    """(duplicate_of, similarity): the earlier copy this article repeats, if any."""
    if decision.status == "duplicate":
        return decision.duplicate_of, 1.0
    if match is not None and match.earlier:
        return match.duplicate_of, max(match.jaccard, match.containment)
    return None, None


# the staged columns the decisions read (the texts stay in Arrow)
_DECIDING = ("outcome", "feed_id", "url", "reason", "article_id", "content_hash", "signature",
             "shingles")

# the articles table's columns a staged page already holds as they are
_STAGED_COLUMNS = ("article_id", "url", "canonical_url", "feed_id", "source_domain", "title",
                   "text", "authors", "published_at", "fetched_at", "language",
                   "language_confidence", "countries",
                   "regions", "primary_region", "region_evidence", "content_hash", "capture",
                   "extractor")


@dataclass(frozen=True, order=True, slots=True)
class _Candidate:
    """A staged article as the decisions see it, ordered by fetch time (first seen first),
    then id; ``shard``/``row`` locate its columns in the batch's staged tables."""

    seen_at: str
    article_id: str
    shard: int
    row: int
    capture: str = field(compare=False)
    feed_id: str = field(compare=False)
    content_hash: str = field(compare=False)
    signature: bytes | None = field(compare=False)
    shingles: int = field(compare=False)
    seen_us: int | None = field(compare=False, default=None)  # seen_at in microseconds


def _rows(shards: list[StagedShard],
          kept: list[tuple[_Candidate, str, tuple[str | None, float | None]]],
          uris: dict[str, str], chash: str) -> pa.Table:
    """The batch's rows of the articles table: the kept pages' staged columns taken as they
    are (no Python object per text), with the decisions' columns beside them."""
    offsets = [0]
    for shard in shards:
        offsets.append(offsets[-1] + shard.data.num_rows)
    staged = (pa.concat_tables([s.data for s in shards]) if shards
              else StagedShard("", "", 0, 1).data)
    take = pa.array([offsets[c.shard] + c.row for c, _, _ in kept], pa.int64())
    # the rows in the table's order, found from the few columns that set it, so that the
    # texts are copied once (not taken here and sorted again in table.arrange)
    order = table.row_order(staged.select(list(table.ORDER_COLUMNS)).take(take))
    picked = staged.select([*_STAGED_COLUMNS, "offset"]).take(take.take(order))
    kept = [kept[n] for n in order.to_pylist()]
    columns: dict[str, Any] = {name: picked.column(name) for name in _STAGED_COLUMNS}
    columns.update({
        "dup_cluster_id": [cluster for _, cluster, _ in kept],
        "is_canonical": [dup[0] is None for _, _, dup in kept],
        "duplicate_of": [dup[0] for _, _, dup in kept],
        "similarity": [dup[1] for _, _, dup in kept],
        "raw_ref": [f"{uris[c.capture]}#offset={offset}"
                    for (c, _, _), offset in zip(kept, picked.column("offset").to_pylist(),
                                                 strict=True)],
        "config_hash": [chash] * len(kept),
    })
    return table.arrange(columns, ordered=True)
