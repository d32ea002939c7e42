"""Processing in two stages (parallel extraction into staging, serial commit) gives the bytes
of processing in one go, whatever the order, sharding or failures of the extraction tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ingest import completeness, dataset, pipeline, sitestate
from ingest.archive import Exchange, build_warc
from ingest.config import Settings
from ingest.models import Response
from ingest.process import IndexPool, process_captures
from ingest.stage import SCHEMA, StagedPage, StagedShard, read_staged
from ingest.storage import Stores, make_s3_client
from tests.support import corpus, tables

pytestmark = pytest.mark.integration

SHARD = 64 * 1024  # small shards: the sample's captures split into several parts


def twin(settings: Settings, name: str) -> Settings:
    """The same raw bucket, another processed bucket (created empty)."""
    other = settings.model_copy(update={"processed_bucket": f"{settings.processed_bucket}-{name}"})
    Stores.from_settings(other, make_s3_client(other)).ensure_buckets()
    return other


def processed_state(settings: Settings) -> dict[str, Any]:
    """The processed bucket's objects (keys without the bucket) and the table's rows. The site
    line histories are stored one object per shard of a capture, so their keys depend on the
    split: they count as each capture's history, merged over its shards."""
    stores = Stores.from_settings(settings, make_s3_client(settings))
    got = tables.state(settings, stores)
    prefix = f"{settings.processed_bucket}/"
    objects: dict[str, Any] = {}
    for key, value in got["objects"].items():
        if not key.startswith(prefix):
            continue
        key = key[len(prefix):]
        if key.startswith(dataset.SITELINES_PREFIX):
            objects.setdefault(key.rsplit("/", 1)[0], {}).update(sitestate.from_parquet(value))
        else:
            objects[key] = value
    return {"objects": objects, "rows": got["rows"], "version": got["version"]}


@pytest.fixture
def captures(settings: Settings, stores: Stores) -> list[str]:
    return corpus.write(stores, corpus.exchanges(72))


def staged_run(settings: Settings, keys: list[str], skip: int | None = None,
               reverse: bool = False) -> list[dict[str, Any]]:
    parts = pipeline.plan(keys, settings)
    todo = [p for i, p in enumerate(parts) if i != skip]
    for part in reversed(todo) if reverse else todo:
        pipeline.extract(part, settings)
    pipeline.commit(parts, settings)
    return parts


def test_staged_run_gives_the_bytes_of_one_process_run(settings: Settings,
                                                       captures: list[str]) -> None:
    inline = twin(settings, "inline")
    pipeline.process(captures, inline)
    reference = processed_state(inline)
    assert len(reference["rows"]) > 60
    assert any(not r["is_canonical"] for r in reference["rows"])  # copies across captures

    staged = twin(settings, "staged").model_copy(update={"stage_shard_bytes": SHARD})
    parts = pipeline.plan(captures, staged)
    assert len(parts) > len(captures)  # big captures were split
    stores = Stores.from_settings(staged, make_s3_client(staged))
    for part in reversed(parts):  # tasks finish in any order
        pipeline.extract(part, staged)
    # a staging object per capture shard; a group's captures share their tasks (one per shard
    # of its sites, in order: each starts from the site line history of the one before)
    assert len(list(stores.processed.list(dataset.STAGING_PREFIX))) == sum(
        len(p["items"]) for p in parts)
    pipeline.commit(parts, staged)
    assert processed_state(staged) == reference
    assert not list(stores.processed.list(dataset.STAGING_PREFIX))  # removed once committed
    pipeline.commit(parts, staged)  # the commit task retried: nothing changes
    assert processed_state(staged) == reference


def test_small_captures_share_extraction_tasks_with_the_same_bytes(
        settings: Settings, captures: list[str]) -> None:
    """Given the slots, a run of many small captures is a few tasks, each staging every
    capture shard it holds on its own: the rows are those of a task per capture."""
    inline = twin(settings, "inline")
    pipeline.process(captures, inline)
    reference = processed_state(inline)

    grouped = twin(settings, "grouped")
    parts = pipeline.plan(captures, grouped, slots=1)
    assert len(parts) == 2 < len(captures)
    assert sorted(i["capture"] for p in parts for i in p["items"]) == sorted(captures)
    results = [pipeline.extract(part, grouped) for part in reversed(parts)]
    assert sum(len(r["staging"]) for r in results) == len(captures)
    stores = Stores.from_settings(grouped, make_s3_client(grouped))
    assert len(list(stores.processed.list(dataset.STAGING_PREFIX))) == len(captures)
    pipeline.commit(parts, grouped)
    assert processed_state(grouped) == reference


