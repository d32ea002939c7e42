"""The extraction stage: a raw capture (or one shard of it) -> staged pages.

Processing runs in two stages (see ``ingest.process``):

1. **extract** (this module; parallel: one Airflow task per shard of a feed group's sites, any
   worker): reads the capture's WARC records and, for each page, extracts text and metadata,
   takes out the site's recurring lines (learned from the site's pages in the capture and the
   history the group's previous capture stored, ``ingest.sitestate``), canonicalises the URL,
   hashes the text, computes its MinHash sketch and tags its regions. Everything that depends
   on one page and its site's earlier pages is done here.
2. **commit** (``ingest.process``; serial, one at a time): decides exact and near duplicates
   against the index in fetch-time order and commits the rows to the articles table.

The boundary between them is a contract: a Parquet object per shard under
``staging/<stage id>/<capture digest>-<capture version>/<shard>-of-<shards>.parquet`` in the
processed bucket (``ingest.dataset.staging_key``), one row per page response of the shard, in
capture order, with the columns of ``SCHEMA``:

==================  =========================  ==============================================
column              type                       meaning
==================  =========================  ==============================================
capture             string                     raw capture key
offset              int64                      WARC record offset in the capture (raw_ref)
url / final_url     string                     the entry's URL, the URL after redirects
feed_id             string                     catalog feed the page came from
fetched_at          timestamp(us, UTC)         fetch time (orders "first seen")
outcome             string                     ``article``, ``skipped`` (not an article) or
                                               ``failed`` (extraction raised)
reason              string                     why skipped or failed ("" for articles)
article_id ...      the article columns        as in the articles table (``ingest.table``):
                                               article_id, canonical_url, source_domain,
                                               title, text, authors, published_at, language,
                                               countries, regions, primary_region,
                                               region_evidence, content_hash, extractor;
                                               empty for pages that are not articles
signature           binary (128 bytes) or null MinHash signature (``ingest.minhash``); null
                                               when the text has too few shingles to index
shingles            int32                      the text's number of distinct shingles
==================  =========================  ==============================================

The object's Parquet metadata (key ``news_ingest``) holds a JSON header: stage version, capture,
its version (ETag), shard, shards, stage id and the capture-level errors (a missing or damaged
capture). The stage id hashes the config hash (extractor version, settings, region data) and the
catalog's feed facts (region, publisher, language), so a change of either never reads stale
staging; the capture's version in the key means a capture that grew since (a poll re-run merged
records into it) is extracted again. A staging object is written whole in one PUT: a reader
sees all of it or none, and an extraction task that is retried rewrites it whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from ingest import dataset, sitestate, table
from ingest.archive import ArchivedResponse, read_warc
from ingest.boilerplate import SiteLines
from ingest.config import Catalog, FeedSpec, Settings
from ingest.dates import Stamp, choose
from ingest.dedupe import MIN_SHINGLES, text_hash
from ingest.errors import NotAnArticle, PermanentError
from ingest.extract import extract
from ingest.language import decide as decide_language
from ingest.minhash import sketch
from ingest.models import Extracted, parse_iso
from ingest.regions import Tagger
from ingest.storage import Stores, each
from ingest.urls import article_id, canonical_url, domain, same_site

log = logging.getLogger(__name__)

STAGE_VERSION = 2
META_KEY = b"news_ingest"

# the article columns keep the articles table's types (``ingest.table.SCHEMA``)
_ARTICLE = ("article_id", "canonical_url", "source_domain", "title", "text", "authors",
            "published_at", "language", "language_confidence", "countries", "regions",
            "primary_region", "region_evidence", "content_hash", "extractor")
SCHEMA = pa.schema([
    ("capture", pa.string()),
    ("offset", pa.int64()),
    table.SCHEMA.field("url"),
    ("final_url", pa.string()),
    table.SCHEMA.field("feed_id"),
    table.SCHEMA.field("fetched_at"),
    ("outcome", pa.string()),
    ("reason", pa.string()),
    *(table.SCHEMA.field(name) for name in _ARTICLE),
    ("signature", pa.binary()),
    ("shingles", pa.int32()),
])

ARTICLE, SKIPPED, FAILED = "article", "skipped", "failed"


@dataclass(frozen=True, slots=True)
class StagedPage:
    """One page response of a capture after extraction (one row of ``SCHEMA``)."""

    capture: str
    offset: int
    url: str
    final_url: str
    feed_id: str
    fetched_at: datetime
    outcome: str
    reason: str = ""
    article_id: str = ""
    canonical_url: str = ""
    source_domain: str = ""
    title: str = ""
    text: str = ""
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    language: str = ""
    language_confidence: float | None = None
    countries: tuple[tuple[str, float], ...] = ()
    regions: tuple[str, ...] = ()
    primary_region: str | None = None
    region_evidence: tuple[str, ...] = ()
    content_hash: str = ""
    extractor: str = ""
    signature: bytes | None = None
    shingles: int = 0

    def to_row(self) -> dict[str, Any]:
        """The page as a row of ``SCHEMA``."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["countries"] = [{"code": c, "score": s} for c, s in self.countries]
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StagedPage:
        """Inverse of :meth:`to_row`."""
        return cls(**{
            **row,
            "authors": tuple(row["authors"] or ()),
            "countries": tuple((c["code"], c["score"]) for c in row["countries"] or ()),
            "regions": tuple(row["regions"] or ()),
            "region_evidence": tuple(row["region_evidence"] or ()),
        })


