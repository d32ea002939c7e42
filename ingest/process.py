"""Processing: raw captures -> extracted, deduplicated, region-tagged rows -> the articles table.

A batch is the set of capture keys one run was given; its id is a hash of those keys (and, for
a rebuild, the config), so a re-run of the same batch writes the same state. Order of writes:
the captures' dedupe segments, then one commit to the Delta table (``ingest.table``) replacing
those captures' rows, then the run manifest and the completeness reports.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ingest import completeness, dataset, regions, table
from ingest.archive import ArchivedResponse, read_warc
from ingest.config import Catalog, FeedSpec, Settings
from ingest.dates import Stamp, choose
from ingest.dedupe import (
    NEAR_VERSION,
    SEGMENT_VERSION,
    ExactIndex,
    Match,
    NearDuplicateIndex,
    capture_day,
    entries_from_segment,
    read_day,
    segment_key,
    text_hash,
    window_days,
)
from ingest.errors import NotAnArticle, PermanentError
from ingest.extract import EXTRACTOR, extract
from ingest.models import Extracted, parse_iso
from ingest.regions import Tagger, default_tagger
from ingest.storage import Stores
from ingest.urls import article_id, canonical_url, domain, same_site

log = logging.getLogger(__name__)

_DAY = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")


def batch_id(keys: list[str]) -> str:
    """The id of a batch of capture keys (order does not matter)."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()[:16]


def config_hash(settings: Settings) -> str:
    """Hash of what shapes processed output: extractor version, schema, settings, and the
    gazetteer and region table the tagger was built from."""
    raw = (f"{EXTRACTOR}|{table.SCHEMA_VERSION}|{settings.fingerprint()}|"
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
            "extractor": EXTRACTOR,
            "config_hash": config_hash(settings),
            "schema_version": table.SCHEMA_VERSION,
        }

    def as_dict(self) -> dict[str, Any]:
        """Summary for XCom and asset-event extras (keys and counts, no payloads)."""
        return {"batch": self.batch, "manifest": self.manifest_key, "partitions": self.partitions,
                "counts": self.counts, "regions": self.regions, "reports": self.reports,
                "table_version": self.table_version}


@dataclass
class _Candidate:
    page: ArchivedResponse
    key: str
    feed_id: str
    doc: Extracted
    canonical: str
    article_id: str
    content_hash: str
    fetched_iso: str