def test_captures_gathered_into_one_table_commit_give_the_rows_of_a_commit_each(
        settings: Settings, captures: list[str]) -> None:
    """The commit task gathers consecutive captures into one table commit up to
    ``commit_pages`` pages; each capture stays its own batch (manifest, report, segment), so
    the rows and every other object are those of a commit per capture."""
    each = twin(settings, "each").model_copy(update={"commit_pages": 1})
    staged_run(each, captures)
    alone = processed_state(each)
    gathered = twin(settings, "gathered").model_copy(update={"commit_pages": 10_000})
    staged_run(gathered, captures)
    together = processed_state(gathered)
    assert together["rows"] == alone["rows"]
    assert together["objects"] == alone["objects"]
    # one commit per capture, against one for the run (versions count from 0)
    assert alone["version"] == len(captures) - 1 and together["version"] == 0
    stores = Stores.from_settings(gathered, make_s3_client(gathered))
    assert len(list(stores.processed.list("runs/"))) == len(captures)  # a manifest each
    staged_run(gathered, captures)  # a re-run commits nothing
    assert processed_state(gathered) == together
    # two captures committed alone first; a gathering run then commits only the others
    mixed = twin(settings, "mixed").model_copy(update={"commit_pages": 1})
    staged_run(mixed, captures[:2])
    staged_run(mixed.model_copy(update={"commit_pages": 10_000}), captures)
    state = processed_state(mixed)
    assert state["rows"] == alone["rows"] and state["objects"] == alone["objects"]
    assert state["version"] == 2


def test_one_index_read_per_run_gives_what_reading_it_per_capture_gives(
        settings: Settings, stores: Stores, captures: list[str]) -> None:
    per_capture = twin(settings, "each")
    each = Stores.from_settings(per_capture, make_s3_client(per_capture))
    for key in captures:  # a fresh read of the window for every batch (the old way)
        process_captures(per_capture, each, [key])
    pool = IndexPool(stores)
    for key in captures:
        process_captures(settings, stores, [key], pool=pool)
    assert processed_state(settings) == processed_state(per_capture)
    days = sorted({date.fromisoformat(k.split("dt=")[1][:10]) for k in captures})
    assert len(captures) > 2 * len(days) == 6
    # every day of the windows (30 either side of each capture's day) is read once, and the
    # index is built once per day of captures (kept from one batch to the next of that day)
    assert pool.reads == (days[-1] - days[0]).days + 1 + 2 * settings.dedupe_window_days
    assert pool.builds == len(days)
    # processed again: every capture has a segment of its own in the window, which a kept
    # index would hold, so every batch builds its index; still what fresh reads give
    again = IndexPool(stores)
    for key in captures:
        process_captures(per_capture, each, [key])
        process_captures(settings, stores, [key], pool=again)
    assert again.builds == len(captures)
    assert processed_state(settings) == processed_state(per_capture)


@pytest.mark.parametrize("meanwhile", ["committed", "committed and compacted"])
def test_a_capture_another_run_committed_meanwhile_is_replaced_not_added(
        settings: Settings, stores: Stores, captures: list[str], meanwhile: str) -> None:
    """A run appends the rows of captures never committed (no delta-rs search for rows to
    replace); one that another run committed after this run read its index is seen as
    committed when it matters, under the writer lock, and its rows are replaced."""
    from ingest.maintain import compact_segments
    from ingest.table import WriterLock

    key = captures[0]
    pool = IndexPool(stores)
    pool.index_for([key], "ours", settings)  # this run reads its window: nothing of key yet
    process_captures(settings, stores, [key])  # a reprocess run commits key meanwhile
    if meanwhile == "committed and compacted":
        with WriterLock(stores.processed, settings.table_lock_ttl):
            assert compact_segments(stores)  # key's segment is folded into its day's object
    first = tables.rows(settings)
    assert first
    process_captures(settings, stores, [key], pool=pool, batch="ours")
    again = tables.rows(settings)
    ids = [r["article_id"] for r in again]
    assert len(ids) == len(set(ids)) == len(first)  # each article once