@dataclass
class StagedShard:
    """The staged pages of one shard of a capture (``data``: rows of ``SCHEMA`` in capture
    order), with the capture-level errors. The serial stage reads the columns it needs from
    ``data``; ``pages`` gives them as :class:`StagedPage` objects."""

    capture: str
    version: str  # the capture's ETag when it was read ("" when it does not exist)
    shard: int
    shards: int
    data: pa.Table = field(default_factory=SCHEMA.empty_table)
    errors: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of_pages(cls, capture: str, version: str, shard: int, shards: int,
                 pages: list[StagedPage], errors: list[dict[str, str]] | None = None
                 ) -> StagedShard:
        """A shard made of page objects."""
        data = pa.Table.from_pylist([p.to_row() for p in pages], schema=SCHEMA)
        return cls(capture, version, shard, shards, data, list(errors or ()))

    @property
    def pages(self) -> list[StagedPage]:
        """The rows as page objects."""
        return [StagedPage.from_row(r) for r in self.data.to_pylist()]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StagedShard):
            return NotImplemented
        return (self.capture, self.version, self.shard, self.shards, self.errors) == (
            other.capture, other.version, other.shard, other.shards, other.errors) and \
            self.data.equals(other.data)

    def to_parquet(self, stage: str) -> bytes:
        """The shard as a Parquet object (its header in the file's metadata)."""
        header = {"stage_version": STAGE_VERSION, "stage": stage, "capture": self.capture,
                  "version": self.version, "shard": self.shard, "shards": self.shards,
                  "errors": self.errors, "pages": self.data.num_rows}
        return dataset.headed_parquet(self.data, META_KEY, header)

    @classmethod
    def from_parquet(cls, blob: bytes) -> StagedShard:
        """Read a shard written by :meth:`to_parquet`; ``ValueError`` if it is not one."""
        data, header = dataset.read_headed_parquet(blob, META_KEY, SCHEMA, "stage_version",
                                                   STAGE_VERSION, "staging object")
        if data.num_rows != header["pages"]:
            raise ValueError(f"staging object holds {data.num_rows} pages, its header says "
                             f"{header['pages']}")
        return cls(header["capture"], header["version"], header["shard"], header["shards"],
                   data.replace_schema_metadata(None).combine_chunks(), list(header["errors"]))


def stage_id(config: str, catalog: Catalog | None) -> str:
    """The staging generation: the processing config hash and the catalog's feed facts."""
    feeds = sorted((f.id, f.region or "", f.publisher or "", f.language or "")
                   for f in (catalog.feeds if catalog else ()))
    raw = json.dumps([config, feeds])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def shard_counts(sizes: dict[str, int], settings: Settings, slots: int | None = None
                 ) -> dict[str, int]:
    """Extraction tasks per capture of a run: one per ``stage_shard_bytes`` of it, or, given
    the number of tasks that can run at once (``slots``), only as many of those as keep every
    slot busy: about two parts per slot over the run, each capture's share by its size. Every
    task reads its whole capture and starts a process, so a run of many captures is not cut
    further than that; a run of one big capture still spreads over every slot. (The output
    does not depend on the split: see ``site_shard``.)"""
    most = {key: max(1, math.ceil(size / settings.stage_shard_bytes))
            for key, size in sizes.items()}
    total = sum(sizes.values())
    if not slots or not total:
        return most
    return {key: min(most[key], max(1, math.ceil(2 * slots * size / total)))
            for key, size in sizes.items()}