def process_captures(
    settings: Settings,
    stores: Stores,
    capture_keys: list[str],
    catalog: Catalog | None = None,
    tagger: Tagger | None = None,
    batch: str = "",
    day: str = "",
) -> ProcessResult:
    """Process the captures named by ``capture_keys`` into the processed bucket: their rows
    replace whatever rows those captures had in the articles table, in one commit.

    ``batch`` overrides the batch id (a rebuild names its own); ``day`` files the batch's
    manifest under that day instead of the first capture's.
    """
    started = time.monotonic()
    keys = sorted(set(capture_keys))
    batch = batch or batch_id(keys)
    days = sorted(m.group(1) for k in keys if (m := _DAY.search(k)))
    result = ProcessResult(batch=batch, day=day or (days[0] if days else "unknown"),
                           captures=keys)
    counts = {"captures": len(keys), "pages": 0, "articles": 0, "duplicates": 0,
              "seen_before": 0, "skipped": 0, "failed": 0}
    result.counts = counts
    if not keys:
        return result
    tagger = tagger or default_tagger(settings.regions_path)
    feeds = {f.id: f for f in catalog.feeds} if catalog else {}
    candidates: list[_Candidate] = []
    for key in keys:
        for page in _pages(stores, key, result):
            counts["pages"] += 1
            feed_id = str(page.meta.get("feed_id", ""))
            result.tally(key, feed_id, "pages")
            try:
                candidates.append(_extract(page, key, feed_id, settings))
            except NotAnArticle as exc:
                counts["skipped"] += 1
                result.tally(key, feed_id, "skipped")
                result.skipped.append({"url": page.url, "reason": str(exc)})
            except Exception as exc:  # noqa: BLE001 - one bad page never stops the batch
                counts["failed"] += 1
                result.tally(key, feed_id, "failed")
                result.errors.append({"url": page.url, "error": f"{type(exc).__name__}: {exc}"})
    exact_entries, near = _load_index(stores, keys, settings)
    index = ExactIndex(batch, exact_entries)
    rows: list[dict[str, Any]] = []
    chash = config_hash(settings)
    counts["near_duplicates"] = 0
    capture_of: dict[str, str] = {}
    for cand in sorted(candidates, key=lambda c: (c.fetched_iso, c.article_id)):
        decision = index.decide(cand.article_id, cand.content_hash, cand.fetched_iso)
        if decision.status == "seen":
            counts["seen_before"] += 1
            result.tally(cand.key, cand.feed_id, "seen_before")
            continue
        capture_of[cand.article_id] = cand.key
        cluster_id = near.add(cand.article_id, cand.doc.text, cand.fetched_iso)
        dup = _duplicate_info(decision, near.matches.get(cand.article_id))
        result.tally(cand.key, cand.feed_id, "articles")
        if decision.status == "duplicate":
            counts["duplicates"] += 1
            result.tally(cand.key, cand.feed_id, "duplicates")
        elif dup[0] is not None:
            counts["near_duplicates"] += 1
            result.tally(cand.key, cand.feed_id, "near_duplicates")
        rows.append(_row(cand, cluster_id, dup, feeds.get(cand.feed_id), tagger, stores, chash))
    counts["articles"] = len(rows)
    for row in rows:
        dt, region = table.partition_of(row)
        result.regions[region] = result.regions.get(region, 0) + 1
        result.partitions.append(f"dt={dt}/region={region}")
    result.partitions = sorted(set(result.partitions))
    # under the table's writer lock (so segment compaction never races a rewrite), the index
    # first, then the table: a batch killed in between has its articles in the index but not
    # yet in the table (other batches skip them) until its re-run commits them, rather than
    # in the table twice
    with table.WriterLock(stores.processed, settings.table_lock_ttl):
        _write_segments(stores, keys, index, near, capture_of)
        result.table_version = table.commit_locked(settings, rows, keys, batch)
    result.manifest_key = dataset.manifest_key(result.day, batch)
    stores.processed.put_json(result.manifest_key, result.manifest(settings))
    result.reports = completeness.write(stores, keys, result.by_feed)
    log.info("batch %s: %s in %.2f s; regions %s; table version %s", batch, counts,
             time.monotonic() - started, result.regions,
             result.table_version if result.table_version is not None else "unchanged (committed before)")
    return result


def _write_segments(stores: Stores, keys: list[str], index: ExactIndex,
                    near: NearDuplicateIndex, capture_of: dict[str, str]) -> None:
    """One segment per capture of the batch (an empty one for a capture without articles);
    the rows keep the indexes' first-seen order."""
    entries: dict[str, list[list[str]]] = {k: [] for k in keys}
    for row in index.segment_rows():
        entries[capture_of[row[0]]].append(row)
    near_rows: dict[str, list[list[object]]] = {k: [] for k in keys}
    for nrow in near.segment_rows():
        near_rows[capture_of[str(nrow[0])]].append(nrow)
    for key in keys:
        stores.processed.put_json(segment_key(key), {
            "version": SEGMENT_VERSION, "capture": key, "entries": entries[key],
            "near": near_rows[key], "near_version": NEAR_VERSION})


def _pages(stores: Stores, key: str, result: ProcessResult) -> list[ArchivedResponse]:
    """The page responses of a capture; a missing or damaged capture is recorded."""
    try:
        data = stores.raw.get(key)
    except KeyError:
        result.errors.append({"capture": key, "error": f"capture {key} does not exist"})
        return []
    pages: list[ArchivedResponse] = []
    try:
        for rec in read_warc(data, key):
            if rec.kind == "page" and rec.status == 200:
                pages.append(rec)
    except PermanentError as exc:
        result.errors.append({"capture": key, "error": str(exc)})
    return pages


