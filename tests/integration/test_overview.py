"""What the News view shows (``ingest.overview``), from a real poll and processing run against
the sample site and SeaweedFS, compared with the reports and with DuckDB over the table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import pytest

from ingest.config import SAMPLE_CATALOG, Settings, load_catalog, parse_catalog
from ingest.models import DataInterval
from ingest.overview import Overview, RangeError, backfill_command, day_range
from ingest.poll import poll_group
from ingest.process import process_captures
from ingest.query import connect
from ingest.sample.server import SampleServer, send
from ingest.storage import Stores

pytestmark = pytest.mark.integration

SCRIPT_TITLE = "<script>alert('x')</script> & <b>Wire</b>"


def _catalog(base: str) -> object:
    sample = load_catalog(SAMPLE_CATALOG)
    extra = [
        {"id": "broken-feed", "url": f"{base}/error500", "publisher": "Broken", "group": "sample",
         "allow_private": True},
        {"id": "rolling-feed", "url": f"{base}/rolling.xml", "publisher": "Rolling",
         "group": "sample", "allow_private": True},
    ]
    return parse_catalog({"feeds": [f.model_dump() for f in sample.feeds] + extra})


def _rolling(server: SampleServer, base: str) -> dict[str, int]:
    """A feed whose every listing is new (its window overflows between polls)."""
    turn = {"n": 0}

    def feed(req: BaseHTTPRequestHandler) -> None:
        n = turn["n"]
        items = "".join(f"<item><title>Item {n}-{i}</title><link>{base}/gone/{n}-{i}.html</link>"
                        f"<guid>{base}/gone/{n}-{i}</guid></item>" for i in range(3))
        body = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>{_xml(SCRIPT_TITLE)}"
                f"</title>{items}</channel></rss>").encode()
        send(req, 200, body, "application/rss+xml")

    def error(req: BaseHTTPRequestHandler) -> None:
        send(req, 500, b"internal error", "text/plain")

    server.routes["/rolling.xml"] = feed
    server.routes["/error500"] = error
    return turn


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_the_view_answers_from_what_the_pipeline_wrote(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    base = sample_server.base
    turn = _rolling(sample_server, base)
    catalog = _catalog(base)
    now = datetime.now(UTC)
    first = DataInterval.hour_of(now - timedelta(hours=1))
    second = DataInterval.hour_of(now)
    polled = poll_group(settings, stores, catalog, "sample", first)
    turn["n"] += 1
    again = poll_group(settings, stores, catalog, "sample", second)
    result = process_captures(settings, stores, polled.capture_keys + again.capture_keys,
                              catalog=catalog)
    view = Overview(settings, stores, catalog, refresh=False)  # no thread outliving the test

    # feed health: one row per feed, the failing one first with its error
    health = view.feeds()
    rows = {r["feed_id"]: r for r in health["feeds"]}
    assert set(rows) == {f.id for f in catalog.enabled()}
    assert health["feeds"][0]["feed_id"] == "broken-feed" and health["failing"] == 1
    broken = rows["broken-feed"]
    assert broken["failures"] == 2 and broken["last_status"] == "error"
    assert "500" in broken["last_error"] and broken["last_ok"] is None
    seed = rows["sample-globaltimes-asia-pacific"]
    assert seed["failures"] == 0 and seed["last_ok"] and seed["polls_24h"] == 2
    assert seed["entries_24h"] > 0 and seed["new_entries_24h"] == seed["entries_24h"]
    assert seed["not_modified_share"] == 0.5  # the second poll got a 304
    assert seed["pages_fetched_24h"] == sum(
        o.pages_ok for o in polled.outcomes if o.feed_id == seed["feed_id"])
    assert seed["may_have_missed"] is False
    # every entry of the second listing was new: the window overflowed between polls
    rolling = rows["rolling-feed"]
    assert rolling["may_have_missed"] is True and len(rolling["missed_at"]) == 1
    assert rolling["title"] == SCRIPT_TITLE  # kept as text; the page escapes it
    assert rolling["pages_failed_24h"] == 6  # the listed pages do not exist

    # the latest poll report of a feed, and none for a feed the catalog lacks
    # a feed read again without change (304 or the same bytes) keeps its title in reports
    titled = poll_group(settings, stores, catalog, "sample", second)  # the same interval again
    seed_again = next(o for o in titled.outcomes if o.feed_id == seed["feed_id"])
    assert seed_again.status == "not_modified" and seed_again.title == seed["title"] != ""
    report = view.feed_report("broken-feed")
    assert report is not None and report["report"] == again.report_key
    assert report["outcome"]["status"] == "error"
    assert view.feed_report("no-such-feed") is None

    # coverage equals DuckDB over the table, and the sparkline sums the same rows
    days = sorted({p.split("/")[0][3:] for p in result.partitions})
    start, end = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    cov = view.coverage(start, end)
    con = connect(settings)
    expected = con.execute(cov["sql"]).fetchall()
    shown = [(d, r, n) for d in cov["days"] for r, n in cov["articles"][d].items() if n]
    assert shown == [(d, r, n) for d, r, n in expected]
    assert cov["total"] == result.counts["articles"] == con.execute(
        "SELECT count(*) FROM articles").fetchone()[0]
    near = con.execute("SELECT dt, count(*) FILTER (WHERE NOT is_canonical) FROM articles "
                       "GROUP BY dt").fetchall()
    assert {d: n for d, n in near if n} == {d: n for d, n in cov["near_duplicates"].items() if n}
    top = con.execute("SELECT source_domain, count(*) FROM articles GROUP BY 1 "
                      "ORDER BY 2 DESC, 1 LIMIT 10").fetchall()
    assert [(s["source"], s["articles"]) for s in cov["top_sources"]] == top

    # completeness: the broken feed's day is partial, and the backfill command covers it
    grid = view.completeness(first.start.date(), second.start.date())
    today = str(second.start.date())
    assert grid["grid"]["broken-feed"][today]["status"] == "partial"
    assert grid["grid"]["sample-globaltimes-asia-pacific"][today]["status"] == "complete"
    assert grid["backfill"] == backfill_command(grid["days_with_gaps"][0],
                                                grid["days_with_gaps"][-1])
    assert "--dag-id news_poll" in grid["backfill"]

    # runs: the manifest with its counts and skip reasons
    runs = view.runs()["runs"]
    assert runs[0]["manifest"] == result.manifest_key
    assert runs[0]["counts"] == result.counts
    assert sum(runs[0]["skip_reasons"].values()) == result.counts["skipped"]


def test_a_new_deployment_shows_empty_screens(settings: Settings, stores: Stores) -> None:
    catalog = load_catalog(SAMPLE_CATALOG, env={"NEWS_INGEST_SAMPLE_BASE": "http://127.0.0.1:9"})
    view = Overview(settings, stores, catalog, refresh=False)  # no thread outliving the test
    health = view.feeds()
    assert {r["last_status"] for r in health["feeds"]} == {"not polled"}
    today = view.today()
    assert view.coverage(today - timedelta(days=6), today)["total"] == 0
    grid = view.completeness(today, today)
    assert {c[str(today)]["status"] for c in grid["grid"].values()} == {"missing"}
    assert view.runs()["runs"] == []


def test_warming_fills_the_caches_without_keeping_them_fresh(settings: Settings,
                                                             stores: Stores) -> None:
    """The API server warms the view at start; only answers a page asked for are refreshed
    in the background afterwards (a stack nobody looks at reads no reports every 10 s)."""
    catalog = load_catalog(SAMPLE_CATALOG, env={"NEWS_INGEST_SAMPLE_BASE": "http://127.0.0.1:9"})
    view = Overview(settings, stores, catalog, refresh=True)
    view.warm()
    assert {key[0] for key in view._cache} == {"feeds", "runs", "completeness", "coverage"}
    assert view._asked == {} and view._refresher is None
    view.refresh = False  # no thread outliving the test
    assert view.feeds() == view._cache[("feeds",)][1]  # from the warm cache
    assert list(view._asked) == [("feeds",)]


def test_day_ranges_are_checked() -> None:
    today = date(2026, 11, 28)
    assert day_range(None, None, 30, today) == (date(2026, 10, 30), today)
    assert day_range("2026-11-01", "2026-11-02", 30, today) == (date(2026, 11, 1),
                                                                date(2026, 11, 2))
    for start, end in (("2026-11-02", "2026-11-01"), ("yesterday", None),
                       ("2024-01-01", "2026-01-01")):
        with pytest.raises(RangeError):
            day_range(start, end, 30, today)
    assert backfill_command("2026-11-01", "2026-11-03") == (
        "airflow backfill create --dag-id news_poll --from-date 2026-11-01 "
        "--to-date 2026-11-04 --reprocess-behavior failed")


def test_reports_read_once_are_kept_up_to_a_bound(settings: Settings, stores: Stores) -> None:
    from ingest.overview import _Reports

    for i in range(5):
        stores.raw.put_json(f"reports/poll/dt=2026-11-28/h{i}/g.json", {"n": i})
    reports = _Reports(stores.raw, keep=3)
    found = reports.under(["reports/poll/dt=2026-11-28/"])
    assert [d.body["n"] for d in found] == [0, 1, 2, 3, 4]  # a listing is answered whole
    assert len(reports.docs) == 5
    stores.raw.put_json("reports/poll/dt=2026-11-28/h1/g.json", {"n": 10})  # rewritten
    again = reports.under(["reports/poll/dt=2026-11-28/h1/", "reports/poll/dt=2026-11-28/h4/"])
    assert [d.body["n"] for d in again] == [10, 4]  # the changed one is read again
    assert len(reports.docs) == 3 and {"reports/poll/dt=2026-11-28/h1/g.json",
                                       "reports/poll/dt=2026-11-28/h4/g.json"} <= set(reports.docs)


def test_a_range_of_days_is_read_in_one_listing(stores: Stores) -> None:
    from ingest.overview import _Reports

    for day in ("2026-11-13", "2026-11-14", "2026-11-20", "2026-11-27", "2026-11-28"):
        stores.processed.put_json(f"runs/dt={day}/batch.json", {"day": day})
    stores.processed.put_json("runs/dt=2026-11-14/late/batch.json", {"day": "2026-11-14 late"})
    stores.processed.put_json("runs/dt=2026-11-14x/odd.json", {"day": "not a day folder"})
    listings: list[str] = []
    stores.processed.client.meta.events.register(
        "provide-client-params.s3.ListObjectsV2",
        lambda params, **_: listings.append(params["Prefix"]))
    found = _Reports(stores.processed).days("runs/", date(2026, 11, 14), date(2026, 11, 27))
    # the days of the range, not the day before or after it, in one request (a 14-day grid
    # refreshed every few seconds was 14 listings)
    assert [d.body["day"] for d in found] == ["2026-11-14", "2026-11-14 late", "2026-11-20",
                                              "2026-11-27"]
    assert listings == ["runs/"]


def test_the_feed_screen_reads_a_groups_polling_state_again_only_when_it_changed(
        settings: Settings, stores: Stores) -> None:
    from ingest.poll import state_key

    catalog = load_catalog(SAMPLE_CATALOG, env={"NEWS_INGEST_SAMPLE_BASE": "http://127.0.0.1:9"})
    groups = sorted(catalog.groups())
    feed = catalog.enabled()[0]
    for group in groups:
        stores.raw.put_json(state_key(group), {"feeds": {}})
    stores.raw.put_json(state_key(feed.group), {"feeds": {feed.id: {"failures": 3}}})
    reads: list[str] = []
    stores.raw.client.meta.events.register(
        "provide-client-params.s3.GetObject",
        lambda params, **_: reads.append(params["Key"]) if "state/" in params["Key"] else None)
    view = Overview(settings, stores, catalog, ttl=0.0, refresh=False)  # every call computes
    first = {r["feed_id"]: r for r in view.feeds()["feeds"]}
    assert first[feed.id]["failures"] == 3  # the state is read
    assert sorted(reads) == sorted(state_key(g) for g in groups)
    reads.clear()
    assert {r["feed_id"]: r for r in view.feeds()["feeds"]} == first
    assert reads == []  # nothing changed: one listing, no state read again
    stores.raw.put_json(state_key(feed.group), {"feeds": {}})
    assert {r["feed_id"]: r for r in view.feeds()["feeds"]}[feed.id]["failures"] == 0
    assert reads == [state_key(feed.group)]
