"""What the News view in the Airflow UI shows: feed health, coverage, completeness and runs, read
from what the pipeline writes (poll reports and polling state in the raw bucket; completeness
reports, run manifests and the articles table in the processed bucket).

No Airflow here: ``plugins/news_view`` serves these answers over HTTP. Answers are never more
than ``ttl`` seconds old, and those asked for lately are recomputed in the background;
reports are re-read only when a listing shows them changed (ETag); the table is read through
``ingest.query`` as a summary per day (rows per day, region, feed and source), each day read
again only when the table's log shows its files changed, never row by row per page view. Every
method is synchronous and thread-safe; the web layer calls them off its event loop.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast

from ingest import completeness, dataset, table
from ingest.config import Catalog, Settings
from ingest.errors import IngestError
from ingest.poll import STATES, state_group
from ingest.storage import ObjectStore, Stores

log = logging.getLogger(__name__)
T = TypeVar("T")

HEALTH_WINDOW = timedelta(hours=24)
SPARK_DAYS = 7
COVERAGE_DAYS = 30
GRID_DAYS = 14
REPORT_DAYS = 7  # how far back a feed's latest poll report is looked for
KEEP_WARM = 600.0  # seconds an answer is kept fresh in the background after it was asked for
MAX_RANGE_DAYS = 366
RUNS = 20
TOP_SOURCES = 10
_READERS = 16  # parallel GETs when many reports changed at once
MAX_DOCS = 20_000  # reports kept in memory per kind (a year of hourly intervals is 8,760)

# One aggregate per day range; every figure of the view that comes from the table is a sum of
# its rows. The coverage figures equal ``COVERAGE_SQL`` (shown to users, checked by the tests).
SUMMARY_SQL = """
SELECT dt, region, feed_id, source_domain, count(*) AS articles,
       count(*) FILTER (WHERE NOT is_canonical) AS near_duplicates