def _extract(page: ArchivedResponse, key: str, feed_id: str, settings: Settings) -> _Candidate:
    doc = extract(page.body, page.final_url, min_words=settings.min_article_words)
    canonical = canonical_url(page.final_url)
    if doc.canonical_url and doc.canonical_url.startswith("http") and same_site(
            doc.canonical_url, page.final_url):
        canonical = canonical_url(doc.canonical_url)
    return _Candidate(
        page=page, key=key, feed_id=feed_id, doc=doc, canonical=canonical,
        article_id=article_id(canonical), content_hash=text_hash(doc.text),
        fetched_iso=page.fetched_at.isoformat(),
    )


def _load_index(stores: Stores, keys: list[str], settings: Settings
                ) -> tuple[list[Any], NearDuplicateIndex]:
    """Exact entries and the near-duplicate index of every other capture in the window
    (``dedupe_window_days`` either side of the batch's days); the batch's own captures are
    left out, as their articles are being decided again."""
    days = sorted({capture_day(k) for k in keys} - {"unknown"})
    first = date.fromisoformat(days[0]) if days else datetime.now(UTC).date()
    last = date.fromisoformat(days[-1]) if days else first
    span = (last - first).days
    segments: dict[str, dict[str, Any]] = {}
    old = 0
    for d in window_days((first + timedelta(days=span // 2)).isoformat(),
                         settings.dedupe_window_days + (span + 1) // 2):
        found, stale, _ = read_day(stores, d)
        segments.update(found)
        old += stale
    if old:
        log.warning("%d dedupe segments in the window were written by an older index format "
                    "and are left out; reprocess their days to index them again", old)
    docs = [doc for capture, doc in sorted(segments.items()) if capture not in set(keys)]
    entries = [e for doc in docs for e in entries_from_segment(doc)]
    near = NearDuplicateIndex()
    near_rows = [row for doc in docs if doc.get("near_version") == NEAR_VERSION
                 for row in doc.get("near", [])]
    near.load_rows(sorted(near_rows, key=lambda r: (str(r[1]), str(r[0]))))
    return entries, near


def _duplicate_info(decision: Any, match: Match | None) -> tuple[str | None, float | None]:
    """(duplicate_of, similarity): the earlier copy this article repeats, if any."""
    if decision.status == "duplicate":
        return decision.duplicate_of, 1.0
    if match is not None and match.earlier:
        return match.duplicate_of, max(match.jaccard, match.containment)
    return None, None


def _row(cand: _Candidate, cluster_id: str, dup: tuple[str | None, float | None],
         feed: FeedSpec | None, tagger: Tagger,
         stores: Stores, chash: str) -> dict[str, Any]:
    doc, page = cand.doc, cand.page
    entry_published = parse_iso(page.meta.get("entry_published_at"))
    exclude = [n for n in (doc.site_name, feed.publisher if feed else "") if n]
    tags = tagger.tag(doc.text, title=doc.title or str(page.meta.get("entry_title", "")),
                      hints=doc.sections, feed_region=feed.region if feed else None,
                      exclude=exclude)
    return {
        "article_id": cand.article_id,
        "url": page.url,
        "canonical_url": cand.canonical,
        "feed_id": cand.feed_id,
        "source_domain": domain(page.final_url),
        "title": doc.title or str(page.meta.get("entry_title", "")),
        "text": doc.text,
        "authors": list(doc.authors),
        "published_at": choose(Stamp(doc.published_at, doc.published_precision)
                               if doc.published_at else None, entry_published),
        "fetched_at": page.fetched_at,
        "language": doc.language or (feed.language if feed else ""),
        "countries": [{"code": c, "score": s} for c, s in tags.countries.items()],
        "regions": list(tags.regions),
        "primary_region": tags.primary_region,
        "region_evidence": list(tags.evidence),
        "content_hash": cand.content_hash,
        "dup_cluster_id": cluster_id,
        "is_canonical": dup[0] is None,
        "duplicate_of": dup[0],
        "similarity": dup[1],
        "raw_ref": f"{stores.raw.uri(cand.key)}#offset={page.offset}",
        "capture": cand.key,
        "extractor": doc.extractor,
        "config_hash": chash,
        "schema_version": table.SCHEMA_VERSION,
    }
