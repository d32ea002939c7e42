"""Busy hosts, feeds that move on and re-runs of old intervals: nothing listed is ever lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from ingest.archive import Exchange, read_warc
from ingest.config import Settings
from ingest.models import DataInterval, Response
from ingest.poll import PollResult, capture_key, commit_capture, poll_group, read_capture
from ingest.pollstate import MAX_PAGE_ATTEMPTS
from ingest.sample.server import SampleServer, send
from ingest.storage import Stores
from tests.support import invariants
from tests.support.site import EPOCH, MovingSite

pytestmark = pytest.mark.integration


def hour(n: int) -> DataInterval:
    return DataInterval(EPOCH + timedelta(hours=n), EPOCH + timedelta(hours=n + 1))


@pytest.fixture
def site() -> Iterator[MovingSite]:
    with SampleServer() as server:
        yield MovingSite(server)


def test_a_busy_host_drains_its_backlog_oldest_first_and_loses_nothing(
        settings: Settings, stores: Stores, site: MovingSite) -> None:
    # one host, 2 requests at once, 0.1 s between starts: the queue for 20 pages (1.9 s) is
    # longer than the per-URL deadline and than the run's budget for starting requests (1.5 s,
    # counted from the poll's start: reading the feed and saving its state come out of it, so
    # on a loaded machine a run starts fewer pages; each run starts some)
    busy = settings.model_copy(update={"per_host_concurrency": 2, "per_host_delay": 0.1,
                                       "page_deadline": 1.0, "poll_time_budget": 1.5})
    catalog = site.catalog(["wire"])
    order: list[str] = []
    for run in range(5):  # 20 new entries a run; the feed lists only its latest 20
        site.show("wire", list(range(run * 20, run * 20 + 20)))
        result = poll_group(busy, stores, catalog, "g", hour(run))
        outcome = result.outcomes[0]
        assert outcome.pages_failed == 0, outcome.page_errors  # no page timed out in a queue
        assert outcome.pages_deferred > 0 and outcome.pages_ok >= 1
        invariants.check(stores, "g", site.all_listed())
        pending = invariants.feed_states(stores, "g")["wire"]["pending"]
        assert {p["attempts"] for p in pending} == {0}  # never requested: no attempt spent
        assert outcome.backlog == len(pending)
        if result.capture_key:
            order += [r.url for r in read_warc(stores.raw.get(result.capture_key))
                      if r.kind == "page"]
    run = 5
    while invariants.pending_urls(stores, "g"):  # the feed is quiet now; the backlog drains
        result = poll_group(busy, stores, catalog, "g", hour(run))
        order += [r.url for r in read_warc(stores.raw.get(result.capture_key)) if r.kind == "page"]
        run += 1
        assert run < 60
    assert set(order) == site.all_listed() and len(order) == 100  # each page fetched once
    numbers = [int(u.rsplit("/", 1)[1].split(".")[0]) for u in order]
    assert numbers == sorted(numbers)  # oldest first, across runs
    state = invariants.feed_states(stores, "g")["wire"]
    assert not state.get("failed") and len(state["seen"]) == 100


def test_rerunning_an_old_interval_never_overwrites_its_capture_with_less(
        settings: Settings, stores: Stores, site: MovingSite) -> None:
    catalog = site.catalog(["wire"])
    site.show("wire", [1, 2, 3])
    first = poll_group(settings, stores, catalog, "g", hour(0))
    before = invariants.captures(stores)
    assert {u for k, _, u in before[first.capture_key] if k == "page"} == {
        site.url("wire", n) for n in (1, 2, 3)}
    for run in range(1, 60):  # far more intervals than any recent-capture list would keep
        site.show("wire", [3 + run])
        poll_group(settings, stores, catalog, "g", hour(run))
    site.show("wire", [70, 71])
    poll_group(settings, stores, catalog, "g", hour(0))  # re-run of the first interval
    invariants.check(stores, "g", site.all_listed(), earlier=before)
    assert invariants.captured_urls(stores) == site.all_listed()


def test_a_page_that_keeps_failing_is_given_up_with_its_reason_not_marked_seen(
        settings: Settings, stores: Stores, site: MovingSite) -> None:
    catalog = site.catalog(["wire"])
    site.show("wire", [1, 2])
    site.server.routes["/wire/2.html"] = lambda req: send(req, 503, b"busy", "text/plain")
    for run in range(MAX_PAGE_ATTEMPTS):
        poll_group(settings, stores, catalog, "g", hour(run))
    state = invariants.feed_states(stores, "g")["wire"]
    assert not state["pending"]
    (failed,) = state["failed"].values()
    assert failed["url"] == site.url("wire", 2) and "HTTP 503" in failed["error"]
    assert f"gave up after {MAX_PAGE_ATTEMPTS} attempts" in failed["error"]
    assert invariants.captured_urls(stores) == {site.url("wire", 1)}
    invariants.check(stores, "g", {site.url("wire", 1)})


def test_two_polls_of_one_interval_at_once_keep_both_captures_records(
        settings: Settings, stores: Stores, site: MovingSite) -> None:
    """A conditional write: the poll that writes second merges the first one's records."""
    catalog = site.catalog(["a", "b"])
    site.show("a", [1])
    site.show("b", [1])
    key = capture_key("g", hour(0))
    stale = read_capture(stores, key)  # the second poll read "no capture yet"...
    poll_group(settings, stores, catalog, "g", hour(0))  # ...then the first one wrote it
    got = invariants.captures(stores)[key]
    theirs = [Exchange(Response(a.url + "?late", a.final_url + "?late", a.status, a.headers,
                                a.body, a.fetched_at), a.kind, {"feed_id": a.meta["feed_id"]})
              for a in read_warc(stores.raw.get(key)) if a.kind == "page"]
    commit_capture(stores, PollResult("g", hour(0)), key, stale, theirs)
    after = invariants.captures(stores)[key]
    assert got < after and len(after) == len(got) + len(theirs)
