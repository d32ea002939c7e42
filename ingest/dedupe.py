"""Deduplication: exact (canonical URL, normalised-text hash) across runs, and near-duplicate
clustering with MinHash/LSH (``cluster(items)``, ``NearDuplicateIndex``).

The index is a set of segments in the processed bucket, one per raw capture
(``state/dedupe/dt=<capture day>/<capture id>.json``): the index entries of the articles whose
rows came from that capture, the way the articles table holds that capture's rows. Processing
a capture again (a re-run, a rebuild with new code) rewrites its segment and replaces its rows,
and leaves every other capture's state alone, so any set of captures can be processed again
without an article ever being counted from two versions of one capture.
"First seen" means the earliest fetch time (then the smaller article id), not processing order,
so re-running a batch, or processing an older range later, gives the same answers; a batch's own
segment is ignored when it is re-run, so nothing is ever a duplicate of itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ingest.errors import StorageUnavailable
from ingest.minhash import Sketch

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
    batch: str

    def order(self) -> tuple[str, str]:
        """Sort key meaning "seen first"."""
        return (self.seen_at, self.article_id)

    def to_row(self) -> list[str]:
        """Compact list form used in segments."""
        return [self.article_id, self.content_hash, self.seen_at]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the index says about one article."""

    status: str  # "new", "duplicate" or "seen" (this URL was already processed elsewhere)
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
            return Decision("seen", seen_in=known.batch)
        self._decided.add(article_id)
        members = [e for e in self.by_hash.get(content_hash, []) if e.article_id != article_id]
        me = (seen_at, article_id)
        earlier = [e for e in members if e.order() < me]
        entry = IndexEntry(article_id, content_hash, seen_at, self.batch)
        self._put(entry)
        self.added.append(entry)
        if earlier:
            first = min(earlier, key=IndexEntry.order)
            return Decision("duplicate", duplicate_of=first.article_id)
        return Decision("new")

    def next_batch(self, batch: str) -> None:
        """Go on with the next batch of a run on the same index: the entries added so far stay,
        as earlier batches' (their segments, read again, would give the same entries)."""
        self.batch, self.added, self._decided = batch, [], set()

    def segment_rows(self) -> list[list[str]]:
        """This batch's entries as segment rows, first seen first."""
        return sorted((e.to_row() for e in self.added), key=lambda r: (r[2], r[0]))

    def segment(self) -> dict[str, object]:
        """This batch's entries, to store as its segment."""
        return {"version": 1, "batch": self.batch, "entries": self.segment_rows()}


SEGMENT_VERSION = 2  # per-capture segments with "capture", "entries" and "near"
_DAY = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")


def capture_day(capture: str) -> str:
    """The day in a capture key (``captures/dt=<day>/...``), or "unknown"."""
    m = _DAY.search(capture)
    return m.group(1) if m else "unknown"


def segment_key(capture: str) -> str:
    """Object key of a capture's segment."""
    digest = hashlib.sha256(capture.encode("utf-8")).hexdigest()[:16]
    return f"state/dedupe/dt={capture_day(capture)}/{digest}.json"


def day_key(day: str) -> str:
    """Object key of a day's compacted segments (``ingest.maintain`` writes it)."""
    return f"state/dedupe/dt={day}/_day.json"


class Day(NamedTuple):
    """A day of the index as read by :func:`read_day`."""

    segments: dict[str, dict[str, Any]]  # by capture
    stale: int  # objects of an older format, left out
    files: list[str]  # the capture segments read (not the compacted object)
    compacted: str | None  # the version (ETag) of the compacted object read, None: none


