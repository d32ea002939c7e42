"""Kill-and-fault matrix: poll (live and backfill), process and reprocess, each killed (SIGKILL)
just before and just after every storage write, and cut off from storage at each, then re-run.

Invariants checked after every case (see ``tests.support.invariants``): every listed article is
in a stored capture or pending, none is marked seen without a capture, no capture lost records,
every capture is queued for processing, each article is once in the processed data; and a
re-run of processing gives the same objects, byte for byte, as an uninterrupted run. (A poll
re-run fetches pages again, so its captures carry other fetch times: for polls the same pages
must be captured, not the same bytes.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from ingest import pipeline
from ingest.config import SAMPLE_CATALOG, Catalog, Settings, load_catalog
from ingest.errors import StorageUnavailable
from ingest.history import backfill_group
from ingest.models import DataInterval
from ingest.poll import poll_group
from ingest.process import process_captures
from ingest.regions import Tagger, default_tagger
from ingest.reprocess import rebuild
from ingest.sample.server import SampleServer
from ingest.seaweed import SeaweedServer
from ingest.storage import Stores, make_s3_client
from tests.support import corpus, invariants, tables
from tests.support.faults import CuttableProxy
from tests.support.killpoints import Fault, FaultyClient, Step, run_killable, stores_on
from tests.support.site import EPOCH, MovingSite

pytestmark = pytest.mark.integration

HOUR0 = DataInterval(EPOCH, EPOCH + timedelta(hours=1))
HOUR1 = DataInterval(EPOCH + timedelta(hours=1), EPOCH + timedelta(hours=2))
DAY = DataInterval(EPOCH, EPOCH + timedelta(days=1))


@dataclass
class Env:
    settings: Settings  # direct to SeaweedFS
    proxy: CuttableProxy
    tagger: Tagger

    def buckets(self, keep_raw: str = "") -> tuple[str, str]:
        """A pair of empty buckets (reused: SeaweedFS gives each bucket its own volumes, and
        a few hundred of them exhaust the test server); ``keep_raw`` keeps that raw bucket."""
        pair = (keep_raw or f"fm-raw-{os.getpid()}", f"fm-proc-{os.getpid()}")
        stores = stores_on(make_s3_client(self.settings), *pair)
        stores.ensure_buckets()
        for store in ([] if keep_raw else [stores.raw]) + [stores.processed]:
            for key in list(store.list("")):
                store.delete(key)
        return pair

    def stores(self, raw: str, processed: str) -> Stores:
        return stores_on(make_s3_client(self.settings), raw, processed)

    def settings_for(self, raw: str, processed: str) -> Settings:
        return self.settings.model_copy(update={"raw_bucket": raw, "processed_bucket": processed})

    def run(self, fault: Fault | None, raw: str, processed: str, stage: Step) -> str:
        """Run ``stage`` on stores whose client acts at ``fault``; returns how it ended. A kill
        must land: a child that ends otherwise (it raised first) fails the test."""
        if fault is None:
            stage(self.stores(raw, processed))
            return "ok"
        if fault.action == "kill":
            ended = run_killable(self.settings, fault, raw, processed, stage)
            assert ended == "killed", f"{fault}: the child {ended} before its write (stderr)"
            return ended
        via = self.settings.model_copy(update={"s3_endpoint_url": self.proxy.endpoint})
        client = FaultyClient(make_s3_client(via), fault, cut=self.proxy.cut)
        try:
            with client.table_writes():
                stage(stores_on(client, raw, processed))
            return "ok"
        except StorageUnavailable:
            return "cut"
        finally:
            self.proxy.restore()

    def count_writes(self, raw: str, processed: str, stage: Step) -> int:
        client = FaultyClient(make_s3_client(self.settings))
        with client.table_writes():
            stage(stores_on(client, raw, processed))
        return len(client.writes)


@pytest.fixture(scope="module")
def env(seaweed: SeaweedServer) -> Iterator[Env]:
    proxy = CuttableProxy(int(seaweed.endpoint.rsplit(":", 1)[1]))
    settings = Settings(
        s3_endpoint_url=seaweed.endpoint, s3_access_key=seaweed.access_key,
        s3_secret_key=seaweed.secret_key, per_host_delay=0.0, per_host_concurrency=8,
        connect_timeout=2.0, read_timeout=2.0, page_deadline=5.0,
        table_lock_ttl=1.0)  # a killed writer's lock blocks the re-run for a second
    try:
        yield Env(settings, proxy, default_tagger())
    finally:
        proxy.close()


def faults(writes: int) -> list[Fault]:
    return [Fault(at, when, action) for at in range(1, writes + 1)
            for when in ("before", "after") for action in ("kill", "cut")]


def articles_once(settings: Settings) -> list[str]:
    """Article ids in the articles table; asserts none is there twice."""
    ids = [r["article_id"] for r in tables.rows(settings)]
    assert len(ids) == len(set(ids)), "an article is twice in the processed data"
    return ids


# --- polls ----------------------------------------------------------------------------------


def test_live_poll_killed_or_cut_at_any_write_loses_nothing(env: Env) -> None:
    with SampleServer() as server:
        site = MovingSite(server)
        catalog = site.catalog(["a", "b"])

        def scenario(fault: Fault | None) -> tuple[str, Stores, set[str]]:
            site.listed.clear()
            raw, processed = env.buckets()
            stores = env.stores(raw, processed)
            settings = env.settings_for(raw, processed)
            site.show("a", [1, 2, 3])
            site.show("b", [1, 2])
            ended = env.run(fault, raw, processed,
                            Step(poll_group, settings, (catalog, "g", HOUR0)))
            if not list(stores.raw.list("")):
                # killed or cut before its first write: the poll recorded nothing, as if it
                # had never run, so what only it saw is not the pipeline's to keep
                assert fault is not None and (fault.at, fault.when) == (1, "before"), fault
                site.listed.clear()
            earlier = invariants.captures(stores)
            invariants.check(stores, "g", site.all_listed(), earlier)
            site.show("a", [4, 5])  # the feeds move on before the re-run
            site.show("b", [3])
            poll_group(settings, stores, catalog, "g", HOUR0)  # the task's retry
            invariants.check(stores, "g", site.all_listed(), earlier)
            poll_group(settings, stores, catalog, "g", HOUR1)
            invariants.check(stores, "g", site.all_listed(), earlier)
            return ended, stores, invariants.captured_urls(stores)

        raw, processed = env.buckets()
        env.stores(raw, processed)
        site.show("a", [1, 2, 3])
        site.show("b", [1, 2])
        writes = env.count_writes(raw, processed, Step(
            poll_group, env.settings_for(raw, processed), (catalog, "g", HOUR0)))
        assert writes == 5  # state (pending), capture, inbox marker, state (seen), report
        _, _, reference = scenario(None)
        assert reference == site.all_listed()
        endings = set()
        for fault in faults(writes):
            ended, stores, captured = scenario(fault)
            endings.add(ended)
            assert captured == site.all_listed(), f"{fault}: {sorted(captured ^ reference)}"
            assert len(captured) == (3 if (fault.at, fault.when) == (1, "before") else 8)
            assert not invariants.pending_urls(stores, "g"), fault
        assert endings == {"killed", "cut", "ok"}  # a cut after the last write is not noticed


def test_backfill_poll_killed_or_cut_at_any_write_loses_nothing(env: Env) -> None:
    with SampleServer() as server:
        site = MovingSite(server)
        catalog = site.catalog(["a"], history=["captures", "feed"])
        site.show("a", [1, 2, 3, 4])

        def stage(raw: str, processed: str) -> Step:
            return Step(backfill_group, env.settings_for(raw, processed), (catalog, "g", HOUR0))

        raw, processed = env.buckets()
        env.stores(raw, processed)
        writes = env.count_writes(raw, processed, stage(raw, processed))
        assert writes == 3  # capture, inbox marker, report
        for fault in faults(writes):
            raw, processed = env.buckets()
            stores = env.stores(raw, processed)
            env.run(fault, raw, processed, stage(raw, processed))
            earlier = invariants.captures(stores)
            stage(raw, processed)(stores)  # the re-run
            assert invariants.captured_urls(stores) == site.all_listed(), fault
            invariants.check(stores, "g", site.all_listed(), earlier)


# --- processing -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_sample(env: Env) -> Iterator[tuple[str, list[str], Catalog]]:
    """A raw bucket holding one poll of the sample site (processing's input for every case)."""
    raw, processed = env.buckets(keep_raw=f"fm-sample-{os.getpid()}")
    stores = env.stores(raw, processed)
    with SampleServer() as server:
        os.environ["NEWS_INGEST_SAMPLE_BASE"] = server.base
        try:
            catalog = load_catalog(SAMPLE_CATALOG)
            keys = poll_group(env.settings_for(raw, processed), stores, catalog, "sample",
                              HOUR0).capture_keys
        finally:
            del os.environ["NEWS_INGEST_SAMPLE_BASE"]
    assert keys
    yield raw, keys, catalog


def _matrix(env: Env, raw: str, prepare: Callable[[Stores, Settings], Any],
            stage: Callable[[Settings], Step],
            where: Callable[[list[str]], list[int]] | None = None) -> None:
    """Reference: prepare + stage uninterrupted; then for every fault: prepare, stage with the
    fault, stage again; the processed bucket must be as the reference left it: the same
    objects byte for byte, the same table rows, the same number of table commits. ``where``:
    the writes (1-based, given the reference run's "operation key" list) to fault, if not
    every one."""
    _, processed = env.buckets(keep_raw=raw)
    stores, settings = env.stores(raw, processed), env.settings_for(raw, processed)
    prepare(stores, settings)
    client = FaultyClient(make_s3_client(env.settings))
    with client.table_writes():
        stage(settings)(stores_on(client, raw, processed))
    writes = len(client.writes)
    assert writes >= 4
    reference = tables.state(settings, stores)
    ids = articles_once(settings)
    assert ids
    chosen = set(where(client.writes)) if where else set(range(1, writes + 1))
    for fault in (f for f in faults(writes) if f.at in chosen):
        _, processed = env.buckets(keep_raw=raw)
        stores, settings = env.stores(raw, processed), env.settings_for(raw, processed)
        prepare(stores, settings)
        env.run(fault, raw, processed, stage(settings))
        stage(settings)(stores)
        got = tables.state(settings, stores)
        assert sorted(got["objects"]) == sorted(reference["objects"]), f"{fault}: other objects"
        assert got["objects"] == reference["objects"], f"{fault}: other bytes"
        assert got["rows"] == reference["rows"], f"{fault}: other rows"
        assert got["version"] == reference["version"], f"{fault}: committed twice"
        assert sorted(articles_once(settings)) == sorted(ids), fault


def test_processing_killed_or_cut_at_any_write_reruns_to_the_same_bytes(
        env: Env, raw_sample: tuple[str, list[str], Catalog]) -> None:
    raw, keys, catalog = raw_sample
    _matrix(env, raw, lambda stores, settings: None,
            lambda settings: Step(process_captures, settings, (keys,),
                                  {"catalog": catalog, "tagger": env.tagger}))


def test_reprocessing_killed_or_cut_at_any_write_reruns_to_the_same_bytes(
        env: Env, raw_sample: tuple[str, list[str], Catalog]) -> None:
    raw, keys, catalog = raw_sample

    def prepare(stores: Stores, settings: Settings) -> None:
        process_captures(settings, stores, keys, catalog=catalog, tagger=env.tagger)

    _matrix(env, raw, prepare,
            lambda settings: Step(rebuild, settings, (DAY,),
                                  {"catalog": catalog, "tagger": env.tagger}))


def test_processing_killed_or_cut_at_any_write_then_a_rebuild_leaves_each_article_once(
        env: Env, raw_sample: tuple[str, list[str], Catalog]) -> None:
    """The next step a user takes after a crashed batch may be a rebuild of the day instead of
    a re-run: the table then holds each article once, as an uninterrupted run left it."""
    raw, keys, catalog = raw_sample

    def process(settings: Settings) -> Step:
        return Step(process_captures, settings, (keys,), {"catalog": catalog, "tagger": env.tagger})

    _, processed = env.buckets(keep_raw=raw)
    stores, settings = env.stores(raw, processed), env.settings_for(raw, processed)
    client = FaultyClient(make_s3_client(env.settings))
    with client.table_writes():
        process(settings)(stores_on(client, raw, processed))
    assert any(w.startswith("table_put ") for w in client.writes)
    reference = tables.rows(settings)
    for fault in faults(len(client.writes)):
        _, processed = env.buckets(keep_raw=raw)
        stores, settings = env.stores(raw, processed), env.settings_for(raw, processed)
        env.run(fault, raw, processed, process(settings))
        rebuild(settings, stores, DAY, catalog=catalog, tagger=env.tagger)
        assert tables.rows(settings) == reference, fault
        articles_once(settings)


def _commit_staged(settings: Settings, stores: Stores, parts: list[dict[str, Any]]) -> None:
    pipeline.commit_with(settings, pipeline.load(settings)[1], stores, parts, staged=True)


def test_staged_commit_killed_or_cut_at_any_write_reruns_to_the_same_bytes(
        env: Env, raw_sample: tuple[str, list[str], Catalog]) -> None:
    """The serial stage of a DAG run (from the extraction tasks' staging, in several shards):
    its task retried after a kill or an outage at any write leaves what an uninterrupted run
    leaves, staging removed."""
    raw, keys, _ = raw_sample
    plans: dict[str, list[dict[str, Any]]] = {}

    def sharded(settings: Settings) -> Settings:
        return settings.model_copy(update={"stage_shard_bytes": 24 * 1024})

    def prepare(stores: Stores, settings: Settings) -> None:
        settings = sharded(settings)
        parts = plans[settings.processed_bucket] = pipeline.plan(keys, settings)
        assert len(parts) > 1
        for part in parts:
            pipeline.extract(part, settings)

    _matrix(env, raw, prepare,
            lambda settings: Step(_commit_staged, sharded(settings),
                                  (plans[settings.processed_bucket],)))


def _run_staged(settings: Settings, stores: Stores, parts: list[dict[str, Any]]) -> None:
    catalog = pipeline.load(settings)[1]
    for part in parts:
        pipeline.extract_with(settings, catalog, stores, part)
    pipeline.commit_with(settings, catalog, stores, parts, staged=True)


def test_extraction_killed_or_cut_at_any_write_reruns_to_the_same_bytes(
        env: Env, raw_sample: tuple[str, list[str], Catalog]) -> None:
    """A DAG run's extraction tasks (a group's captures in order, in shards of its sites, each
    storing its staging and its site line history) killed or cut off at any of their writes,
    then the run again: what an uninterrupted run leaves, byte for byte."""
    raw, keys, _ = raw_sample
    plans: dict[str, list[dict[str, Any]]] = {}

    def sharded(settings: Settings) -> Settings:
        return settings.model_copy(update={"stage_shard_bytes": 24 * 1024})

    def prepare(stores: Stores, settings: Settings) -> None:
        plans[settings.processed_bucket] = pipeline.plan(keys, sharded(settings))
        assert len(plans[settings.processed_bucket]) > 1

    def extraction(writes: list[str]) -> list[int]:
        at = [n for n, w in enumerate(writes, 1) if "staging/" in w or "state/sitelines/" in w]
        assert any("state/sitelines/" in w for w in writes)
        return [n for n in at if writes[n - 1].startswith("put_object")]

    _matrix(env, raw, prepare,
            lambda settings: Step(_run_staged, sharded(settings),
                                  (plans[settings.processed_bucket],)),
            where=extraction)


def test_a_commit_gathering_several_captures_killed_or_cut_at_any_write_reruns_to_the_same_bytes(
        env: Env) -> None:
    """The commit task gathers consecutive captures (each its own batch) into one table
    commit: killed or cut off at any write of such a group (segments of some captures
    written, the commit not; the commit done, manifests not), its retry leaves what an
    uninterrupted run leaves, with one table commit for the group."""
    raw, _ = env.buckets(keep_raw=f"fm-corpus-{os.getpid()}")
    keys = corpus.write(env.stores(raw, "unused"), corpus.exchanges(4, captures=2))
    assert len(keys) == 3
    plans: dict[str, list[dict[str, Any]]] = {}

    def prepare(stores: Stores, settings: Settings) -> None:
        parts = plans[settings.processed_bucket] = pipeline.plan(keys, settings)
        for part in parts:
            pipeline.extract(part, settings)

    def group(writes: list[str]) -> list[int]:
        """The group's writes: the lock around its commit and every write under it (its
        segments and the table's data files, stored side by side), the first write after it
        (the rest, one batch's manifest and cleanup after another, the other cases test)."""
        locks = [n for n, w in enumerate(writes, 1) if "_locks/" in w]
        assert len(locks) == 2  # one commit: the lock taken, then let go
        under = writes[locks[0]:locks[1] - 1]
        assert sorted(w.split(" ")[0] for w in under if "state/dedupe/" in w) == [
            "put_object"] * len(keys)
        assert any(w.startswith("table_put articles/") for w in under)
        assert all("state/dedupe/" in w or w.startswith("table_put ") for w in under)
        return list(range(locks[0], locks[1] + 2))

    _matrix(env, raw, prepare,
            lambda settings: Step(_commit_staged, settings, (plans[settings.processed_bucket],)),
            where=group)


def test_a_commit_writing_one_capture_while_deciding_the_next_killed_or_cut_reruns_to_the_same_bytes(
        env: Env) -> None:
    """The commit task writes a group of captures (here each capture its own group) in a
    thread of its own while it decides the next: killed or cut off at any write of a group
    that is not the first (the previous group written, the next one being decided), its retry
    leaves what an uninterrupted run leaves, each group committed once."""
    raw, _ = env.buckets(keep_raw=f"fm-corpus-{os.getpid()}")
    keys = corpus.write(env.stores(raw, "unused"), corpus.exchanges(4, captures=2))
    assert len(keys) == 3
    plans: dict[str, list[dict[str, Any]]] = {}

    def one_by_one(settings: Settings) -> Settings:
        return settings.model_copy(update={"commit_pages": 1})

    def prepare(stores: Stores, settings: Settings) -> None:
        parts = plans[settings.processed_bucket] = pipeline.plan(keys, settings)
        for part in parts:
            pipeline.extract(part, settings)

    def second_group(writes: list[str]) -> list[int]:
        """Every write from the second capture's commit lock to the third's (exclusive): its
        segment and table files, the commit's lock let go, its manifest and cleanup."""
        locks = [n for n, w in enumerate(writes, 1) if w.startswith("put_object _locks/")]
        assert len(locks) == len(keys)
        assert any(w.startswith("table_put ") for w in writes[locks[1]:locks[2] - 1])
        return list(range(locks[1], locks[2]))

    _matrix(env, raw, prepare,
            lambda settings: Step(_commit_staged, one_by_one(settings),
                                  (plans[settings.processed_bucket],)),
            where=second_group)