def part_groups(sizes: list[float], settings: Settings, slots: int | None = None
                ) -> list[list[int]]:
    """Extraction tasks as groups of consecutive capture shards (indexes into ``sizes``, their
    bytes). Without ``slots``, one shard a task. With it, small shards share a task: about the
    run's bytes over two tasks per slot, and not much more than ``stage_shard_bytes``: a run of a
    hundred hourly captures of a few megabytes each is a handful of tasks, not a hundred, each
    of which would start a process and load the tagger and models again. Every shard keeps its
    own staging object, so the output does not depend on the grouping."""
    if not slots:
        return [[i] for i in range(len(sizes))]
    total = sum(sizes)
    if total <= 0:
        return [list(range(len(sizes)))] if sizes else []
    # as many tasks as the target size gives, each the shards whose middle byte falls in its
    # share of the run (consecutive, balanced by bytes; a shard bigger than a share is alone)
    tasks = max(1, math.ceil(total / min(total / (2 * slots), settings.stage_shard_bytes)
                             - 1e-9))
    groups: dict[int, list[int]] = {}
    before = 0.0
    for i, size in enumerate(sizes):
        groups.setdefault(min(tasks - 1, int((before + size / 2) / total * tasks)), []).append(i)
        before += size
    return list(groups.values())


def site_shard(url: str, shards: int) -> int:
    """The shard of a capture a page belongs to: by its site, so that every page of a site is
    extracted together (the site's recurring lines are learned from all of them, and a capture
    gives the same rows whatever its number of shards)."""
    return sitestate.site_bucket(sitestate.site_of(url), shards)


def extract_shard(settings: Settings, stores: Stores, capture: str, shard: int, shards: int,
                  catalog: Catalog | None, tagger: Tagger, history_shards: int | None = None
                  ) -> StagedShard:
    """Extract the pages of one shard of a capture (the pages of the sites ``site_shard``
    gives it, in file order, each extracted as it is read). A missing or damaged capture is
    recorded in ``errors``. ``history_shards``: a whole capture (``shards`` 1) extracted in
    place of a plan's split stores its site line history in that split's objects, so a re-run
    leaves the objects its extraction tasks would have."""
    got = stores.raw.get_versioned(capture)
    if got is None:
        return StagedShard(capture, "", shard, shards,
                           errors=[{"capture": capture, "error": f"capture {capture} does not exist"}])
    data, version = got
    errors: list[dict[str, str]] = []
    feeds = {f.id: f for f in catalog.feeds} if catalog else {}
    # each page is extracted as it is read: one body in memory at a time, whatever the size of
    # the capture
    read: list[tuple[ArchivedResponse, StagedPage | Extracted]] = []
    try:
        for page in read_warc(data, capture, max_body=settings.max_body_bytes,
                              select=lambda _n, url: site_shard(url, shards) == shard):
            if page.kind == "page" and page.status == 200:
                read.append((replace(page, body=b""), extract_page(settings, capture, page)))
    except PermanentError as exc:
        errors.append({"capture": capture, "error": str(exc)})
    del data, got
    # what the sites' earlier pages (their history after the group's previous capture) and the
    # shard's pages say about each site's recurring lines (see ingest.boilerplate); the history
    # after this capture is stored for the next one before its staging is (ingest.sitestate)
    lines = sitestate.lines_id(settings)
    history, _ = sitestate.load(stores, lines, capture, shard, shards)
    sites = SiteLines(history).learn_all((sitestate.site_of(page.final_url), doc.text)
                                         for page, doc in read if isinstance(doc, Extracted))
    history = sites.history()
    if shards == 1 and history_shards and history_shards > 1:
        for part in range(history_shards):
            sitestate.store(stores, lines, capture, version, part, history_shards,
                            sitestate.of_shard(history, part, history_shards))
    else:
        sitestate.store(stores, lines, capture, version, shard, shards, history)
    staged = [doc if isinstance(doc, StagedPage) else
              finish_page(capture, page, doc, feeds, tagger, sites) for page, doc in read]
    return StagedShard.of_pages(capture, version, shard, shards, staged, errors)


def stage_page(settings: Settings, capture: str, page: ArchivedResponse,
               feeds: dict[str, FeedSpec], tagger: Tagger) -> StagedPage:
    """Everything processing derives from one page alone (no site-level boilerplate)."""
    doc = extract_page(settings, capture, page)
    return doc if isinstance(doc, StagedPage) else finish_page(capture, page, doc, feeds, tagger)


def _base(capture: str, page: ArchivedResponse) -> StagedPage:
    return StagedPage(capture, page.offset, page.url, page.final_url,
                      str(page.meta.get("feed_id", "")), page.fetched_at, outcome=FAILED)


