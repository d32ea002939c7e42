"""Deduplication: exact (canonical URL, normalised-text hash) across runs, and near-duplicate
clustering with MinHash/LSH (``cluster(items)``, ``NearDuplicateIndex``).

The index is a set of append-only segments in the processed bucket, one per processing batch
(``state/dedupe/dt=<day>/<batch>.json``), so concurrent runs never rewrite each other's state.
"First seen" means the earliest fetch time (then the smaller article id), not processing order,
so re-running a batch, or processing an older range later, gives the same answers; a batch's own
segment is ignored when it is re-run, so nothing is ever a duplicate of itself.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

_TOKEN = re.compile(r"\w+")


def text_hash(text: str) -> str:
    """Hash of the normalised text (NFKC, case-folded, punctuation and spacing ignored)."""
    tokens = _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
    return hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One indexed article."""

    article_id: str
    content_hash: str
    seen_at: str  # ISO fetch time, UTC
    cluster_id: str
    batch: str

    def order(self) -> tuple[str, str]:
        """Sort key meaning "seen first"."""
        return (self.seen_at, self.article_id)

    def to_row(self) -> list[str]:
        """Compact list form used in segments."""
        return [self.article_id, self.content_hash, self.seen_at, self.cluster_id]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the index says about one article."""

    status: str  # "new", "duplicate" or "seen" (this URL was already processed elsewhere)
    cluster_id: str
    duplicate_of: str | None = None
    seen_in: str = ""


class ExactIndex:
    """Canonical-URL and text-hash index over a window of segments plus the current batch."""

    def __init__(self, batch: str, entries: Iterable[IndexEntry] = ()) -> None:
        self.batch = batch
        self.by_article: dict[str, IndexEntry] = {}
        self.by_hash: dict[str, list[IndexEntry]] = {}
        self.added: list[IndexEntry] = []
        self._decided: set[str] = set()
        for entry in entries:
            if entry.batch != batch:
                self._put(entry)

    def _put(self, entry: IndexEntry) -> None:
        old = self.by_article.get(entry.article_id)
        if old is None or entry.order() < old.order():
            self.by_article[entry.article_id] = entry
        self.by_hash.setdefault(entry.content_hash, []).append(entry)

    def decide(self, article_id: str, content_hash: str, seen_at: str) -> Decision:
        """Classify an article and add it to the index (call in a deterministic order)."""
        known = self.by_article.get(article_id)
        if known is not None and (known.batch != self.batch or article_id in self._decided):
            return Decision("seen", known.cluster_id, seen_in=known.batch)
        self._decided.add(article_id)
        members = [e for e in self.by_hash.get(content_hash, []) if e.article_id != article_id]
        me = (seen_at, article_id)
        earlier = [e for e in members if e.order() < me]
        cluster = min(members, key=IndexEntry.order).cluster_id if members else article_id
        entry = IndexEntry(article_id, content_hash, seen_at, cluster, self.batch)
        self._put(entry)
        self.added.append(entry)
        if earlier:
            first = min(earlier, key=IndexEntry.order)
            return Decision("duplicate", cluster, duplicate_of=first.article_id)
        return Decision("new", cluster)

    def segment(self) -> dict[str, object]:
        """This batch's entries, to store as its segment."""
        rows = sorted((e.to_row() for e in self.added), key=lambda r: (r[2], r[0]))
        return {"version": 1, "batch": self.batch, "entries": rows}


def segment_key(day: str, batch: str) -> str:
    """Object key of a batch's segment."""
    return f"state/dedupe/dt={day}/{batch}.json"


def window_days(day: str, window: int) -> list[str]:
    """The days whose segments a batch of ``day`` must see: ``window`` days either side."""
    centre = date.fromisoformat(day)
    return [(centre + timedelta(days=d)).isoformat() for d in range(-window, window + 1)]


def entries_from_segment(doc: dict[str, object]) -> list[IndexEntry]:
    """Parse a stored segment."""
    batch = str(doc.get("batch", ""))
    rows = doc.get("entries", [])
    assert isinstance(rows, list)
    return [IndexEntry(r[0], r[1], r[2], r[3], batch) for r in rows]


# --- near-duplicates ------------------------------------------------------------------------

MIN_SHINGLES = 12  # shorter texts (headlines, boilerplate stubs) stay singletons
JACCARD_MIN = 0.5
CONTAINMENT_MIN = 0.75


@dataclass(frozen=True, slots=True)
class Match:
    """Why an item joined a cluster: the earlier item it matched and how closely."""

    duplicate_of: str
    jaccard: float
    containment: float


