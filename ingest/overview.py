"""What the News view in the Airflow UI shows: feed health, coverage, completeness and runs, read
from what the pipeline writes (poll reports and polling state in the raw bucket; completeness
reports, run manifests and the articles table in the processed bucket).

No Airflow here: ``plugins/news_view`` serves these answers over HTTP. Everything is cached
briefly (``ttl`` seconds); reports are re-read only when a listing shows them changed (ETag),
and the table is read through ``ingest.query`` as one aggregate per day range (rows per day,
region, feed and source), never row by row. Every method is synchronous and thread-safe; the
web layer calls them off its event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast

from ingest import completeness, table
from ingest.config import Catalog, Settings
from ingest.errors import IngestError
from ingest.poll import state_key
from ingest.storage import ObjectStore, Stores

log = logging.getLogger(__name__)
T = TypeVar("T")

HEALTH_WINDOW = timedelta(hours=24)
SPARK_DAYS = 7
COVERAGE_DAYS = 30
GRID_DAYS = 14
MAX_RANGE_DAYS = 366
RUNS = 20
TOP_SOURCES = 10
_READERS = 16  # parallel GETs when many reports changed at once

# One aggregate per day range; every figure of the view that comes from the table is a sum of
# its rows. The coverage figures equal ``COVERAGE_SQL`` (shown to users, checked by the tests).
SUMMARY_SQL = """
SELECT dt, region, feed_id, source_domain, count(*) AS articles,
       count(*) FILTER (WHERE NOT is_canonical) AS near_duplicates
FROM articles WHERE dt BETWEEN ? AND ? GROUP BY ALL
"""
COVERAGE_SQL = ("SELECT dt, region, count(*) AS articles FROM articles "
                "WHERE dt BETWEEN '{start}' AND '{end}' GROUP BY ALL ORDER BY dt, region")


class RangeError(ValueError):
    """A day range a user asked for that cannot be served (bad date, reversed, too long)."""


def day_range(start: str | None, end: str | None, default_days: int,
              today: date) -> tuple[date, date]:
    """The inclusive day range of a request: ``end`` defaults to today, ``start`` to
    ``default_days`` before it; ``RangeError`` says what is wrong with a bad one."""
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=default_days - 1)
    except ValueError:
        raise RangeError(f"dates must be YYYY-MM-DD (got start={start!r}, end={end!r})") from None
    if first > last:
        raise RangeError(f"start {first} is after end {last}")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise RangeError(f"at most {MAX_RANGE_DAYS} days at once ({first} to {last} asked)")
    return first, last


def days_of(first: date, last: date) -> list[str]:
    """Every day from ``first`` to ``last`` inclusive, as YYYY-MM-DD."""
    return [str(first + timedelta(days=i)) for i in range((last - first).days + 1)]


@dataclass
class _Doc:
    key: str
    etag: str
    modified: datetime
    body: Any


class _Reports:
    """JSON objects under a prefix, read once and again only when their ETag changes."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.docs: dict[str, _Doc] = {}
        self.lock = threading.Lock()

    def under(self, prefixes: Iterable[str]) -> list[_Doc]:
        """Every object under the prefixes, current as of one listing each."""
        listed = [item for prefix in prefixes for item in self.store.list_info(prefix)]
        with self.lock:
            stale = [(k, e, m) for k, e, m in listed
                     if k not in self.docs or self.docs[k].etag != e]
        if stale:
            with ThreadPoolExecutor(min(_READERS, len(stale))) as pool:
                bodies = list(pool.map(lambda item: self._read(item[0]), stale))
            with self.lock:
                for (key, etag, modified), body in zip(stale, bodies, strict=True):
                    self.docs[key] = _Doc(key, etag, modified, body)
        with self.lock:
            return [self.docs[k] for k, _e, _m in listed if k in self.docs]

    def _read(self, key: str) -> Any:
        try:
            return self.store.get_json(key, {}) or {}
        except (IngestError, ValueError) as exc:  # a damaged report must not hide the others
            log.warning("overview: cannot read %s: %s", self.store.uri(key), exc)
            return {"unreadable": str(exc)}