def extract_page(settings: Settings, capture: str, page: ArchivedResponse
                 ) -> StagedPage | Extracted:
    """The extracted document, or the staged page of a page that is not an article or
    failed."""
    base = _base(capture, page)
    if page.problem:  # its stored body cannot be decoded
        return replace(base, reason=page.problem)
    try:
        return extract(page.body, page.final_url, min_words=settings.min_article_words)
    except NotAnArticle as exc:
        return replace(base, outcome=SKIPPED, reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad page never stops the batch
        return replace(base, reason=f"{type(exc).__name__}: {exc}")


def finish_page(capture: str, page: ArchivedResponse, doc: Extracted,
                feeds: dict[str, FeedSpec], tagger: Tagger, sites: SiteLines | None = None
                ) -> StagedPage:
    """An extracted page made a staged article: its site's boilerplate lines taken out, then
    canonical URL, language, region tags, hashes and signature."""
    base = _base(capture, page)
    feed_id = base.feed_id
    try:
        site = domain(page.final_url)  # (a URL urllib cannot split: the page fails, reported)
        if sites is not None:
            text, removed = sites.clean(site, doc.text)
            if removed:
                doc = replace(doc, text=text, extractor=f"{doc.extractor} (site lines: {removed})")
        canonical = canonical_url(page.final_url)
        if doc.canonical_url and doc.canonical_url.startswith("http") and same_site(
                doc.canonical_url, page.final_url):
            canonical = canonical_url(doc.canonical_url)
        feed = feeds.get(feed_id)
        title = doc.title or str(page.meta.get("entry_title", ""))
        exclude = [n for n in (doc.site_name, feed.publisher if feed else "") if n]
        language = decide_language(doc.text, doc.language, feed.language if feed else None)
        tags = tagger.tag(doc.text, title=title, hints=doc.sections,
                          feed_region=feed.region if feed else None, exclude=exclude,
                          language=language.code)
        sk = sketch(doc.text)
        stamp = Stamp(doc.published_at, doc.published_precision) if doc.published_at else None
        return replace(
            base, outcome=ARTICLE, article_id=article_id(canonical), canonical_url=canonical,
            source_domain=site, title=title, text=doc.text,
            authors=tuple(doc.authors),
            published_at=choose(stamp, parse_iso(page.meta.get("entry_published_at"))),
            language=language.code, language_confidence=language.confidence,
            countries=tuple(tags.countries.items()), regions=tuple(tags.regions),
            primary_region=tags.primary_region, region_evidence=tuple(tags.evidence),
            content_hash=text_hash(doc.text), extractor=doc.extractor,
            signature=sk.to_bytes() if sk.size >= MIN_SHINGLES else None, shingles=sk.size)
    except Exception as exc:  # noqa: BLE001 - one bad page never stops the batch
        return replace(base, reason=f"{type(exc).__name__}: {exc}")


def write_shard(stores: Stores, stage: str, shard: StagedShard) -> str:
    """Store a staged shard under its deterministic key (one PUT); returns the key."""
    key = dataset.staging_key(stage, shard.capture, shard.version, shard.shard, shard.shards)
    stores.processed.put(key, shard.to_parquet(stage), "application/vnd.apache.parquet")
    return key


def merge(shards: Iterable[StagedShard]) -> StagedShard | None:
    """The shards of one capture as one, pages in capture order; None without shards."""
    shards = sorted(shards, key=lambda s: s.shard)
    if not shards:
        return None
    first = shards[0]
    data = pa.concat_tables([s.data for s in shards]).sort_by("offset").combine_chunks()
    errors = first.errors  # capture-level errors: every shard read the same capture
    return StagedShard(first.capture, first.version, 0, 1, data, list(errors))


def read_staged(stores: Stores, stage: str, capture: str, version: str) -> StagedShard | None:
    """The staged pages of ``version`` of a capture when every shard of it is stored, else
    None. An object that does not read as staging (another stage version, damaged) counts as
    missing."""
    def load(key: str) -> StagedShard | None:
        try:
            return StagedShard.from_parquet(stores.processed.get(key))
        except (ValueError, KeyError) as exc:
            log.warning("staging object %s is not usable (%s)", key, exc)
            return None

    complete: dict[int, list[StagedShard]] = {}
    # the shards are read and decoded side by side (storage calls, Parquet decoding without
    # the GIL)
    for shard in each(load, sorted(stores.processed.list(
            dataset.staging_prefix(stage, capture, version)))):
        if shard is not None:
            complete.setdefault(shard.shards, []).append(shard)
    for shards, group in sorted(complete.items()):
        if sorted(s.shard for s in group) == list(range(shards)):
            return merge(group)
    return None


def drop_staged(stores: Stores, stage: str, capture: str) -> None:
    """Remove every staged object of a capture (all its versions) once it is committed."""
    each(stores.processed.delete, list(stores.processed.list(
        dataset.staging_prefix(stage, capture))))
