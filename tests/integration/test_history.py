"""Historical polls (backfill runs): sources for a past interval, against real SeaweedFS and a
real local site with sitemaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from ingest import table
from ingest.archive import read_warc
from ingest.config import Settings, parse_catalog
from ingest.history import backfill_group
from ingest.models import DataInterval
from ingest.poll import capture_key, state_key
from ingest.process import process_captures
from ingest.sample.server import SampleServer, send
from ingest.storage import Stores
from tests.support import history

pytestmark = pytest.mark.integration

FIRST = date(2014, 3, 29)
DAY1 = DataInterval(datetime(2014, 3, 29, tzinfo=UTC), datetime(2014, 3, 30, tzinfo=UTC))
DAY3 = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))


@pytest.fixture
def site() -> Iterator[SampleServer]:
    with SampleServer() as server:
        history.install(server, "/one", FIRST, days=3, per_day=4)
        history.install(server, "/two", FIRST, days=3, per_day=3)
        server.files["/robots.txt"] = (f"User-agent: *\nSitemap: {server.base}/one/sitemap-index.xml\n"
                                       ).encode()
        yield server


def catalog(site: SampleServer) -> object:
    return parse_catalog({"version": 1, "defaults": {"group": "g", "allow_private": True},
                          "feeds": [
        {"id": "one", "url": f"{site.base}/one/feed.xml", "publisher": "One"},
        {"id": "two", "url": f"{site.base}/two/feed.xml", "publisher": "Two",
         "sitemaps": [f"{site.base}/two/sitemap-index.xml"]},
    ]})


def pages(stores: Stores, key: str) -> list[str]:
    return sorted(r.url for r in read_warc(stores.raw.get(key), key) if r.kind == "page")


def test_a_past_day_comes_from_sitemaps_and_a_rerun_changes_nothing(
        settings: Settings, stores: Stores, site: SampleServer) -> None:
    cat = catalog(site)
    result = backfill_group(settings, stores, cat, "g", DAY1)  # type: ignore[arg-type]
    key = capture_key("g", DAY1)
    assert result.capture_keys == [key]
    assert pages(stores, key) == sorted(
        f"{site.base}/{p}/2014/03/29/story-{n}.html" for p, k in (("one", 4), ("two", 3))
        for n in range(k))
    one, two = result.outcomes
    assert one.mode == "history" and one.status == "ok" and one.pages_ok == 4
    assert one.sources == {"captures": 0, "feed": 0, "sitemap": 4}  # robots.txt found its sitemaps
    assert two.sources == {"captures": 0, "feed": 0, "sitemap": 3}  # the catalog names them
    assert stores.raw.get_json(state_key("g"), None) is None  # live polling state untouched
    report = stores.raw.get_json(result.report_key)
    assert report["feeds"][0]["sources"]["sitemap"] == 4

    before = stores.raw.get(key)
    hits = dict(site.hits)
    again = backfill_group(settings, stores, cat, "g", DAY1)  # type: ignore[arg-type]
    assert stores.raw.get(key) == before  # same bytes
    assert again.outcomes[0].sources["captures"] == 4 and again.outcomes[0].pages_ok == 0
    assert all(site.hits.get(p) == hits.get(p) for p in hits if p.endswith(".html"))

    processed = process_captures(settings, stores, [key], catalog=cat)  # type: ignore[arg-type]
    assert processed.counts["articles"] == 7
    assert processed.reports == [
        "reports/completeness/dt=2014-03-29/20140329T0000Z-20140330T0000Z.json"]
    report = stores.processed.get_json(processed.reports[0])
    assert report["complete"] and report["totals"]["listed"] == 7
    assert report["totals"]["fetched"] == report["totals"]["extracted"] == 7
    assert [(f["feed_id"], f["mode"], f["extracted"]) for f in report["feeds"]] == [
        ("one", "history", 4), ("two", "history", 3)]


def test_the_feed_covers_its_recent_days_and_a_source_down_for_a_day_is_completed_later(
        settings: Settings, stores: Stores, site: SampleServer) -> None:
    cat = catalog(site)
    down = {"on": True}
    index = site.files.pop("/two/sitemap-index.xml")

    def flaky(req: object) -> None:
        if down["on"]:
            send(req, 503, b"down for maintenance", "text/plain")  # type: ignore[arg-type]
        else:
            send(req, 200, index, "application/xml")  # type: ignore[arg-type]

    site.routes["/two/sitemap-index.xml"] = flaky
    result = backfill_group(settings, stores, cat, "g", DAY3)  # type: ignore[arg-type]
    one, two = result.outcomes
    assert one.sources["feed"] == 4 and one.pages_ok == 4
    # the feed still lists day 3, so "two" is complete even with its sitemaps down
    assert two.sources["feed"] == 3 and two.pages_ok == 3 and two.status == "partial"
    assert two.problems and "503" in two.problems[0]["error"]
    assert one.status == "ok" and one.sources["sitemap"] == 4
    assert site.hits.get("/one/sitemap-2014-03-29.xml") is None  # last changed before day 3

    day1 = backfill_group(settings, stores, cat, "g", DAY1)  # type: ignore[arg-type]
    assert day1.outcomes[1].status == "partial" and day1.outcomes[1].pages_ok == 0
    assert "sitemap" in day1.outcomes[1].error and day1.outcomes[0].pages_ok == 4
    down["on"] = False
    key = capture_key("g", DAY1)
    first = process_captures(settings, stores, [key], catalog=cat)  # type: ignore[arg-type]
    report = stores.processed.get_json(first.reports[0])
    assert not report["complete"]
    assert [(f["feed_id"], f["status"], f["problems"] > 0) for f in report["feeds"]] == [
        ("one", "ok", False), ("two", "partial", True)]
    rerun = backfill_group(settings, stores, cat, "g", DAY1)  # type: ignore[arg-type]
    assert rerun.outcomes[1].pages_ok == 3 and rerun.outcomes[0].pages_ok == 0
    assert rerun.outcomes[1].status == "ok"
    assert len(pages(stores, key)) == 7
    second = process_captures(settings, stores, [key], catalog=cat)  # type: ignore[arg-type]
    report = stores.processed.get_json(second.reports[0])
    # the same capture key is the same batch: its output is rewritten whole, now with all 7
    assert report["complete"] and report["totals"]["extracted"] == 7
    assert set(first.partitions) <= set(second.partitions)
    # the capture grew: a new batch, committed (a batch is a version of its captures)
    assert second.batch != first.batch and second.table_version is not None
    assert len(table.rows(settings)) == second.counts["articles"] == 7
