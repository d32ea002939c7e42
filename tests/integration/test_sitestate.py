"""Site line histories between captures (ingest.sitestate) on a real SeaweedFS: an hourly poll's
one or two pages a site are cleaned with what the site's earlier captures taught, the same way
whatever the grouping into runs, the shard split or a re-run."""

from __future__ import annotations

import json
from datetime import timedelta

from ingest import dataset, pipeline, sitestate
from ingest.archive import Exchange
from ingest.boilerplate import SiteLines
from ingest.config import Settings
from ingest.models import Response
from ingest.storage import Stores
from tests.conftest import shared_path
from tests.integration.test_stages import processed_state, staged_run, twin
from tests.support import corpus, tables

PROMPT = "The Daily Brief is written by the morning desk of the Harbour Herald."
SITES = 3
HOURS = 5


def stories(count: int) -> list[list[str]]:
    """The paragraphs of ``count`` different articles (the benchmark's true bodies)."""
    truth = json.loads(shared_path("benchdata", "extraction", "ground-truth.json").read_text(
        encoding="utf-8"))
    bodies = [[p for p in item["articleBody"].split("\n") if len(p) > 60][:6]
              for _, item in sorted(truth.items())]
    return [paras for paras in bodies if len(paras) >= 4][:count]


def hourly(stores: Stores, group: str = "g0") -> list[str]:
    """Captures of one group an hour apart, each with one new page of each of three sites
    (a different story each, with the site's newsletter line after its second paragraph)."""
    found: dict[str, list[Exchange]] = {}
    for n, paras in enumerate(stories(SITES * HOURS)):
        hour, site = divmod(n, SITES)
        url = f"https://site{site}.example.com/story-{n}"
        html = (f"<html><head><title>Story {n}</title></head><body><nav><a href='/'>Home</a>"
                f"</nav><article><h1>Story {n}</h1>"
                + "".join(f"<p>{p}</p>" for p in [*paras[:2], PROMPT, *paras[2:]])
                + "</article><footer>Contact us</footer></body></html>")
        when = corpus.START + timedelta(hours=hour, minutes=n)
        key = f"captures/dt={when.date()}/group={group}/h{hour:02d}.warc.gz"
        found.setdefault(key, []).append(Exchange(
            Response(url, url, 200, (("Content-Type", "text/html"),), html.encode(), when),
            "page", {"feed_id": f"feed-{site}"}))
    return corpus.write(stores, found)


def by_capture(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["capture"].rsplit("/", 1)[-1], []).append(row)
    return out


def test_hourly_pages_are_cleaned_with_what_earlier_captures_taught(
        settings: Settings, stores: Stores) -> None:
    keys = hourly(stores)
    # one run per capture, as hourly polls are processed
    for key in keys:
        pipeline.process([key], settings)
    reference = processed_state(settings)
    rows = by_capture(tables.rows(settings))
    assert sorted(rows) == [f"h{h:02d}.warc.gz" for h in range(HOURS)]
    # a site's first two pages keep the line (nothing to learn from yet); from its third page
    # on, each in a capture of its own, it is gone
    early = [r for name in ("h00.warc.gz", "h01.warc.gz") for r in rows[name]]
    assert len(early) == 2 * SITES and all(PROMPT in r["text"] for r in early)
    assert all("(site lines:" not in r["extractor"] for r in early)
    late = [r for h in range(2, HOURS) for r in rows[f"h{h:02d}.warc.gz"]]
    assert len(late) == (HOURS - 2) * SITES
    assert all(PROMPT not in r["text"] and "(site lines: 1)" in r["extractor"] for r in late)

    # every capture in one staged run, its groups' sites split in shards: the same bytes
    together = twin(settings, "together").model_copy(update={"stage_shard_bytes": 4096})
    parts = staged_run(together, keys)
    assert max(i["shards"] for p in parts for i in p["items"]) > 1
    got = processed_state(together)
    # (one table commit where the hourly runs made five)
    assert (got["objects"], got["rows"]) == (reference["objects"], reference["rows"])

    # an earlier capture processed again after the later ones: it starts from the history
    # before it, not after them: nothing changes
    pipeline.process([keys[1]], settings)
    assert processed_state(settings) == reference


