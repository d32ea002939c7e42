"""Site line histories between captures: the state of ``ingest.boilerplate`` in storage.

A feed group's captures form a chain, in key order (day, then interval). After extracting one
shard of a capture, the extraction stage stores the history of that shard's sites (their last
distinct pages' line hashes, ``SiteLines.history``) under
``state/sitelines/<lines id>/dt=<day>/group=<group>/<interval>/<version>/<shard>-of-<shards>.parquet``
(``ingest.dataset.sitelines_key``); the next capture of the group starts from it. So the text of a
page is a function of the raw captures of its group before it and of its own capture:
deterministic for a given order of captures, and the same whatever the grouping into runs and
the number of shards (a shard holds whole sites, and a history read from another split is
filtered to the shard's sites).

The history a capture starts from is the one stored after the latest earlier capture of its
group (within ``LOOKBACK_DAYS``) that has a usable history for the capture's *current* version:
the object of the same shard split, or a complete set of another split. A processing run puts a
group's captures in one extraction task per shard, in order (``ingest.pipeline.plan``), so an
earlier capture of the same run has always stored its history before the next one reads it. A
capture whose history is missing (it was never processed, or is pending again after a poll
re-run merged records into it) is passed over for the one before it.

The ``lines id`` hashes the extractor version and the history rules: a new extractor learns
again from scratch instead of reading histories of text it would not produce.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import date, timedelta

import pyarrow as pa

from ingest import boilerplate, dataset
from ingest.boilerplate import Remembered
from ingest.config import Settings
from ingest.extract import EXTRACTORS
from ingest.storage import Stores, each
from ingest.urls import domain

log = logging.getLogger(__name__)

STATE_VERSION = 1
LOOKBACK_DAYS = 7
META_KEY = b"news_ingest_sitelines"
SCHEMA = pa.schema([("site", pa.string()), ("digest", pa.string()),
                    ("lines", pa.list_(pa.int64()))])
_NAME = re.compile(r"([^/]+)/([0-9a-f]{12})/(\d{4})-of-(\d{4})\.parquet$")

History = dict[str, list[Remembered]]


def lines_id(settings: Settings) -> str:
    """The history generation: extractor version, history rules and the article minimum."""
    raw = json.dumps([STATE_VERSION, EXTRACTORS, boilerplate.MIN_PAGES, boilerplate.MAX_LINE,
                      boilerplate.HISTORY_PAGES, settings.min_article_words])
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def site_bucket(site: str, shards: int) -> int:
    """The shard of a capture a site's pages belong to (see ``ingest.stage.site_shard``)."""
    if shards == 1:
        return 0
    digest = hashlib.blake2b(site.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def site_of(url: str) -> str:
    """The site a page's URL belongs to (a URL urllib cannot split stands for itself)."""
    try:
        return domain(url)
    except ValueError:
        return url


def of_shard(history: History, shard: int, shards: int) -> History:
    """The part of a history whose sites belong to the given shard of a split."""
    return {site: pages for site, pages in history.items()
            if site_bucket(site, shards) == shard}


def to_parquet(history: History, header: dict[str, object]) -> bytes:
    rows = [{"site": site, "digest": digest, "lines": list(lines)}
            for site, pages in sorted(history.items()) for digest, lines in pages]
    return dataset.headed_parquet(pa.Table.from_pylist(rows, schema=SCHEMA), META_KEY, header)


def from_parquet(blob: bytes) -> History:
    """A history written by :func:`to_parquet`; ``ValueError`` if the object is not one."""
    data, _ = dataset.read_headed_parquet(blob, META_KEY, SCHEMA, "version", STATE_VERSION,
                                          "site line history")
    history: History = {}
    for site, digest, lines in zip(*(data.column(n).to_pylist() for n in SCHEMA.names),
                                   strict=True):
        history.setdefault(site, []).append((digest, tuple(lines)))
    return history


def store(stores: Stores, lines: str, capture: str, version: str, shard: int, shards: int,
          history: History) -> str | None:
    """Store the history after one shard of a capture (one PUT, rewritten whole by a re-run);
    None for a capture outside any group's chain."""
    if dataset.capture_chain(capture) is None or not version:
        return None
    key = dataset.sitelines_key(lines, capture, version, shard, shards)
    header = {"version": STATE_VERSION, "capture": capture, "shard": shard, "shards": shards}
    stores.processed.put(key, to_parquet(history, header), "application/vnd.apache.parquet")
    # the histories after older versions of the capture (it grew since) are never read again
    folder = key.rsplit("/", 2)[0] + "/"
    each(stores.processed.delete, [k for k in stores.processed.list(folder)
                                   if not k.startswith(key.rsplit("/", 1)[0] + "/")])
    return key


def load(stores: Stores, lines: str, capture: str, shard: int, shards: int
         ) -> tuple[History, str | None]:
    """The history the given shard of a capture starts from (its sites only), and the capture
    it was stored after (None: no earlier capture of the group has one)."""
    found = dataset.capture_chain(capture)
    if found is None:
        return {}, None
    day, chain, label = found
    start = date.fromisoformat(day)
    for back in range(LOOKBACK_DAYS + 1):
        d = (start - timedelta(days=back)).isoformat()
        objects: dict[str, dict[str, dict[tuple[int, int], str]]] = {}
        for key in stores.processed.list(dataset.sitelines_prefix(lines, d, chain)):
            m = _NAME.search(key)
            if m and (back or m.group(1) < label):
                objects.setdefault(m.group(1), {}).setdefault(m.group(2), {})[
                    (int(m.group(3)), int(m.group(4)))] = key
        for earlier in sorted(objects, reverse=True):
            before = dataset.capture_of_chain(d, chain, earlier)
            history = _read(stores, before, objects[earlier], shard, shards)
            if history is not None:
                return history, before
    return {}, None


def _read(stores: Stores, capture: str, versions: dict[str, dict[tuple[int, int], str]],
          shard: int, shards: int) -> History | None:
    """The history stored after ``capture``'s current version, for the given shard; None if
    there is none to use."""
    stat = stores.raw.stat(capture)
    if stat is None:
        return None
    objects = versions.get(hashlib.sha256(stat[0].encode("utf-8")).hexdigest()[:12], {})
    if (shard, shards) in objects:
        keys = [objects[(shard, shards)]]
    else:
        complete = sorted(n for (_, n) in objects
                          if all((i, n) in objects for i in range(n)))
        if not complete:
            return None
        keys = [objects[(i, complete[0])] for i in range(complete[0])]
    history: History = {}
    try:
        for blob in each(stores.processed.get, keys):
            history.update(from_parquet(blob))
    except (ValueError, KeyError) as exc:
        log.warning("site line history after %s is not usable (%s)", capture, exc)
        return None
    return of_shard(history, shard, shards)