def test_failed_missing_or_damaged_extraction_is_done_by_the_commit(
        settings: Settings, captures: list[str]) -> None:
    inline = twin(settings, "inline")
    pipeline.process(captures, inline)
    reference = processed_state(inline)

    failed = twin(settings, "failed").model_copy(update={"stage_shard_bytes": SHARD})
    staged_run(failed, captures, skip=1)  # one extraction task failed for good
    assert processed_state(failed) == reference

    damaged = twin(settings, "damaged").model_copy(update={"stage_shard_bytes": SHARD})
    parts = pipeline.plan(captures, damaged)
    written = [key for p in parts for key in pipeline.extract(p, damaged)["staging"]]
    store = Stores.from_settings(damaged, make_s3_client(damaged)).processed
    store.put(written[2], b"PAR1 not really")
    pipeline.commit(parts, damaged)
    assert processed_state(damaged) == reference


def test_capture_that_grew_after_extraction_is_extracted_again(
        settings: Settings, stores: Stores, captures: list[str]) -> None:
    staged = twin(settings, "staged")
    parts = pipeline.plan(captures, staged)
    for part in parts:
        pipeline.extract(part, staged)
    # a poll re-run merges a record into the first capture after its extraction
    grown = corpus.exchanges(72)
    key = captures[0]
    page = corpus.pages(80)[-1]
    extra = Response(page[1], page[1], 200, (), page[2], grown[key][-1].response.fetched_at)
    grown[key].append(Exchange(extra, "page", {"feed_id": "feed-late"}))
    stores.raw.put(key, build_warc(grown[key]))
    pipeline.commit(parts, staged)
    rows = tables.rows(staged)
    assert page[1] in {r["url"] for r in rows}

    inline = twin(settings, "inline")
    pipeline.process(captures, inline)
    assert processed_state(staged) == processed_state(inline)


def test_staged_shard_is_a_typed_parquet_contract(settings: Settings, stores: Stores,
                                                  captures: list[str]) -> None:
    assert [f.name for f in SCHEMA] == list(StagedPage.__dataclass_fields__)
    part = pipeline.plan(captures[:1], settings)[0]
    [key] = pipeline.extract(part, settings)["staging"]
    blob = stores.processed.get(key)
    shard = StagedShard.from_parquet(blob)
    assert shard.capture == captures[0] and (shard.shard, shard.shards) == (0, 1)
    assert shard.version == stores.raw.stat(captures[0])[0]  # type: ignore[index]
    outcomes = {p.outcome for p in shard.pages}
    assert outcomes <= {"article", "skipped", "failed"} and "article" in outcomes
    article = next(p for p in shard.pages if p.outcome == "article")
    assert article.text and article.article_id and len(article.signature or b"") == 128
    assert StagedShard.from_parquet(shard.to_parquet(part["stage"])).pages == shard.pages
    assert read_staged(stores, part["stage"], captures[0], shard.version) == shard
    with pytest.raises(ValueError, match="not a staging object"):
        StagedShard.from_parquet(b"junk")
    # a capture that does not exist is staged as an error, not a crash
    gone_item = {**part["items"][0], "capture": "captures/dt=2024-05-01/gone.warc.gz"}
    missing = pipeline.extract({**part, "items": [gone_item]}, settings)
    gone = StagedShard.from_parquet(stores.processed.get(missing["staging"][0]))
    assert gone.pages == [] and "does not exist" in gone.errors[0]["error"]


def test_news_maintain_sweeps_staging_no_run_committed(settings: Settings,
                                                       captures: list[str]) -> None:
    from ingest.maintain import maintain

    staged = twin(settings, "staged")
    parts = pipeline.plan(captures[:2], staged)
    for part in parts:  # extracted, never committed (the run's captures went another way)
        pipeline.extract(part, staged)
    twin_stores = Stores.from_settings(staged, make_s3_client(staged))
    processed = twin_stores.processed
    assert len(list(processed.list(dataset.STAGING_PREFIX))) == 2
    now = datetime.now(UTC)
    assert maintain(staged, twin_stores, now=now)["staging_removed"] == 0  # may still commit
    assert maintain(staged, twin_stores, now=now + timedelta(days=3))["staging_removed"] == 2
    assert not list(processed.list(dataset.STAGING_PREFIX))