FROM articles WHERE dt IN ({days}) GROUP BY ALL
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

    def __init__(self, store: ObjectStore, keep: int = MAX_DOCS) -> None:
        self.store = store
        self.docs: OrderedDict[str, _Doc] = OrderedDict()  # least recently listed first
        self.keep = keep
        self.lock = threading.Lock()

    def under(self, prefixes: Iterable[str],
              pick: Callable[[list[tuple[str, str, datetime]]], list[tuple[str, str, datetime]]]
              | None = None) -> list[_Doc]:
        """Every object under the prefixes (or those ``pick`` chooses from the listing),
        current as of one listing each."""
        return self._current([item for prefix in prefixes
                              for item in self.store.list_info(prefix)], pick)

    def days(self, root: str, first: date, last: date,
             pick: Callable[[list[tuple[str, str, datetime]]], list[tuple[str, str, datetime]]]
             | None = None) -> list[_Doc]:
        """Like :meth:`under` for the objects of the days from ``first`` to ``last`` under
        ``root`` (keys ``<root>dt=<day>/...``), in one listing that starts at the first day
        and stops after the last, instead of one listing a day."""
        # (after "<root>dt=<first>/", the slash included: SeaweedFS, unlike S3, skips a whole
        # folder when the listing starts after its name without it)
        start, stop = f"{root}dt={first}/", f"{root}dt={last + timedelta(days=1)}"
        slash = len(start) - 1  # where a day folder's name ends
        listed = itertools.takewhile(lambda item: item[0] < stop,
                                     self.store.list_info(root, start_after=start))
        return self._current([item for item in listed
                              if item[0] > start and item[0].startswith("/", slash)], pick)

    def _current(self, listed: list[tuple[str, str, datetime]],
                 pick: Callable[[list[tuple[str, str, datetime]]],
                                list[tuple[str, str, datetime]]] | None) -> list[_Doc]:
        if pick is not None:
            listed = pick(listed)
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
            found = [self.docs[k] for k, _e, _m in listed if k in self.docs]
            for doc in found:
                self.docs.move_to_end(doc.key)
            while len(self.docs) > max(self.keep, len(found)):  # a long-running API server
                self.docs.popitem(last=False)
            return found

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
                 connect: Callable[[Settings], Any] | None = None,
                 refresh: bool = True) -> None:
        self.settings = settings
        self.stores = stores
        self.catalog = catalog
        self.ttl = ttl
        self.clock = clock or (lambda: datetime.now(UTC))
        self._connect = connect
        self._con: Any = None
        self._delta: Any = None  # the table (deltalake), kept open for its file list
        self._days: dict[str, tuple[frozenset[str], list[dict[str, Any]]]] = {}
        self._query_lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._cache_lock = threading.Lock()
        self._asked: dict[tuple[Any, ...], tuple[float, Callable[[], Any]]] = {}
        self._refresher: threading.Thread | None = None
        self.refresh = refresh
        self._warming = threading.local()
        self._poll = _Reports(stores.raw)
        self._complete = _Reports(stores.processed)
        self._runs = _Reports(stores.processed)
        self._states = _Reports(stores.raw)

    # -- caching -------------------------------------------------------------------------
    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``, never more than ``ttl`` seconds old. A background thread recomputes
        the answers asked for in the last ``KEEP_WARM`` seconds every ``ttl / 3`` seconds, so
        a request waits only for an answer nobody asked for lately."""
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
            if not getattr(self._warming, "on", False):
                self._asked[key] = (now, compute)
                self._start_refresher()
            if hit and hit[0] > now:
                return cast(T, hit[1])
        value = compute()
        with self._cache_lock:
            self._cache[key] = (now + self.ttl, value)
        return value

    def warm(self) -> None:
        """The four screens' first answers computed into the cache (what a page view asks
        first), without keeping them fresh in the background: that is for answers someone
        asked for, so a deployment nobody looks at does not read its reports every
        ``ttl / 3`` seconds."""
        self._warming.on = True
        try:
            self.feeds()
            self.runs()
            self.completeness(*self.completeness_range(None, None))
            self.coverage(*self.coverage_range(None, None))
        finally:
            self._warming.on = False

    def _start_refresher(self) -> None:
        if self.refresh and self._refresher is None:
            self._refresher = threading.Thread(target=self._refresh_loop, daemon=True,
                                               name="news-view-refresh")
            self._refresher.start()

    def _refresh_loop(self) -> None:
        while True:
            time.sleep(self.ttl / 3)
            now = time.monotonic()
            with self._cache_lock:
                for key in [k for k, (at, _) in self._asked.items() if now - at > KEEP_WARM]:
                    del self._asked[key]
                due = list(self._asked.items())
            for key, (_at, compute) in due:
                started = time.monotonic()
                try:
                    value = compute()
                except Exception:  # the last answer stays until it expires
                    log.exception("overview: refreshing %s failed", key[0])
                    continue
                with self._cache_lock:
                    self._cache[key] = (started + self.ttl, value)

    def today(self) -> date:
        """The current UTC day."""
        return self.clock().astimezone(UTC).date()

    # -- the table -----------------------------------------------------------------------
    def summary(self, first: date, last: date) -> list[dict[str, Any]]:
        """Articles and near-duplicates per (day, region, feed, source) from ``first`` to
        ``last``. Kept per day: a day is read from the table again only when its files
        changed (a commit, a rebuild or a compaction touched it), so a new range or a year
        asks the table only for the days not read before."""
        files = self._day_files()
        wanted = [d for d in days_of(first, last) if d in files]
        with self._cache_lock:
            stale = [d for d in wanted if self._days.get(d, (None, []))[0] != files[d]]
        if stale:
            marks = ", ".join("?" * len(stale))
            found: dict[str, list[dict[str, Any]]] = {d: [] for d in stale}
            for dt, region, feed, source, n, near in self._query(
                    SUMMARY_SQL.format(days=marks), stale):
                if dt in found:
                    found[dt].append({"dt": dt, "region": region, "feed_id": feed,
                                      "source": source, "articles": int(n),
                                      "near_duplicates": int(near)})
            with self._cache_lock:
                for day in stale:
                    self._days[day] = (files[day], found[day])
        with self._cache_lock:
            return [row for day in wanted for row in self._days[day][1]]

    def _day_files(self) -> dict[str, frozenset[str]]:
        """The data files of each day in the table's current version (from its log: the
        table is kept open and only new log entries are read)."""
        import pyarrow as pa

        with self._query_lock:
            if self._delta is None:
                self._delta = table.open_table(self.settings)
                if self._delta is None:
                    return {}
            else:
                self._delta.update_incremental()
            actions = pa.table(self._delta.get_add_actions(flatten=True))
        by_day: dict[str, set[str]] = {}
        for path, day in zip(actions.column("path").to_pylist(),
                             actions.column("partition.dt").to_pylist(), strict=True):
            by_day.setdefault(day, set()).add(path)
        return {day: frozenset(paths) for day, paths in by_day.items()}

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


    # -- feed health ---------------------------------------------------------------------
    def feeds(self) -> dict[str, Any]:
        """One row per enabled catalog feed, failing feeds first."""
        return self._cached(("feeds",), self._feeds)

    def _poll_docs(self, day: date, since: datetime | None = None) -> list[_Doc]:
        """Poll reports of one interval day, oldest poll first: with ``since``, only those
        written after it, and each group's latest (its last poll, however old)."""
        def recent(listed: list[tuple[str, str, datetime]]) -> list[tuple[str, str, datetime]]:
            if since is None:
                return listed
            latest: dict[str, tuple[str, str, datetime]] = {}
            for item in listed:
                group = item[0].rsplit("/", 1)[-1]
                if group not in latest or item[2] > latest[group][2]:
                    latest[group] = item
            keep = {item[0] for item in latest.values()}
            return [item for item in listed if item[2] >= since or item[0] in keep]

        docs = self._poll.under([f"reports/poll/dt={day}/"], pick=recent)
        return sorted((d for d in docs if isinstance(d.body, dict)),
                      key=lambda d: (_polled_at(d), d.key))

    def _feeds(self) -> dict[str, Any]:
        now = self.clock()
        since = now - HEALTH_WINDOW
        spark_first = self.today() - timedelta(days=SPARK_DAYS - 1)
        spark_days = days_of(spark_first, self.today())
        # the table query (DuckDB, which leaves the GIL) runs while the reports are read
        with ThreadPoolExecutor(1) as pool:
            summary = pool.submit(self.summary, spark_first, self.today())
            # a poll finishing just before the window tells whether the first in it missed
            docs = sorted((d for i in (1, 0) for d in self._poll_docs(
                self.today() - timedelta(days=i), since - timedelta(hours=2))),
                key=lambda d: (_polled_at(d), d.key))
            # the groups' polling states: one listing, and a GET only for those that changed
            # since the last refresh (not one GET a group every time)
            states = {group: d.body for d in self._states.under([STATES])
                      if isinstance(d.body, dict) and (group := state_group(d.key))}
            summary_rows = summary.result()
        per_day: dict[tuple[str, str], int] = {}
        for row in summary_rows:
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
        group = next(f.group for f in self.catalog.feeds if f.id == feed_id)
        for back in range(REPORT_DAYS):  # newest day first; usually found today
            day = self.today() - timedelta(days=back)
            for doc in reversed(self._poll_docs(day)):
                if not doc.key.endswith(f"/{group}.json") and doc.body.get("group") != group:
                    continue
                for feed in doc.body.get("feeds", []):
                    if feed.get("feed_id") == feed_id:
                        return {"feed_id": feed_id, "report": doc.key,
                                "uri": self.stores.raw.uri(doc.key),
                                "group": doc.body.get("group"),
                                "interval": doc.body.get("interval"),
                                "polled_at": _iso(_polled_at(doc)), "outcome": feed}
        return {"feed_id": feed_id, "report": None, "outcome": None,
                "message": f"no poll report of this feed in the last {REPORT_DAYS} days"}

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
        """The latest ``dt`` of the table (from its log), or None when it is empty."""
        days = self._day_files()
        return date.fromisoformat(max(days)) if days else None

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
        docs = self._complete.days(completeness.ROOT, first, last)
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
        def newest(listed: list[tuple[str, str, datetime]]) -> list[tuple[str, str, datetime]]:
            return sorted(listed, key=lambda item: (item[2], item[0]), reverse=True)[:limit]

        docs = self._runs.days(dataset.MANIFESTS, today - timedelta(days=days - 1), today,
                               pick=newest)
        runs = []
        for doc in docs:
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
