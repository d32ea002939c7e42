"""Processing: raw captures -> extracted, deduplicated, region-tagged rows -> Parquet partitions.

A batch is the set of capture keys one run was given; its id is a hash of those keys, so a
re-run of the same batch rewrites the same objects with the same bytes. Data objects are written
first (Parquet parts, then the dedupe segment) and the run manifest last.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from ingest import completeness, dataset, regions
from ingest.archive import ArchivedResponse, read_warc
from ingest.config import Catalog, FeedSpec, Settings
from ingest.dates import Stamp, choose
from ingest.dedupe import (
    NEAR_VERSION,
    ExactIndex,
    Match,
    NearDuplicateIndex,
    entries_from_segment,
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
    raw = (f"{EXTRACTOR}|{dataset.SCHEMA_VERSION}|{settings.fingerprint()}|"
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
            "schema_version": dataset.SCHEMA_VERSION,
        }

    def as_dict(self) -> dict[str, Any]:
        """Summary for XCom and asset-event extras (keys and counts, no payloads)."""
        return {"batch": self.batch, "manifest": self.manifest_key, "partitions": self.partitions,
                "counts": self.counts, "regions": self.regions, "reports": self.reports}


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
    replacing: frozenset[str] = frozenset(),
    day: str = "",
) -> ProcessResult:
    """Process the captures named by ``capture_keys`` into the processed bucket.

    ``batch`` overrides the batch id (a rebuild names its own); ``replacing`` are batches this
    one replaces, whose dedupe segments are left out of the index (they hold the old versions
    of the same articles); ``day`` files the batch's manifest and segment under that day
    instead of the first capture's.
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
    exact_entries, near = _load_index(stores, result.day, batch, settings, replacing)
    index = ExactIndex(batch, exact_entries)
    rows: list[dict[str, Any]] = []
    chash = config_hash(settings)
    counts["near_duplicates"] = 0
    for cand in sorted(candidates, key=lambda c: (c.fetched_iso, c.article_id)):
        decision = index.decide(cand.article_id, cand.content_hash, cand.fetched_iso)
        if decision.status == "seen":
            counts["seen_before"] += 1
            result.tally(cand.key, cand.feed_id, "seen_before")
            continue
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
    for (day, region), part_rows in dataset.partitions(rows).items():
        key = dataset.partition_key(day, region, batch)
        stores.processed.put(key, dataset.to_parquet(part_rows), "application/vnd.apache.parquet")
        result.partitions.append(key)
        result.regions[region] = result.regions.get(region, 0) + len(part_rows)
    segment = index.segment()
    segment["near"] = near.segment_rows()
    segment["near_version"] = NEAR_VERSION
    stores.processed.put_json(segment_key(result.day, batch), segment)
    result.manifest_key = dataset.manifest_key(result.day, batch)
    stores.processed.put_json(result.manifest_key, result.manifest(settings))
    result.reports = completeness.write(stores, keys, result.by_feed)
    log.info("batch %s: %s in %.2f s; regions %s", batch, counts, time.monotonic() - started,
             result.regions)
    return result


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


def _load_index(stores: Stores, day: str, batch: str, settings: Settings,
                replacing: frozenset[str] = frozenset()) -> tuple[list[Any], NearDuplicateIndex]:
    """Exact entries and the near-duplicate index of every other batch in the window (except
    the batches being replaced)."""
    entries = []
    near = NearDuplicateIndex()
    segments = []
    for d in window_days(day, settings.dedupe_window_days):
        for key in stores.processed.list(f"state/dedupe/dt={d}/"):
            if key.rsplit("/", 1)[1][:-5] not in {batch, *replacing}:
                segments.append(stores.processed.get_json(key, {}))
    for doc in segments:
        entries.extend(entries_from_segment(doc))
    near_rows = [row for doc in segments if doc.get("near_version") == NEAR_VERSION
                 for row in doc.get("near", [])]
    old = sum(1 for doc in segments if doc.get("near") and doc.get("near_version") != NEAR_VERSION)
    if old:
        log.warning("%d dedupe segments in the window were written by an older near-duplicate "
                    "index format and are left out; reprocess their days to index them again", old)
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
        "extractor": doc.extractor,
        "config_hash": chash,
        "schema_version": dataset.SCHEMA_VERSION,
    }