class NearDuplicateIndex:
    """MinHash/LSH index that assigns each added text to a cluster (first member's id).

    Candidates come from LSH bands (42 bands of 3 rows: pairs above a Jaccard of about 0.35 are
    almost always seen); a candidate is a duplicate when the estimated Jaccard is at least 0.5,
    or when the smaller text is at least 75 % contained in the larger and at least 40 % of its
    size (a truncated copy, not a boilerplate blurb that appears inside many stories). A text
    that matches members of several clusters joins them (union-find; the earliest first member
    names the merged cluster).
    """

    def __init__(self) -> None:
        from ingest.minhash import sketch

        self._sketch = sketch
        self.buckets: dict[bytes, list[str]] = {}
        self.sketches: dict[str, Any] = {}
        self.parent: dict[str, str] = {}
        self.order: dict[str, tuple[str, int]] = {}
        self.seen_at: dict[str, str] = {}
        self.matches: dict[str, Match] = {}
        self.added: list[str] = []

    def find(self, item_id: str) -> str:
        """The current cluster id of an indexed item."""
        root = item_id
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item_id] != root:  # path compression
            self.parent[item_id], item_id = root, self.parent[item_id]
        return root

    def load(self, item_id: str, cluster_id: str, seen_at: str, sk: Any) -> None:
        """Add an item indexed by an earlier run, with the cluster it was given then."""
        if item_id in self.parent:
            return
        if cluster_id not in self.parent:
            self.parent[cluster_id] = cluster_id
            self.order[cluster_id] = (seen_at, -1)
        self.parent[item_id] = self.find(cluster_id)
        self.order[item_id] = (seen_at, len(self.order))
        self.seen_at[item_id] = seen_at
        for key in sk.band_keys():
            self.buckets.setdefault(key, []).append(item_id)
        self.sketches[item_id] = sk

    def add(self, item_id: str, text: str, seen_at: str = "") -> str:
        """Index one text and return its cluster id (its own id when it matches nothing).

        ``seen_at`` orders items when clusters merge (earliest first member names the cluster);
        without it, insertion order does.
        """
        from ingest.minhash import similarity

        if item_id in self.parent:
            return self.find(item_id)
        self.parent[item_id] = item_id
        self.order[item_id] = (seen_at, len(self.order))
        self.seen_at[item_id] = seen_at
        self.added.append(item_id)
        sk = self._sketch(text)
        if sk.size < MIN_SHINGLES:
            return item_id
        keys = sk.band_keys()
        seen: set[str] = set()
        best: tuple[float, str, float, float] | None = None
        roots: set[str] = set()
        for key in keys:
            for other in self.buckets.get(key, ()):
                if other in seen:
                    continue
                seen.add(other)
                other_sk = self.sketches[other]
                jac, cont = similarity(sk, other_sk)
                comparable = min(sk.size, other_sk.size) >= 0.4 * max(sk.size, other_sk.size)
                if jac >= JACCARD_MIN or (cont >= CONTAINMENT_MIN and comparable):
                    roots.add(self.find(other))
                    score = max(jac, cont)
                    if best is None or score > best[0]:
                        best = (score, other, jac, cont)
        for key in keys:
            self.buckets.setdefault(key, []).append(item_id)
        self.sketches[item_id] = sk
        if best is None:
            return item_id
        _, other, jac, cont = best
        self.matches[item_id] = Match(other, round(jac, 3), round(cont, 3))
        first = min(roots, key=self.order.__getitem__)
        for root in roots | {item_id}:
            self.parent[root] = first
        return first


    def segment_rows(self) -> list[list[object]]:
        """The items added by this index (not loaded ones), for the stored segment:
        ``[id, seen_at, cluster_id, size, base64 signature]``."""
        rows: list[list[object]] = []
        for item_id in self.added:
            sk = self.sketches.get(item_id)
            if sk is not None:
                rows.append([item_id, self.seen_at[item_id], self.find(item_id), sk.size,
                             base64.b64encode(sk.to_bytes()).decode()])
        return sorted(rows, key=lambda r: (str(r[1]), str(r[0])))

    def load_rows(self, rows: Iterable[list[Any]]) -> None:
        """Load rows written by :meth:`segment_rows`."""
        from ingest.minhash import Sketch

        for item_id, seen_at, cluster_id, size, sig in rows:
            self.load(item_id, cluster_id, seen_at,
                      Sketch.from_bytes(base64.b64decode(sig), int(size)))


def cluster(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Cluster ``(id, text)`` items: id -> cluster id (the id of the cluster's first member).

    Items are taken in the order given ("first seen"); empty, one-word and boilerplate-only
    texts become singletons; ids seen twice keep their first cluster.
    """
    index = NearDuplicateIndex()
    ids: list[str] = []
    for item_id, text in items:
        index.add(item_id, text)
        ids.append(item_id)
    return {item_id: index.find(item_id) for item_id in ids}
