"""The serial stage alone: committing staged pages, once its index is loaded (issue 11).

Builds staged pages as the extraction stage leaves them: the shared extraction benchmark's 181
pages are extracted once (``ingest.stage.stage_page``), then varied into ``--pages`` distinct
articles (a third of each text's words, in whatever script, replaced from the set's own
vocabulary, so no two are near-duplicates, except that one in 20 is a
copy of another page, so the near-duplicate index has work), published within a day and a
half before their fetch, spread over ``--captures`` captures of one day. Each capture's raw object and staging are stored on a real SeaweedFS, then
``ingest.pipeline.commit_with`` runs as the DAG's commit task does. Then a second day of the same
size is committed against the first (a window with an index in it). Printed per run: pages,
seconds and pages/s for the whole serial stage and for the stage once its index is loaded
(reading staging, deciding, writing segments, the table commit, manifests, reports), the
seconds per step and the peak resident memory of the process (each run is in a fresh process
of its own, as the commit task is); ``--profile`` prints the top of a cProfile of the second
run.

Target (issue 11): at least 5,000 pages/s once the index is loaded.

Run: python bench/commit.py [--pages 20000] [--captures 10] [--published-days 1.5]
     [--commit-pages N] [--profile] [--trace-memory] [--dump FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import logging
import multiprocessing
import os
import pstats
import random
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest import pipeline, table
from ingest.archive import ArchivedResponse
from ingest.config import Catalog, Settings
from ingest.dedupe import MIN_SHINGLES, text_hash
from ingest.minhash import sketch
from ingest.process import config_hash
from ingest.regions import default_tagger
from ingest.stage import ARTICLE, StagedPage, StagedShard, stage_id, stage_page, write_shard
from ingest.storage import Stores

from common import extraction_pages, seaweed_store

_WORD = re.compile(r"\w{3,}")  # words of every script (a CJK run of characters counts as one)


def base_pages(settings: Settings) -> list[StagedPage]:
    tagger = default_tagger(settings.regions_path)
    out = []
    for n, (_pid, url, html, _truth) in enumerate(extraction_pages()):
        rec = ArchivedResponse(url=url, final_url=url, status=200, body=html, offset=n,
                               headers=(), fetched_at=datetime(2026, 10, 1, tzinfo=UTC),
                               meta={}, kind="page")
        page = stage_page(settings, "c", rec, {}, tagger)
        if page.outcome == ARTICLE:
            out.append(page)
    return out


def variants(base: list[StagedPage], count: int, day: datetime, captures: int,
             seed: int, copy_every: int = 20,
             published_days: float = 1.5) -> dict[str, list[StagedPage]]:
    rng = random.Random(seed)
    vocab = sorted({w for p in base for w in _WORD.findall(p.text)})
    by_capture: dict[str, list[StagedPage]] = {}
    made: list[StagedPage] = []
    for i in range(count):
        capture = f"captures/dt={day:%Y-%m-%d}/group=g{i % captures:02d}/{day:%H%M%S}.warc.gz"
        if made and i % copy_every == copy_every - 1:
            src = made[rng.randrange(len(made))]
            words = src.text.split(" ")  # a copy: whole, truncated, or lightly edited
            cut = rng.choice((len(words), len(words), int(len(words) * 0.8)))
            text = " ".join(words[:cut])
        else:
            src = base[i % len(base)]
            text = _WORD.sub(lambda w: rng.choice(vocab) if rng.random() < 0.34 else w.group(0),
                             src.text)
        sk = sketch(text)
        url = f"https://site{i % 1000}.example/{day:%Y%m%d}/story-{i}"
        page = replace(src, capture=capture, offset=i, url=url, final_url=url,
                       canonical_url=url, article_id=f"{seed:02d}{i:08d}",
                       source_domain=f"site{i % 1000}.example",
                       fetched_at=day + timedelta(seconds=i), text=text,
                       # news: published within the day and a half before it was fetched
                       # (by default; a backfill's pages spread over its range)
                       published_at=day + timedelta(
                           seconds=i - rng.randrange(int(published_days * 86400))),
                       content_hash=text_hash(text),
                       signature=sk.to_bytes() if sk.size >= MIN_SHINGLES else None,
                       shingles=sk.size)
        made.append(page)
        by_capture.setdefault(capture, []).append(page)
    return by_capture


def stage_day(settings: Settings, stores: Stores, stage: str,
              by_capture: dict[str, list[StagedPage]]) -> list[dict[str, object]]:
    parts = []
    for capture, pages in sorted(by_capture.items()):
        stores.raw.put(capture, b"raw capture stand-in " + capture.encode())
        version = stores.raw.stat(capture)[0]
        write_shard(stores, stage, StagedShard.of_pages(capture, version, 0, 1, pages))
        parts.append({"capture": capture, "shard": 0, "shards": 1, "marker": None,
                      "marked": False, "stage": stage})
    return parts


def serial_stage(settings: Settings, parts: list[dict[str, object]], profile: bool,
                 trace: bool = False) -> tuple[dict[str, Any], float, float, str]:
    """The commit task's work in this (fresh) process: its summary, its seconds, this
    process's resident memory before it (MiB: the imports) and the profile's text (and with
    ``trace``, the resident memory at each of the pipeline's log lines and the most between
    them)."""
    stores = Stores.from_settings(settings)
    before = high_water_mib()
    sampler = RssTrace() if trace else None
    # the table's own account of each commit's files (ingest.table.PartitionFiles)
    files = logging.getLogger("ingest.table")
    said: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    files.addHandler(handler)
    files.setLevel(logging.INFO)
    prof = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if prof:
        prof.enable()
    try:
        summary = pipeline.commit_with(settings, Catalog(feeds=()), stores, parts, staged=True)
    finally:
        if sampler:
            sampler.stop()
    if prof:
        prof.disable()
    took = time.perf_counter() - started
    text = io.StringIO()
    if sampler:
        text.write(sampler.report())
    if prof:
        pstats.Stats(prof, stream=text).sort_stats(
            os.environ.get("PROFILE_SORT", "cumulative")).print_stats(40)
    text.write("".join(f"  table commit             : {line}\n" for line in said
                       if " files of " in line))
    return summary | {"peak_rss_mib": high_water_mib()}, took, before, text.getvalue()


class RssTrace(logging.Handler):
    """Resident memory sampled every 20 ms in a thread, and every log line of the pipeline
    (``ingest.*``, INFO and up) with the memory when it was said and the most since the line
    before."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[float, float, float, str]] = []
        self.most = self.now = pipeline.resident_mib()
        self.began = time.perf_counter()
        self.running = True
        logging.getLogger("ingest").addHandler(self)
        logging.getLogger("ingest").setLevel(logging.INFO)
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            self.now = pipeline.resident_mib()
            self.most = max(self.most, self.now)
            time.sleep(0.02)

    def emit(self, record: logging.LogRecord) -> None:
        now = pipeline.resident_mib()
        self.lines.append((time.perf_counter() - self.began, now, max(self.most, now),
                           record.getMessage()[:110]))
        self.most = now

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        logging.getLogger("ingest").removeHandler(self)

    def report(self) -> str:
        return "".join(f"  {at:7.2f} s {now:6.0f} MiB (most before {most:6.0f}) {said}\n"
                       for at, now, most, said in self.lines)