class Overview:
    """The four screens of the News view, each one method returning JSON-ready data."""

    def __init__(self, settings: Settings, stores: Stores, catalog: Catalog, ttl: float = 30.0,
                 clock: Callable[[], datetime] | None = None,
                 connect: Callable[[Settings], Any] | None = None) -> None:
        self.settings = settings
        self.stores = stores
        self.catalog = catalog
        self.ttl = ttl
        self.clock = clock or (lambda: datetime.now(UTC))
        self._connect = connect
        self._con: Any = None
        self._query_lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._cache_lock = threading.Lock()
        self._poll = _Reports(stores.raw)
        self._complete = _Reports(stores.processed)
        self._runs = _Reports(stores.processed)

    # -- caching -------------------------------------------------------------------------
    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit and hit[0] > now:
                return cast(T, hit[1])
        value = compute()
        with self._cache_lock:
            self._cache[key] = (now + self.ttl, value)
        return value

    def today(self) -> date:
        """The current UTC day."""
        return self.clock().astimezone(UTC).date()

    # -- the table -----------------------------------------------------------------------
    def summary(self, first: date, last: date) -> list[dict[str, Any]]:
        """Articles and near-duplicates per (day, region, feed, source) from ``first`` to
        ``last``: one aggregate query, cached."""
        return self._cached(("summary", first, last), lambda: self._summary(first, last))

    def _query(self, sql: str, params: list[Any]) -> list[Any]:
        """Rows of a query over the ``articles`` view ([] before the table exists)."""
        import duckdb

        with self._query_lock:  # one DuckDB connection, used by one thread at a time
            try:
                if self._con is None:  # its view needs the table: made once it exists
                    from ingest.query import connect
                    self._con = (self._connect or connect)(self.settings)
                return list(self._con.execute(sql, params).fetchall())
            except duckdb.Error:
                if table.open_table(self.settings) is None:
                    return []  # nothing processed yet
                raise

    def _summary(self, first: date, last: date) -> list[dict[str, Any]]:
        rows = self._query(SUMMARY_SQL, [str(first), str(last)])
        return [{"dt": dt, "region": region, "feed_id": feed, "source": source,
                 "articles": int(n), "near_duplicates": int(near)}
                for dt, region, feed, source, n, near in rows]

    # -- feed health ---------------------------------------------------------------------
    def feeds(self) -> dict[str, Any]:
        """One row per enabled catalog feed, failing feeds first."""
        return self._cached(("feeds",), self._feeds)

    def _poll_docs(self, days: int = 2) -> list[_Doc]:
        """Live poll reports of the last ``days`` interval days, oldest poll first."""
        today = self.today()
        prefixes = [f"reports/poll/dt={today - timedelta(days=i)}/" for i in range(days)]
        docs = [d for d in self._poll.under(prefixes) if isinstance(d.body, dict)]
        return sorted(docs, key=lambda d: (_polled_at(d), d.key))

    def _feeds(self) -> dict[str, Any]:
        now = self.clock()
        since = now - HEALTH_WINDOW
        docs = self._poll_docs()
        states = {g: self.stores.raw.get_json(state_key(g), {}) or {}
                  for g in self.catalog.groups()}
        spark_first = self.today() - timedelta(days=SPARK_DAYS - 1)
        spark_days = days_of(spark_first, self.today())
        per_day: dict[tuple[str, str], int] = {}
        for row in self.summary(spark_first, self.today()):
            k = (row["feed_id"], row["dt"])
            per_day[k] = per_day.get(k, 0) + row["articles"]
        rows = []
        for feed in self.catalog.enabled():
            fs = (states.get(feed.group, {}).get("feeds") or {}).get(feed.id, {})
            polls = [(d, f) for d in docs for f in d.body.get("feeds", [])
                     if f.get("feed_id") == feed.id and f.get("mode", "live") == "live"]
            recent = [(d, f) for d, f in polls if _polled_at(d) >= since]
            last_doc, last = polls[-1] if polls else (None, {})
            answered = [f for _d, f in recent if f.get("status") != "error"]
            missed = [_polled_at(d) for i, (d, f) in enumerate(recent)
                      if (i > 0 or len(polls) > len(recent)) and f.get("entries", 0) > 0
                      and f.get("new_entries", 0) >= f.get("entries", 0)]
            rows.append({
                "feed_id": feed.id, "publisher": feed.publisher, "group": feed.group,
                "url": feed.url, "language": feed.language,
                "title": next((f.get("title") for _d, f in reversed(polls) if f.get("title")),
                              ""),
                "last_poll": _iso(_polled_at(last_doc)) if last_doc else None,
                "last_status": last.get("status") if last_doc else "not polled",
                "last_error": last.get("error", "") if last_doc else "",
                "failures": int(fs.get("failures", 0)),
                "last_ok": fs.get("last_ok"),
                "polls_24h": len(recent),
                "entries_24h": sum(int(f.get("entries") or 0) for _d, f in recent),
                "new_entries_24h": sum(int(f.get("new_entries") or 0) for _d, f in recent),
                "pages_fetched_24h": sum(int(f.get("pages_ok") or 0) for _d, f in recent),
                "pages_failed_24h": sum(int(f.get("pages_failed") or 0) for _d, f in recent),
                "not_modified_share": (round(sum(f.get("http_status") == 304 for f in answered)
                                             / len(answered), 3) if answered else None),
                "articles_per_day": [per_day.get((feed.id, d), 0) for d in spark_days],
                "may_have_missed": bool(missed),
                "missed_at": [_iso(m) for m in missed],
                "backlog": len(fs.get("pending", [])),
                "report": last_doc.key if last_doc else None,
            })
        rows.sort(key=lambda r: (-_failing(r), -r["failures"], r["feed_id"]))
        return {"generated_at": _iso(now), "window_hours": HEALTH_WINDOW.total_seconds() / 3600,
                "spark_days": spark_days, "feeds": rows,
                "failing": sum(_failing(r) for r in rows)}

    def feed_report(self, feed_id: str) -> dict[str, Any] | None:
        """The feed's entry in its latest poll report, with the report's key and times; None
        for a feed the catalog does not have."""
        if feed_id not in {f.id for f in self.catalog.feeds}:
            return None
        for doc in reversed(self._poll_docs(days=7)):
            for feed in doc.body.get("feeds", []):
                if feed.get("feed_id") == feed_id:
                    return {"feed_id": feed_id, "report": doc.key,
                            "uri": self.stores.raw.uri(doc.key), "group": doc.body.get("group"),
                            "interval": doc.body.get("interval"),
                            "polled_at": _iso(_polled_at(doc)), "outcome": feed}
        return {"feed_id": feed_id, "report": None, "outcome": None,
                "message": "no poll report of this feed in the last 7 days"}

    # -- coverage ------------------------------------------------------------------------
    def coverage_range(self, start: str | None, end: str | None) -> tuple[date, date]:
        """The days a coverage request covers: as asked, else the ``COVERAGE_DAYS`` days up
        to the newest day with articles (today at the latest; a backfilled past or the
        offline sample shows its data rather than an empty month)."""
        anchor = self.today()
        if not end:
            newest = self.newest_day()
            anchor = min(anchor, newest) if newest else anchor
        return day_range(start, end, COVERAGE_DAYS, anchor)

    def newest_day(self) -> date | None:
        """The latest ``dt`` of the table (partition values only), or None when empty."""
        def compute() -> date | None:
            found = self._query("SELECT max(dt) FROM articles", [])
            return date.fromisoformat(found[0][0]) if found and found[0][0] else None
        return self._cached(("newest",), compute)

    def coverage(self, first: date, last: date) -> dict[str, Any]:
        """Articles per region per day, near-duplicate share per day and the top sources."""
        return self._cached(("coverage", first, last), lambda: self._coverage(first, last))

    def _coverage(self, first: date, last: date) -> dict[str, Any]:
        days = days_of(first, last)
        per: dict[str, dict[str, int]] = {d: {} for d in days}
        near = dict.fromkeys(days, 0)
        sources: dict[str, int] = {}
        for row in self.summary(first, last):
            cell = per.setdefault(row["dt"], {})
            cell[row["region"]] = cell.get(row["region"], 0) + row["articles"]
            near[row["dt"]] = near.get(row["dt"], 0) + row["near_duplicates"]
            sources[row["source"]] = sources.get(row["source"], 0) + row["articles"]
        regions = sorted({r for cell in per.values() for r in cell})
        totals = {d: sum(per[d].values()) for d in days}
        return {
            "start": str(first), "end": str(last), "days": days, "regions": regions,
            "articles": {d: {r: per[d].get(r, 0) for r in regions} for d in days},
            "totals": totals, "total": sum(totals.values()),
            "near_duplicates": near,
            "near_duplicate_share": {d: (round(near[d] / totals[d], 4) if totals[d] else None)
                                     for d in days},
            "top_sources": [{"source": s, "articles": n} for s, n in
                            sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_SOURCES]],
            "sql": COVERAGE_SQL.format(start=first, end=last),
        }

    # -- completeness --------------------------------------------------------------------
    def completeness_range(self, start: str | None, end: str | None) -> tuple[date, date]:
        """The days a completeness request covers: as asked, else the last ``GRID_DAYS``."""
        return day_range(start, end, GRID_DAYS, self.today())

    def completeness(self, first: date, last: date) -> dict[str, Any]:
        """A days x feeds grid: ``complete`` when every interval of the day was, ``partial``
        when one was not, ``missing`` when no report of the day names the feed."""
        return self._cached(("completeness", first, last),
                            lambda: self._completeness(first, last))

    def _completeness(self, first: date, last: date) -> dict[str, Any]:
        days = days_of(first, last)
        docs = self._complete.under(completeness.report_key(d, "")[:-len(".json")]
                                    for d in days)
        cells: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in docs:
            day = doc.key.split("dt=", 1)[1][:10]
            for row in doc.body.get("feeds", []) if isinstance(doc.body, dict) else []:
                cell = cells.setdefault((row.get("feed_id", ""), day),
                                        {"intervals": 0, "incomplete": 0, "fetch_failed": 0,
                                         "extracted": 0})
                cell["intervals"] += 1
                cell["incomplete"] += not row.get("complete")
                cell["fetch_failed"] += int(row.get("fetch_failed") or 0)
                cell["extracted"] += int(row.get("extracted") or 0)
        feeds = [f.id for f in self.catalog.enabled()]
        feeds += sorted({f for f, _d in cells} - set(feeds))
        grid: dict[str, dict[str, dict[str, Any]]] = {}
        for feed in feeds:
            grid[feed] = {}
            for day in days:
                found = cells.get((feed, day))
                status = ("missing" if found is None else
                          "partial" if found["incomplete"] else "complete")
                grid[feed][day] = {"status": status, **(found or {})}
        gaps = [d for d in days if any(grid[f][d]["status"] != "complete" for f in feeds)]
        return {"start": str(first), "end": str(last), "days": days, "feeds": feeds,
                "grid": grid, "days_with_gaps": gaps,
                "backfill": backfill_command(gaps[0], gaps[-1]) if gaps else None}

    # -- runs ----------------------------------------------------------------------------
    def runs(self, limit: int = RUNS, days: int = 7) -> dict[str, Any]:
        """The latest processing manifests (newest first), summarised."""
        return self._cached(("runs", limit, days), lambda: self._runs_of(limit, days))

    def _runs_of(self, limit: int, days: int) -> dict[str, Any]:
        today = self.today()
        docs = self._runs.under(f"runs/dt={today - timedelta(days=i)}/" for i in range(days))
        latest = sorted(docs, key=lambda d: (d.modified, d.key), reverse=True)[:limit]
        runs = []
        for doc in latest:
            body = doc.body if isinstance(doc.body, dict) else {}
            reasons: dict[str, int] = {}
            for skip in body.get("skipped", []):
                reason = str(skip.get("reason", "unknown"))
                reasons[reason] = reasons.get(reason, 0) + 1
            runs.append({
                "manifest": doc.key, "written_at": _iso(doc.modified),
                "batch": body.get("batch"), "day": body.get("day"),
                "captures": body.get("captures", []), "counts": body.get("counts", {}),
                "regions": body.get("regions", {}),
                "skipped": len(body.get("skipped", [])), "skip_reasons": reasons,
                "skipped_examples": body.get("skipped", [])[:10],
                "errors": body.get("errors", [])[:50], "error_count": len(body.get("errors", [])),
                "unreadable": body.get("unreadable"),
            })
        return {"runs": runs}


def backfill_command(first: str, last: str) -> str:
    """The CLI command that backfills the poll DAG over the days ``first`` to ``last``."""
    end = date.fromisoformat(last) + timedelta(days=1)
    return (f"airflow backfill create --dag-id news_poll --from-date {first} "
            f"--to-date {end} --reprocess-behavior failed")


def _polled_at(doc: _Doc | None) -> datetime:
    if doc is None:
        return datetime.min.replace(tzinfo=UTC)
    stamp = doc.body.get("finished_at") if isinstance(doc.body, dict) else None
    if stamp:
        try:
            return datetime.fromisoformat(stamp).astimezone(UTC)
        except ValueError:
            pass
    return doc.modified.astimezone(UTC)


def _failing(row: dict[str, Any]) -> int:
    return int(row["failures"] > 0 or row["last_status"] == "error")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