def read_day(store_owner: Any, day: str) -> Day:
    """The segments of a day by capture: the sections of its compacted object, overridden by
    the capture segments written since (a capture processed again); how many objects of an
    older format were left out; the keys of the capture segments read; and the version of
    the compacted object read.
    ``store_owner`` is ``Stores`` (its processed bucket).

    Compaction writes the day's object before it deletes the segments folded into it, so a
    segment that vanishes between the listing and the read means the day was just compacted:
    the day is read again.
    """
    store = store_owner.processed
    compacted = day_key(day)
    for _ in range(5):
        keys = list(store.list(f"state/dedupe/dt={day}/"))
        found: dict[str, dict[str, Any]] = {}
        version: str | None = None
        got = store.get_versioned(compacted) if compacted in keys else None
        if got is not None:
            doc, version = json.loads(got[0]) or {}, got[1]
            for capture, section in (doc.get("captures") or {}).items():
                found[capture] = {**section, "version": SEGMENT_VERSION, "capture": capture}
        old, files, vanished = 0, [], False
        for key in keys:
            if key == compacted:
                continue
            got = store.get_versioned(key)
            if got is None:
                vanished = True
                break
            doc = json.loads(got[0]) or {}
            if doc.get("version") != SEGMENT_VERSION:
                old += 1
                continue
            found[str(doc["capture"])] = doc
            files.append(key)
        if not vanished:
            return Day(found, old, files, version)
    raise StorageUnavailable(f"state/dedupe/dt={day}/ kept changing while it was read; retry")


def window_days(day: str, window: int) -> list[str]:
    """The days whose segments a batch of ``day`` must see: ``window`` days either side."""
    centre = date.fromisoformat(day)
    return [(centre + timedelta(days=d)).isoformat() for d in range(-window, window + 1)]


def entries_from_segment(doc: dict[str, object]) -> list[IndexEntry]:
    """Parse a stored segment (its entries are marked with their capture, or batch)."""
    batch = str(doc.get("capture") or doc.get("batch", ""))
    rows = doc.get("entries", [])
    assert isinstance(rows, list)
    return [IndexEntry(r[0], r[1], r[2], batch) for r in rows]


# --- near-duplicates ------------------------------------------------------------------------

MIN_SHINGLES = 12  # shorter texts (headlines, boilerplate stubs) stay singletons
JACCARD_MIN = 0.5
CONTAINMENT_MIN = 0.75
COMPARABLE = 0.4  # a contained text must be at least this share of the larger one
NEAR_VERSION = 2  # format of the "near" rows in stored segments
_PENDING_MAX = 1024  # rows added since the last merge into the sorted band arrays
_NO_TIME = -(1 << 62)  # order of an item without a seen_at: before any real time


@dataclass(frozen=True, slots=True)
class Match:
    """Why an item joined a cluster: the item it matched best, how closely, and whether that
    item was seen before it (else the match is a later copy, found first by a backfill)."""

    duplicate_of: str
    jaccard: float
    containment: float
    earlier: bool = True


def _micros(seen_at: str) -> int:
    """Order key of an ISO time: microseconds since the epoch (naive times read as UTC)."""
    if not seen_at:
        return _NO_TIME
    when = datetime.fromisoformat(seen_at)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_times(column: Any) -> tuple[list[str | None], list[int | None]]:
    """The ISO forms (as ``datetime.isoformat`` gives them: ``+00:00``, microseconds only
    when there are some) and the :func:`_micros` of an Arrow column of UTC timestamps in
    microseconds, without a Python ``datetime`` per value; a null stays None in both."""
    import pyarrow as pa

    micros = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    valid = np.asarray(column.is_valid(), dtype=bool)
    if valid.all():
        return list[str | None](_isos(micros)), micros.tolist()
    return ([iso if ok else None for iso, ok in zip(_isos(micros), valid.tolist(), strict=True)],
            [m if ok else None for m, ok in zip(micros.tolist(), valid.tolist(), strict=True)])


def _isos(micros: npt.NDArray[np.int64]) -> list[str]:
    """The ISO form of each :func:`_micros` value (none of them ``_NO_TIME``), as
    ``datetime.isoformat`` gives it, by numpy."""
    seconds = np.datetime_as_string(micros.astype("datetime64[us]"), unit="s").tolist()
    return [f"{at}+00:00" if not fraction else f"{at}.{fraction:06d}+00:00"
            for at, fraction in zip(seconds, (micros % 1_000_000).tolist(), strict=True)]