def test_a_capture_committed_as_it_is_now_is_not_planned_again(
        settings: Settings, stores: Stores, captures: list[str]) -> None:
    from ingest import inbox

    pipeline.process(captures[:2], settings)  # an earlier run took them (from the inbox)
    assert pipeline.plan(captures[:2], settings, use_inbox=True) != []  # the others are marked
    planned = {i["capture"] for p in pipeline.plan(captures, settings) for i in p["items"]}
    assert planned == set(captures[2:])  # their events come later: nothing to extract again
    inbox.post(stores, captures[0])  # a poll re-run that found nothing new marks it again
    pipeline.plan([], settings, use_inbox=True)
    assert inbox.marker_key(captures[0]) not in set(stores.raw.list("inbox/"))
    # the capture grows: it is planned again
    grown = corpus.exchanges(72)[captures[1]]
    page = corpus.pages(80)[-1]
    grown.append(Exchange(Response(page[1], page[1], 200, (), page[2],
                                   grown[-1].response.fetched_at), "page", {"feed_id": "late"}))
    stores.raw.put(captures[1], build_warc(grown))
    assert {i["capture"] for p in pipeline.plan(captures[:2], settings)
            for i in p["items"]} == {captures[1]}


def test_a_sites_pages_share_a_shard_so_its_lines_are_learned_alike_in_any_split(
        settings: Settings, stores: Stores) -> None:
    """Every page of a site goes to the same shard: a capture whose sites repeat a newsletter
    line gives the same rows extracted whole or in many shards, the line removed in both."""
    from datetime import timedelta

    from ingest.archive import Exchange
    from ingest.models import Response
    from ingest.stage import site_shard

    prompt = b"<p>The Daily Brief is written by the morning desk of the Harbour Herald.</p>"
    found = []
    for n, (pid, _url, html) in enumerate(corpus.pages(12)):
        site = f"https://site{n % 3}.example.com/{pid}"  # three sites of four pages each
        cut = html.rfind(b"</p>", 0, len(html) * 3 // 4) + 4  # after a paragraph of the story
        page = html[:cut] + prompt + html[cut:]
        found.append(Exchange(Response(site, site, 200, (("Content-Type", "text/html"),), page,
                                       corpus.START + timedelta(minutes=n)),
                              "page", {"feed_id": f"feed-{n % 3}"}))
    keys = corpus.write(stores, {"captures/dt=2024-05-01/group=g0/sites.warc.gz": found})
    assert len({site_shard(e.response.url, 5) for e in found}) <= 3
    assert {site_shard(f"https://site1.example.com/{i}", 5) for i in range(9)} == {
        site_shard("https://site1.example.com/", 5)}

    inline = twin(settings, "whole")
    pipeline.process(keys, inline)
    reference = processed_state(inline)
    split = twin(settings, "split").model_copy(update={"stage_shard_bytes": 4096})
    assert len(pipeline.plan(keys, split)) > 1
    staged_run(split, keys)
    assert processed_state(split) == reference
    # the site lines were learned and taken out (where the extractor had kept the prompt)
    assert any("(site lines:" in r["extractor"] for r in reference["rows"])


@pytest.mark.parametrize("commit_pages", [1, 10_000])
def test_an_intervals_report_counts_every_groups_capture(settings: Settings, stores: Stores,
                                                        commit_pages: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each feed group has its own capture of an interval, each its own batch: the interval's
    completeness report holds every group's pages, whether the batches shared a table commit
    or not; the run builds it once (building it reads an object per group: once per batch
    would cost the square of the groups)."""
    settings = settings.model_copy(update={"commit_pages": commit_pages})
    built: list[tuple[str, str]] = []
    build = completeness.build
    monkeypatch.setattr(completeness, "build",
                        lambda s, day, label: built.append((day, label)) or build(s, day, label))
    when = datetime(2024, 5, 1, 3, tzinfo=UTC)
    label = "20240501T0300Z-20240501T0400Z"
    found: dict[str, list[Exchange]] = {}
    for i, (_, url, html) in enumerate(corpus.pages(7)):
        group = "a" if i < 4 else "b"
        found.setdefault(f"captures/dt=2024-05-01/group={group}/{label}.warc.gz", []).append(
            Exchange(Response(url, url, 200, (("Content-Type", "text/html"),), html, when),
                     "page", {"feed_id": f"feed-{group}"}))
    keys = corpus.write(stores, found)
    staged_run(settings, keys)
    report = stores.processed.get_json(f"reports/completeness/dt=2024-05-01/{label}.json")
    assert {r["feed_id"]: r["fetched"] for r in report["feeds"]} == {"feed-a": 4, "feed-b": 3}
    assert report["totals"]["fetched"] == 7
    assert built == [("2024-05-01", label)]
    processed = sum(report["totals"][k] for k in ("extracted", "seen_before", "skipped", "failed"))
    assert processed == 7


def test_a_batch_of_no_captures_writes_nothing(settings: Settings, stores: Stores) -> None:
    result = process_captures(settings, stores, [])
    assert result.counts["pages"] == 0 and result.table_version is None
    assert not list(stores.processed.list(""))