def high_water_mib() -> float:
    """This process's peak resident memory in MiB (Linux's VmHWM: the process's own since its
    exec, unlike ``ru_maxrss``, which a spawned child inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run(settings: Settings, parts: list[dict[str, object]], pages: int, label: str,
        profile: bool, trace: bool = False) -> None:
    # in a process of its own, as the commit task is, so its peak memory is its own
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        summary, took, before, profiled = child.submit(
            serial_stage, settings, parts, profile, trace).result()
    seconds = summary["seconds"]
    loaded = took - seconds.get("index", 0.0)
    print(f"{label}: {pages} pages in {len(parts)} captures; {summary['counts']}")
    print(f"  whole serial stage       : {took:6.2f} s  {pages / took:7.0f} pages/s")
    print(f"  once its index is loaded : {loaded:6.2f} s  {pages / loaded:7.0f} pages/s"
          f"  (target >= 5,000)")
    print("  seconds per step         : " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))
    print(f"  peak resident memory     : {summary['peak_rss_mib']:.0f} MiB "
          f"({before:.0f} MiB after the imports; target < 1024)")
    print(profiled, end="")


def dump(settings: Settings, stores: Stores, path: Path) -> None:
    """Every output but the table's own files and the staging, as text to compare."""
    lines = [json.dumps(row, default=str, sort_keys=True) for row in table.rows(settings)]
    for key in sorted(stores.processed.list("")):
        if not key.startswith(("articles/", "staging/", "_locks/")):
            lines.append(f"{key} {hashlib.sha256(stores.processed.get(key)).hexdigest()}")
    path.write_text("\n".join(lines) + "\n")
    print(f"digest of {len(lines)} outputs -> {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--captures", type=int, default=10)
    parser.add_argument("--copy-every", type=int, default=20,
                        help="one page in N is a (whole, truncated or edited) copy of another")
    parser.add_argument("--published-days", type=float, default=1.5,
                        help="pages published within this many days before their fetch (1.5: "
                        "an hour's news; 100: the spread of a long backfill, or of the scale "
                        "bench's pages, which keep the benchmark pages' dates)")
    parser.add_argument("--commit-pages", type=int, default=0,
                        help="pages gathered into one table commit (default: the setting's)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--trace-memory", action="store_true",
                        help="print the resident memory at each log line of the pipeline")
    parser.add_argument("--dump", help="write a digest of every output (rows, segments, "
                        "manifests, reports) to this file, to compare two versions")
    args = parser.parse_args()
    with seaweed_store() as (settings, stores):
        if args.commit_pages:
            settings = settings.model_copy(update={"commit_pages": args.commit_pages})
        stage = stage_id(config_hash(settings), Catalog(feeds=()))
        base = base_pages(settings)
        for n, day in enumerate((datetime(2026, 10, 1, tzinfo=UTC),
                                 datetime(2026, 10, 2, tzinfo=UTC))):
            made = variants(base, args.pages, day, args.captures, seed=n,
                            copy_every=args.copy_every, published_days=args.published_days)
            parts = stage_day(settings, stores, stage, made)
            run(settings, parts, args.pages,
                "first day (empty index)" if n == 0 else "second day (the first in its window)",
                args.profile and n == 1, args.trace_memory)
        if args.dump:
            dump(settings, stores, Path(args.dump))


if __name__ == "__main__":
    main()