def test_a_capture_starts_from_the_latest_earlier_usable_history_of_its_group(
        settings: Settings, stores: Stores) -> None:
    lines = sitestate.lines_id(settings)
    day0, day1 = "captures/dt=2024-05-01/group=g0/", "captures/dt=2024-05-02/group=g0/"
    keys = {name: f"{prefix}{name}.warc.gz" for prefix, name in (
        (day0, "h22"), (day0, "h23"), (day1, "h00"), (day1, "h01"), (day1, "h02"))}
    for key in keys.values():
        stores.raw.put(key, key.encode())

    def version(name: str) -> str:
        return (stores.raw.stat(keys[name]) or ("",))[0]

    def history(*sites: str) -> dict:
        return SiteLines().learn_all((s, f"A story of {s} and its lines.\n{PROMPT}")
                                     for s in sites).history()

    every = history("a.com", "b.com", "c.com", "d.com")
    sitestate.store(stores, lines, keys["h22"], version("h22"), 0, 1, history("old.com"))
    sitestate.store(stores, lines, keys["h23"], version("h23"), 0, 1, every)
    # the first capture of a day starts from the previous day's last one
    assert sitestate.load(stores, lines, keys["h00"], 0, 1) == (every, keys["h23"])
    # a capture with no history stored (never processed) is passed over
    assert sitestate.load(stores, lines, keys["h01"], 0, 1) == (every, keys["h23"])
    # never a later capture's, nor another group's
    assert sitestate.load(stores, lines, keys["h22"], 0, 1) == ({}, None)
    other = keys["h01"].replace("group=g0", "group=g1")
    assert sitestate.load(stores, lines, other, 0, 1) == ({}, None)
    # read for a shard of another split: the sites of that shard only
    split = [sitestate.load(stores, lines, keys["h00"], s, 3)[0] for s in range(3)]
    assert {site for part in split for site in part} == set(every)
    for s, part in enumerate(split):
        assert all(sitestate.site_bucket(site, 3) == s for site in part)
    # a history stored in shards is used by the same split, or whole when every shard is there
    h00 = [{k: v for k, v in every.items() if sitestate.site_bucket(k, 2) == s} for s in (0, 1)]
    sitestate.store(stores, lines, keys["h00"], version("h00"), 0, 2, h00[0])
    assert sitestate.load(stores, lines, keys["h01"], 0, 2) == (h00[0], keys["h00"])
    # the other shard's object is missing (its task has not run): passed over
    assert sitestate.load(stores, lines, keys["h01"], 1, 2) == (
        {k: v for k, v in every.items() if sitestate.site_bucket(k, 2) == 1}, keys["h23"])
    assert sitestate.load(stores, lines, keys["h01"], 0, 1) == (every, keys["h23"])
    sitestate.store(stores, lines, keys["h00"], version("h00"), 1, 2, h00[1])
    assert sitestate.load(stores, lines, keys["h01"], 0, 1) == (every, keys["h00"])
    # a capture that grew since its history was stored is pending again: passed over, and its
    # new version's history replaces the old one
    stores.raw.put(keys["h00"], b"grown")
    assert sitestate.load(stores, lines, keys["h01"], 0, 1) == (every, keys["h23"])
    sitestate.store(stores, lines, keys["h00"], version("h00"), 0, 1, history("e.com"))
    assert sitestate.load(stores, lines, keys["h01"], 0, 1) == (history("e.com"), keys["h00"])
    prefix = dataset.sitelines_prefix(lines, "2024-05-02", "group=g0")
    assert len([k for k in stores.processed.list(prefix) if "/h00/" in k]) == 1
    # beyond the lookback, nothing
    late = f"captures/dt=2024-05-{2 + sitestate.LOOKBACK_DAYS + 1:02d}/group=g0/h00.warc.gz"
    assert sitestate.load(stores, lines, late, 0, 1) == ({}, None)
    # a key outside any group's chain has no history and stores none
    assert sitestate.load(stores, lines, "elsewhere/x.warc.gz", 0, 1) == ({}, None)
    assert sitestate.store(stores, lines, "elsewhere/x.warc.gz", "v", 0, 1, every) is None


def test_histories_are_small() -> None:
    blob = sitestate.to_parquet(SiteLines().learn_all(
        (f"site{n % 20}.com", f"Story {n} line one.\nStory {n} line two.\n{PROMPT}")
        for n in range(600)).history(), {"version": sitestate.STATE_VERSION})
    # 20 sites x 30 pages x 3 lines: a few tens of kilobytes
    assert len(blob) < 64 * 1024


def test_maintenance_keeps_each_groups_last_history_of_a_day_past_the_lookback(
        settings: Settings, stores: Stores) -> None:
    from datetime import UTC, datetime

    from ingest.maintain import thin_histories

    lines = sitestate.lines_id(settings)
    every = SiteLines().learn_all([("a.com", PROMPT)]).history()
    stored = {}
    for day in ("2024-05-01", "2024-05-20"):
        for group in ("g0", "g1"):
            for hour in range(3):
                key = f"captures/dt={day}/group={group}/h{hour:02d}.warc.gz"
                stores.raw.put(key, b"x")
                version = (stores.raw.stat(key) or ("",))[0]
                stored[key] = sitestate.store(stores, lines, key, version, 0, 1, every)
    now = datetime(2024, 5, 21, tzinfo=UTC)
    assert thin_histories(stores, now) == 4
    left = set(stores.processed.list(dataset.SITELINES_PREFIX))
    assert left == {k for c, k in stored.items() if "05-20" in c or "h02" in c}
    assert thin_histories(stores, now) == 0
    # the next day's first capture still starts from the day's last history
    nxt = "captures/dt=2024-05-02/group=g0/h00.warc.gz"
    assert sitestate.load(stores, lines, nxt, 0, 1) == (
        every, "captures/dt=2024-05-01/group=g0/h02.warc.gz")


def test_a_damaged_history_is_passed_over_for_the_one_before(
        settings: Settings, stores: Stores) -> None:
    lines = sitestate.lines_id(settings)
    keys = [f"captures/dt=2024-05-01/group=g0/h{h:02d}.warc.gz" for h in range(3)]
    every = SiteLines().learn_all([("a.com", PROMPT)]).history()
    for key in keys[:2]:
        stores.raw.put(key, key.encode())
        version = (stores.raw.stat(key) or ("",))[0]
        stored = sitestate.store(stores, lines, key, version, 0, 1, every)
    assert stored is not None
    stores.processed.put(stored, b"not parquet")  # the latest one, damaged
    assert sitestate.load(stores, lines, keys[2], 0, 1) == (every, keys[0])