class NearDuplicateIndex:
    """MinHash/LSH index that assigns each added text to a cluster (first member's id).

    Candidates come from LSH bands (16 bands of 2 signature bins: a pair with a Jaccard of 0.5 is
    seen 99.0 % of the time, 0.6: 99.97 %, 0.4: 94 %); a candidate is a duplicate when the estimated Jaccard
    is at least 0.5, or when the smaller text is at least 75 % contained in the larger and at
    least 40 % of its size (a truncated copy, not a boilerplate blurb that appears inside many
    stories). A text that matches members of several clusters joins them (union-find; the
    earliest first member names the merged cluster).

    Memory: the index is columnar (numpy and ``array`` columns, no Python object per item):
    per item 128 signature bytes, 16 x 8 bytes of sorted band keys and row numbers, 8 bytes of
    seen time, 4 of cluster parent, 4 of shingle count and the id's bytes plus a 4-byte offset,
    about 260 bytes for a 16-character id (``python bench/dedupe.py`` measures it). Items added
    (not loaded) in this run also keep their row number (4 bytes) and, if they matched, a
    :class:`Match`.
    """

    def __init__(self) -> None:
        from ingest.minhash import NUM_PERM

        self._width = NUM_PERM
        self._sig = array("B")  # NUM_PERM bytes per row
        self._size = array("i")
        self._seen = array("q")
        self._parent = array("i")
        self._id_bytes = bytearray()
        self._id_end = array("I")
        # every indexed row's band keys as (band << 16 | key), sorted, with the rows beside
        self._band_keys = np.zeros(0, np.uint32)
        self._band_rows = np.zeros(0, np.uint32)
        self._pending_keys = array("H")  # BANDS keys per pending row
        self._pending_rows = array("I")
        self._added = array("I")  # rows added (not loaded)
        self.matches: dict[str, Match] = {}
        self.skipped_rows = 0
        self._checkpoint: tuple[int, array[int]] | None = None

    def __len__(self) -> int:
        return len(self._size)

    # -- rows ----------------------------------------------------------------------------------

    def _new_row(self, item_id: str, seen_us: int, size: int, signature: bytes | None) -> int:
        row = len(self._size)
        self._sig.frombytes(signature if signature is not None else bytes(self._width))
        self._size.append(size)
        self._seen.append(seen_us)
        self._parent.append(row)
        self._id_bytes += item_id.encode("utf-8")
        self._id_end.append(len(self._id_bytes))
        return row

    def _id(self, row: int) -> str:
        start = self._id_end[row - 1] if row else 0
        return self._id_bytes[start:self._id_end[row]].decode("utf-8")

    def _compact(self) -> None:
        """Drop the spare capacity of the columns (after a bulk load)."""
        for name in ("_sig", "_size", "_seen", "_parent", "_id_end"):
            column = getattr(self, name)
            setattr(self, name, array(column.typecode, column))
        self._id_bytes = bytearray(self._id_bytes)

    def _order(self, row: int) -> tuple[int, str, int]:
        """Sort key meaning "seen first": seen time, then id, so it never depends on how the
        index was filled (loaded or added, in which batch); items without a seen time keep
        their insertion order."""
        seen = self._seen[row]
        return (seen, "" if seen == _NO_TIME else self._id(row), row)

    def _find(self, row: int) -> int:
        parent = self._parent
        root = row
        while parent[root] != root:
            root = parent[root]
        while parent[row] != root:  # path compression
            parent[row], row = root, parent[row]
        return root

    def cluster_of(self, row: int) -> str:
        """The current cluster id of the item in ``row``."""
        return self._id(self._find(row))

    # -- LSH -----------------------------------------------------------------------------------

    def _index_rows(self, rows: npt.NDArray[np.int64], keys: npt.NDArray[np.uint16]) -> None:
        self._pending_keys.extend(keys.ravel().tolist())
        self._pending_rows.extend(rows.tolist())
        if len(self._pending_rows) >= _PENDING_MAX:
            self._merge()

    def _merge(self) -> None:
        """Fold the pending rows into the sorted band arrays (a merge of two sorted arrays)."""
        from ingest.minhash import BANDS

        if not self._pending_rows:
            return
        keys = np.array(self._pending_keys, dtype=np.uint32).reshape(-1, BANDS)
        rows = np.array(self._pending_rows, dtype=np.uint32)
        self._pending_keys, self._pending_rows = array("H"), array("I")
        flat = (keys | (np.arange(BANDS, dtype=np.uint32) << 16)).ravel()
        order = np.argsort(flat, kind="stable")
        new_keys, new_rows = flat[order], np.repeat(rows, BANDS)[order]
        at = np.searchsorted(self._band_keys, new_keys, "right")
        self._band_keys = np.insert(self._band_keys, at, new_keys)
        self._band_rows = np.insert(self._band_rows, at, new_rows)

    def _candidates(self, keys: npt.NDArray[np.uint16]) -> npt.NDArray[np.int64]:
        from ingest.minhash import BANDS

        found = []
        if self._band_keys.size:
            wanted = keys.astype(np.uint32) | (np.arange(BANDS, dtype=np.uint32) << 16)
            lo = np.searchsorted(self._band_keys, wanted, "left").tolist()
            hi = np.searchsorted(self._band_keys, wanted, "right").tolist()
            found = [self._band_rows[a:b] for a, b in zip(lo, hi, strict=True) if b > a]
        if self._pending_rows:
            pending = np.frombuffer(self._pending_keys, dtype=np.uint16).reshape(-1, keys.size)
            hits = np.flatnonzero((pending == keys).any(axis=1))
            del pending  # release the buffer before the array grows again
            if hits.size:
                found.append(np.array(self._pending_rows, dtype=np.uint32)[hits])
        if not found:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(found)).astype(np.int64)

    # -- public --------------------------------------------------------------------------------

    def add(self, item_id: str, text: str, seen_at: str = "") -> str:
        """Index one text and return its cluster id (its own id when it matches nothing).

        ``seen_at`` (ISO time) orders items when clusters merge (earliest first member names the
        cluster); without it, insertion order does. Ids must be distinct: the caller keeps
        repeats out (processing through the exact index, :func:`cluster` by keeping the first).
        """
        return self.cluster_of(self.add_row(item_id, text, seen_at))

    def add_row(self, item_id: str, text: str, seen_at: str = "") -> int:
        """:meth:`add`, returning the item's row (for :meth:`cluster_of` once all are added)."""
        from ingest.minhash import sketch

        return self.add_sketch(item_id, sketch(text), seen_at)

    def add_sketch(self, item_id: str, sk: Sketch, seen_at: str = "") -> int:
        """:meth:`add_row` for a text whose sketch was computed before (the extraction stage
        computes it, so the serial stage never reads texts)."""
        indexed = sk.size >= MIN_SHINGLES
        seen_us = _micros(seen_at)
        keys = sk.band_keys() if indexed else None
        candidates = self._candidates(keys) if keys is not None else np.zeros(0, np.int64)
        row = self._new_row(item_id, seen_us, sk.size, sk.to_bytes() if indexed else None)
        self._added.append(row)
        if keys is None:
            return row
        self._index_rows(np.array([row]), keys[None, :])
        if candidates.size:
            owner = np.zeros(candidates.size, np.int64)
            _, rows, jac, cont = self._hits(owner, candidates, sk.signature[None, :],
                                            np.array([sk.size]))
            self._join(row, item_id, seen_us, zip(rows.tolist(), jac.tolist(), cont.tolist(),
                                                  strict=True))
        return row

    def add_sketches(self, items: list[tuple[str, Sketch, str]]) -> list[str]:
        """:meth:`add_sketch` for each ``(id, sketch, seen_at)`` in order, with the same
        result; returns each item's cluster id as it was right after it was added.

        The candidate pairs (an item and an indexed row, or an item and an earlier item of
        this call, sharing a band key) are found and compared for all items at once (numpy);
        only the items that match something are then joined to their clusters one by one, in
        order, which is all that depends on the order."""
        from ingest.minhash import NUM_PERM

        sizes = np.array([sk.size for _, sk, _ in items], np.int64)
        sigs = np.zeros((len(items), NUM_PERM), np.uint8)
        indexed = np.flatnonzero(sizes >= MIN_SHINGLES)
        if indexed.size:
            sigs[indexed] = np.stack([items[i][1].signature for i in indexed.tolist()])
        return self.add_signatures([item_id for item_id, _, _ in items], sigs, sizes,
                                   [seen_at for _, _, seen_at in items])

    def add_signatures(self, ids: list[str], sigs: npt.NDArray[np.uint8],
                       sizes: npt.NDArray[np.int64], seen_at: list[str],
                       seen_us: list[int | None] | None = None) -> list[str]:
        """:meth:`add_sketches` of items given as columns: their ids, their signatures as one
        matrix (a row per item; an item with fewer than ``MIN_SHINGLES`` shingles is not
        indexed, whatever its row holds), their shingle counts and first-seen times (the
        serial stage builds the matrix from the staged bytes at once, with no sketch object
        per page); ``seen_us``: the same times as microseconds since the epoch, when the
        caller has them already."""
        from ingest.minhash import BANDS, band_keys

        self._merge()
        start, count = len(self), len(ids)
        signed = sizes >= MIN_SHINGLES
        indexed = np.flatnonzero(signed)
        sigs = np.where(signed[:, None], sigs, np.uint8(0))
        seen = ([_micros(when) for when in seen_at] if seen_us is None else
                [_micros(when) if us is None else us
                 for when, us in zip(seen_at, seen_us, strict=True)])
        # every item's row, as add_sketch appends them (rows start .. start+count-1)
        self._sig.frombytes(sigs.tobytes())
        self._size.extend(sizes.tolist())
        self._seen.extend(seen)
        self._parent.extend(range(start, start + count))
        for item_id in ids:
            self._id_bytes += item_id.encode("utf-8")
            self._id_end.append(len(self._id_bytes))
        self._added.extend(range(start, start + count))
        keys = band_keys(sigs[indexed]).astype(np.uint32) | (
            np.arange(BANDS, dtype=np.uint32) << 16)  # (indexed items, BANDS)
        flat = keys.ravel()
        owner_of_key = np.repeat(indexed, BANDS)
        # pairs with the rows indexed before this call
        lo = np.searchsorted(self._band_keys, flat, "left")
        hi = np.searchsorted(self._band_keys, flat, "right")
        counts = hi - lo
        at = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
        pairs = [(np.repeat(owner_of_key, counts), self._band_rows[at].astype(np.int64))]
        # pairs among the items of this call: an item and every earlier one in its key groups
        # (all groups at once: the element at position p of its group pairs with the p before
        # it; a stable sort keeps each group's owners ascending, and an item has one key per
        # band, so no owner is in a group twice)
        order = np.argsort(flat, kind="stable")
        grouped, members = flat[order], owner_of_key[order]
        firsts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        position = np.arange(grouped.size) - np.repeat(firsts, np.diff(np.r_[firsts,
                                                                              grouped.size]))
        later = np.repeat(np.arange(grouped.size), position)
        before = np.arange(later.size) - np.repeat(np.cumsum(position) - position, position)
        pairs.append((members[later], start + members[later - position[later] + before]))
        owners = np.concatenate([p[0] for p in pairs])
        rows = np.concatenate([p[1] for p in pairs])
        unique = np.unique((owners << 32) | rows)
        hits: dict[int, list[tuple[int, float, float]]] = {}
        for chunk_at in range(0, unique.size, 65536):  # bounded memory: 64k pairs at a time
            chunk = unique[chunk_at:chunk_at + 65536]
            who, other, jac, cont = self._hits(chunk >> 32, chunk & 0xFFFFFFFF, sigs, sizes)
            for w, r, j, c in zip(who.tolist(), other.tolist(), jac.tolist(), cont.tolist(),
                                  strict=True):
                hits.setdefault(w, []).append((r, j, c))
        clusters = list(ids)
        for item in sorted(hits):  # in order: an item joins what the earlier joins made
            row = start + item
            self._join(row, clusters[item], seen[item], hits[item])
            clusters[item] = self._id(self._find(row))
        self._pending_keys.extend((keys & 0xFFFF).astype(np.uint16).ravel().tolist())
        self._pending_rows.extend((start + indexed).tolist())
        self._merge()
        return clusters

    def _hits(self, owner: npt.NDArray[np.int64], rows: npt.NDArray[np.int64],
              sigs: npt.NDArray[np.uint8], sizes: npt.NDArray[np.int64]
              ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                         npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Which (item ``owner``, indexed ``row``) pairs are near-duplicates: the arithmetic
        of ``jaccard_of_agreement`` and ``containment``, element-wise. Returns the pairs that
        pass, with their Jaccard and containment estimates."""
        from ingest.minhash import CHANCE

        matrix = np.frombuffer(self._sig, dtype=np.uint8).reshape(-1, self._width)
        agree = (matrix[rows] == sigs[owner]).sum(axis=1) / self._width
        del matrix
        jac = np.maximum(0.0, (agree - CHANCE) / (1.0 - CHANCE))
        mine = sizes[owner].astype(np.float64)
        theirs = np.frombuffer(self._size, dtype=np.int32)[rows].astype(np.float64)
        smaller = np.minimum(theirs, mine)
        with np.errstate(divide="ignore", invalid="ignore"):
            cont = np.where(theirs > 0, np.minimum(
                1.0, jac * (mine + theirs) / (1.0 + jac) / smaller), 0.0)
        comparable = smaller >= COMPARABLE * np.maximum(theirs, mine)
        ok = np.flatnonzero((jac >= JACCARD_MIN) | ((cont >= CONTAINMENT_MIN) & comparable))
        return owner[ok], rows[ok], jac[ok], cont[ok]

    def _join(self, row: int, item_id: str, seen_us: int,
              hits: Iterable[tuple[int, float, float]]) -> None:
        """Put a new item into the clusters of the items it matches (``(row, jaccard,
        containment)``); the best match (highest score, then seen first) is its ``Match``."""
        best: tuple[float, int, float, float] | None = None
        roots: set[int] = set()
        seen = self._seen
        for other, jac, cont in hits:
            roots.add(self._find(other))
            score = max(jac, cont)
            if best is None or score > best[0] or (score == best[0] and (
                    seen[other] < seen[best[1]] if seen[other] != seen[best[1]]
                    else self._order(other) < self._order(best[1]))):
                best = (score, other, jac, cont)
        if best is None:
            return
        _, other, best_jac, best_cont = best
        other_id = self._id(other)
        earlier = (self._seen[other], other_id) < (seen_us, item_id)
        self.matches[item_id] = Match(other_id, round(best_jac, 3), round(best_cont, 3), earlier)
        first = min(roots | {row}, key=self._order)
        for root in roots | {row}:
            self._parent[root] = first

    def begin_batch(self) -> None:
        """Start a batch on an index that is kept for a whole run: forget the previous batch's
        added items and matches, and remember the cluster structure (see :meth:`settle`)."""
        self._added = array("I")
        self.matches = {}
        self._checkpoint = (len(self), array("i", self._parent))

    def settle(self) -> None:
        """After a batch's segment is written: make the index what loading the stored
        segments would give (:meth:`load_rows`), so the next batch of the run is decided
        exactly as if the index had been read again. Loading links each item to the cluster id
        stored with it; adding merges clusters of items added before. So the earlier items'
        cluster structure is put back as it was at :meth:`begin_batch`, and each item of the
        batch points at its cluster's first member as its segment row says. (That first member
        was a cluster root already, or is an item of the batch: a merge only ever puts roots
        under another root.)"""
        if self._checkpoint is None:
            return
        start, parent = self._checkpoint
        roots = [self._find(row) for row in range(start, len(self))]
        parent.extend(roots)
        self._parent, self._checkpoint = parent, None

    def segment_rows(self) -> list[list[object]]:
        """The items added by this index (not loaded ones), for the stored segment:
        ``[id, seen_at, cluster_id, size, base64 signature]``."""
        size, width = self._size, self._width
        signed = [row for row in self._added if size[row] >= MIN_SHINGLES]
        seen = np.frombuffer(self._seen, dtype=np.int64)[signed]
        timed = seen != _NO_TIME
        isos = iter(_isos(seen[timed]))
        rows: list[list[object]] = [
            [self._id(row), next(isos) if has_time else "", self._id(self._find(row)), size[row],
             base64.b64encode(self._sig[row * width:(row + 1) * width]).decode()]
            for row, has_time in zip(signed, timed.tolist(), strict=True)]
        return sorted(rows, key=lambda r: (str(r[1]), str(r[0])))

    def load_rows(self, rows: Iterable[list[Any]]) -> None:
        """Load rows written by :meth:`segment_rows` (of every segment in the window, at once).

        A row that repeats an id already loaded is ignored; a cluster whose first member is
        outside the window keeps its id through a placeholder row that matches nothing. Rows
        whose signature has another format (an older index version) are counted in
        ``skipped_rows`` and left out.
        """
        from ingest.minhash import NUM_PERM, band_keys

        rows_of: dict[str, int] = {}
        placeholders: set[str] = set()
        start = len(self)
        for item_id, seen_at, cluster_id, size, sig64 in rows:
            if item_id in rows_of and item_id not in placeholders:
                continue
            sig = base64.b64decode(sig64)
            if len(sig) != NUM_PERM:
                self.skipped_rows += 1
                continue
            seen_us = _micros(seen_at)
            root = rows_of.get(cluster_id)
            if root is None and cluster_id != item_id:
                root = rows_of[cluster_id] = self._new_row(cluster_id, seen_us, 0, None)
                placeholders.add(cluster_id)
            if item_id in placeholders:  # a first member listed after its cluster's members
                placeholders.discard(item_id)
                row = rows_of[item_id]
                self._sig[row * self._width:(row + 1) * self._width] = array("B", sig)
                self._size[row], self._seen[row] = int(size), seen_us
            else:
                row = rows_of[item_id] = self._new_row(item_id, seen_us, int(size), sig)
            if root is not None and self._find(root) != row:
                self._parent[self._find(row)] = self._find(root)
        if len(self) > start:
            matrix = np.frombuffer(self._sig, dtype=np.uint8).reshape(-1, self._width)
            new = np.arange(start, len(self))
            new = new[np.frombuffer(self._size, dtype=np.int32)[start:] >= MIN_SHINGLES]
            keys = band_keys(matrix[new])
            del matrix
            self._index_rows(new, keys)
            self._merge()
            self._compact()


def cluster(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Cluster ``(id, text)`` items: id -> cluster id (the id of the cluster's first member).

    Items are taken in the order given ("first seen"); empty, one-word and boilerplate-only
    texts become singletons; an id given twice keeps its first text and cluster.
    """
    index = NearDuplicateIndex()
    rows: dict[str, int] = {}
    for item_id, text in items:
        if item_id not in rows:
            rows[item_id] = index.add_row(item_id, text)
    return {item_id: index.cluster_of(row) for item_id, row in rows.items()}
