"""A local "Media Cloud hour": 1,000 news sites, 20,000 article pages, first poll to last row.

Each site has its own loopback address (127.1.x.y, so per-host politeness applies as it would on
the web: 2 requests at once, 0.5 s apart) and a feed listing its 20 newest stories. The pages are
the shared extraction benchmark's 181 real news pages with their text varied per page (a third
of the words of every text node replaced from the benchmark's own vocabulary, so no two pages
are near-duplicates while size and structure stay real), and one page in 20 is a syndicated
copy of another site's story. The sites are served gzip-compressed by one aiohttp process.

The pipeline runs as deployed: ``Stack`` (embedded PostgreSQL, supervised scheduler,
LocalExecutor with a task process per core); once it is up, news_process and news_poll are
unpaused (the API server's own start is a deployment's once, not an hour's; news_maintain's
daily run stays paused) and news_poll's scheduled run polls every group
(groups of 100 feeds), its news-raw event triggers news_process (plan, extraction mapped over
capture shards, serial commit). Printed:

- wall time from the poll run's start to the process run's end; pages and articles per second;
- the limit: bare ``trafilatura.extract(html, url=url)`` over the same pages in one process per
  core, pages per second, and the ratio of the two;
- time per stage (poll, plan, extraction, commit) and the serial stage's rate once its index is
  loaded; peak resident memory of the task processes (each task reports its own);
- then the same at twice the volume, and the cost per article of both runs.

Run: python bench/scale.py [--sites 1000] [--per-site 20] [--per-group 100] [--no-double]
(``--per-group 10``: ten times as many smaller captures, as hourly polls of many groups give;
``SCALE_PROCESSES=1``: also the 25 processes that used the most CPU, with their commands;
``SCALE_TIMELINE=1``: every task instance's start and end)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import os
import random
import re
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml

from common import ROOT, extraction_pages

sys.path.insert(0, str(ROOT / "scripts"))

PER_GROUP = 100
COPY_EVERY = 20  # one page in 20 is a copy of another site's story
_TEXT = re.compile(rb">([^<>]{30,})<")
_WORD = re.compile(rb"[A-Za-z]{3,}")


def address(site: int) -> str:
    """Loopback address of a site: 127.1.0.1, 127.1.0.2, ... (250 per third octet)."""
    return f"127.1.{site // 250}.{site % 250 + 1}"


def content_of(page: int, per_site: int) -> int:
    """Which generated text a page shows: its own, or (one in 20) an earlier site's story."""
    if page % COPY_EVERY == COPY_EVERY - 7 and page >= 3 * per_site:
        return page - 3 * per_site
    return page


# --- page generation (cached on disk, outside the timed part) -------------------------------

_templates: list[tuple[str, bytes]] = []
_vocab: list[bytes] = []


def _load_templates() -> None:
    global _templates, _vocab
    if not _templates:
        pages = extraction_pages()
        _templates = [(url, html) for _, url, html, _ in pages]
        words = sorted({w for _, _, html, _ in pages for w in _WORD.findall(html)})
        _vocab = words


def _vary(html: bytes, seed: int) -> bytes:
    rng = random.Random(seed)

    def words(m: re.Match[bytes]) -> bytes:
        return _WORD.sub(lambda w: rng.choice(_vocab) if rng.random() < 0.34 else w.group(0),
                         m.group(0))

    return _TEXT.sub(words, html)


def _generate(args: tuple[int, Path]) -> None:
    page, out = args
    target = out / f"{page}.html.gz"
    if target.exists():
        return
    _load_templates()
    _, html = _templates[page % len(_templates)]
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(_vary(html, page), 6))
    tmp.rename(target)


def generate(pages: int, per_site: int, cache: Path) -> None:
    """Write the gzip-compressed text of every page that is not a copy (once; cached)."""
    cache.mkdir(parents=True, exist_ok=True)
    todo = sorted({content_of(p, per_site) for p in range(pages)})
    todo = [p for p in todo if not (cache / f"{p}.html.gz").exists()]
    if todo:
        print(f"generating {len(todo)} pages into {cache} ...", flush=True)
        with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
            pool.map(_generate, [(p, cache) for p in todo], chunksize=64)


# --- the sites --------------------------------------------------------------------------------

def _serve(sites: int, per_site: int, port: int, cache: str, now: float, ready: Any) -> None:
    import asyncio

    from aiohttp import web

    def site_of(host: str) -> int:
        parts = host.split(":")[0].split(".")
        return int(parts[2]) * 250 + int(parts[3]) - 1

    async def feed(request: web.Request) -> web.Response:
        site = site_of(request.host)
        base = f"http://{request.host}"
        items = []
        for n in reversed(range(per_site)):
            when = format_datetime(datetime.fromtimestamp(now, UTC) - timedelta(minutes=n + 1))
            items.append(f"<item><title>Story {n} of site {site}</title>"
                         f"<link>{base}/story/{n}.html</link><guid>{base}/story/{n}.html</guid>"
                         f"<pubDate>{when}</pubDate></item>")
        body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Site {site}</title>{''.join(items)}</channel></rss>")
        return web.Response(text=body, content_type="application/rss+xml")

    async def story(request: web.Request) -> web.Response:
        site = site_of(request.host)
        n = int(request.match_info["n"])
        data = (Path(cache) / f"{content_of(site * per_site + n, per_site)}.html.gz").read_bytes()
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            return web.Response(body=data, headers={"Content-Type": "text/html; charset=utf-8",
                                                    "Content-Encoding": "gzip"})
        return web.Response(body=gzip.decompress(data), content_type="text/html",
                            charset="utf-8")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed.xml", feed)
        app.router.add_get("/story/{n}.html", story)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for site in range(sites):
            await web.TCPSite(runner, address(site), port, backlog=512).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the limit ----------------------------------------------------------------------------------

def _bare(args: tuple[str, str]) -> int:
    import trafilatura

    path, url = args
    return len(trafilatura.extract(gzip.decompress(Path(path).read_bytes()), url=url) or "")


def bare_limit(pages: int, per_site: int, cache: Path) -> float:
    """Pages per second of bare trafilatura.extract over the same pages, a process per core."""
    work = [(str(cache / f"{content_of(p, per_site)}.html.gz"),
             f"http://{address(p // per_site)}/story/{p % per_site}.html") for p in range(pages)]
    with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
        pool.map(_bare, work[:os.cpu_count() or 1])  # imports done before the clock starts
        started = time.monotonic()
        pool.map(_bare, work, chunksize=16)
        return pages / (time.monotonic() - started)


# --- CPU by component ---------------------------------------------------------------------------

COMPONENTS = (("api_server", "api-server"), ("api-server", "api-server"),
              ("scheduler", "scheduler"), ("dag-processor", "dag-processor"),
              ("triggerer", "triggerer"), ("serve-logs", "serve-logs"),
              ("weed", "SeaweedFS"), ("postgres", "PostgreSQL"), ("airflow", "task processes"))


class CpuSampler:
    """CPU seconds of every process on the machine while a run goes on, by component (the
    Airflow servers, the task processes, SeaweedFS, PostgreSQL, the sites' server, this
    bench). Sampled once a second: a process that exits loses at most its last second."""

    def __init__(self, labels: dict[int, str]) -> None:
        self.labels = labels  # pids known by the caller (the sites' server, this process)
        self.seen: dict[tuple[int, float], tuple[float, str]] = {}
        self.start: dict[tuple[int, float], float] = {}
        self.commands: dict[tuple[int, float], str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _component(self, pid: int, text: str) -> str:
        if pid in self.labels:
            return self.labels[pid]
        return next((name for key, name in COMPONENTS if key in text), "other")

    def _sample(self, first: bool = False) -> None:
        import psutil

        # psutil keeps a process's object (and its start time) between calls: only the CPU
        # times are read each time, the command line once per process
        for proc in psutil.process_iter():
            try:
                key = (proc.pid, proc.create_time())
                times = proc.cpu_times()
                if key not in self.seen:
                    self.commands[key] = " ".join(proc.cmdline())[:160]
            except psutil.Error:
                continue
            cpu = times.user + times.system
            if first:
                self.start[key] = cpu
            name = self.seen[key][1] if key in self.seen else self._component(
                proc.pid, self.commands[key])
            self.seen[key] = (cpu, name)

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample(first=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def top(self, n: int = 25) -> list[tuple[float, str]]:
        """The ``n`` processes that used the most CPU, with their component and command."""
        return sorted(((cpu - self.start.get(key, 0.0), f"{name}: {self.commands.get(key, '')}")
                       for key, (cpu, name) in self.seen.items()), reverse=True)[:n]

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, (cpu, name) in self.seen.items():
            out[name] = out.get(name, 0.0) + cpu - self.start.get(key, 0.0)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


# --- one run ------------------------------------------------------------------------------------

def _when(value: str | None) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else 0.0


def _xcom(airflow: Any, dag: str, run: str, ti: dict[str, Any]) -> dict[str, Any]:
    path = (f"/dags/{dag}/dagRuns/{run}/taskInstances/{ti['task_id']}/xcomEntries/return_value")
    found = airflow.api("GET", path, params={"map_index": ti["map_index"], "deserialize": True})
    value = found.get("value")
    return json.loads(value) if isinstance(value, str) else (value or {})


def run_once(sites: int, per_site: int, cache: Path, tmp: Path,
             per_group: int = PER_GROUP) -> dict[str, Any]:
    from stack import Stack

    from ingest import table
    from ingest.config import Settings
    from ingest.seaweed import SeaweedServer, free_port
    from ingest.storage import Stores

    pages = sites * per_site
    port = free_port()
    ready = multiprocessing.get_context("spawn").Event()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(sites, per_site, port, str(cache), time.time(), ready), daemon=True)
    with ExitStack() as stack:
        server.start()
        stack.callback(server.terminate)
        if not ready.wait(120):
            raise RuntimeError("the sites did not come up")
        cpu = stack.enter_context(CpuSampler({server.pid or -1: "sites' server",
                                              os.getpid(): "this bench"}))
        seaweed = stack.enter_context(SeaweedServer(tmp / "seaweed",
                                                    buckets=("news-raw", "news-processed")))
        feeds = [{"id": f"site{s:04d}", "url": f"http://{address(s)}:{port}/feed.xml",
                  "publisher": f"Site {s}", "group": f"g{s // per_group:03d}"}
                 for s in range(sites)]
        catalog = tmp / "feeds.yaml"
        catalog.write_text(yaml.safe_dump({"version": 1, "defaults": {"allow_private": True},
                                           "feeds": feeds}))
        settings = Settings(s3_endpoint_url=seaweed.endpoint, s3_access_key=seaweed.access_key,
                            s3_secret_key=seaweed.secret_key)
        # the DAGs start paused and the hour starts once the stack is up: the API server's
        # own start (half a minute on a slow machine) is a deployment's once, not an hour's
        airflow = Stack.start_fresh(tmp, env={
            "NEWS_INGEST_S3_ENDPOINT_URL": seaweed.endpoint,
            "NEWS_INGEST_S3_ACCESS_KEY": seaweed.access_key,
            "NEWS_INGEST_S3_SECRET_KEY": seaweed.secret_key,
            "NEWS_INGEST_CATALOG_PATH": str(catalog),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"})
        stack.callback(airflow.stop)
        airflow.wait_for_dags(["news_poll", "news_process"])
        for dag in ("news_process", "news_poll"):  # news_maintain's daily run stays out
            airflow.api("PATCH", f"/dags/{dag}", json={"is_paused": False})
        polls = airflow.wait_for_runs("news_poll", 1, timeout=7200)
        stores = Stores.from_settings(settings)
        deadline = time.monotonic() + 7200
        while time.monotonic() < deadline:  # every capture committed: the inbox is empty
            processes = airflow.runs("news_process")
            if processes and not list(stores.raw.list("inbox/")) and all(
                    r["state"] in ("success", "failed") for r in processes):
                break
            time.sleep(2)
        poll_run, process_runs = polls[0], processes
        tis: dict[str, list[dict[str, Any]]] = {}
        for dag, runs in (("news_poll", [poll_run]), ("news_process", process_runs)):
            for run in runs:
                found = airflow.api("GET", f"/dags/{dag}/dagRuns/{run['dag_run_id']}/"
                                    "taskInstances", params={"limit": 1000})["task_instances"]
                for ti in found:
                    ti["xcom"] = _xcom(airflow, dag, run["dag_run_id"], ti) \
                        if ti["state"] == "success" else {}
                    tis.setdefault(ti["task_id"], []).append(ti)
        articles = table.read(settings).num_rows
        failed = [f"{t['task_id']}[{t['map_index']}]={t['state']}" for group in tis.values()
                  for t in group if t["state"] != "success"]

        def span(task: str) -> float:
            group = [t for t in tis.get(task, []) if t["start_date"] and t["end_date"]]
            return max(_when(t["end_date"]) for t in group) - min(
                _when(t["start_date"]) for t in group) if group else 0.0

        t0 = _when(poll_run["start_date"])
        wall = max(_when(r["end_date"]) for r in process_runs) - t0
        busy = {task: sum(_when(t["end_date"]) - _when(t["start_date"]) for t in group
                          if t["start_date"] and t["end_date"]) for task, group in tis.items()}
        timeline = sorted((round(_when(t["start_date"]) - t0, 1),
                           round(_when(t["end_date"]) - t0, 1), t["task_id"],
                           t.get("rendered_map_index") or "")
                          for group in tis.values() for t in group if t["start_date"])
        commits = [t["xcom"] for t in tis.get("commit", [])]
        seconds: dict[str, float] = {}
        for c in commits:
            for k, v in c.get("seconds", {}).items():
                seconds[k] = seconds.get(k, 0.0) + v
        committed = sum(c.get("counts", {}).get("pages", 0) for c in commits)
        # the commit tasks' serial stage once its index was in (its own wall time: its steps
        # overlap, the table commit of a group of captures with the deciding of the next)
        serial = seconds.get("serial", 0.0)
        rss = {task: max((t["xcom"].get("peak_rss_mib", 0) for t in group
                          if isinstance(t["xcom"], dict)), default=0)
               for task, group in tis.items()}
        task_cpu = {task: sum(t["xcom"].get("cpu_seconds", 0) for t in group
                              if isinstance(t["xcom"], dict)) for task, group in tis.items()}
        return {"sites": sites, "pages": pages, "articles": articles, "wall": wall,
                "pages_per_s": pages / wall, "articles_per_s": articles / wall,
                "stages": {"poll": span("poll"), "plan": span("plan"),
                           "extract": span("extract"), "commit": span("commit")},
                "extract_tasks": len(tis.get("extract", [])), "process_runs": len(process_runs),
                "serial": {"pages": committed, "index_s": seconds.get("index", 0.0),
                           "steps": seconds,
                           "rest_s": serial,
                           "pages_per_s": committed / serial if serial else 0.0},
                "peak_rss_mib": rss, "task_cpu": task_cpu, "failed": failed, "busy": busy, "timeline": timeline,
                "cpu": cpu.totals(), "top": cpu.top()}


def report(label: str, got: dict[str, Any], limit: float) -> None:
    print(f"\n== {label}: {got['sites']} sites, {got['pages']} pages, {got['articles']} rows "
          f"({got['process_runs']} news_process runs, {got['extract_tasks']} extraction tasks)")
    print(f"wall time, first poll to last row : {got['wall']:.1f} s")
    print(f"end to end                        : {got['pages_per_s']:.1f} pages/s, "
          f"{got['articles_per_s']:.1f} rows/s")
    print(f"bare trafilatura, {os.cpu_count()} processes   : {limit:.1f} pages/s")
    print(f"ratio (target >= 0.75)            : {got['pages_per_s'] / limit:.2f}")
    print("stages, first start to last end (s): " + ", ".join(
        f"{k} {v:.1f}" for k, v in got["stages"].items()))
    cpu = got.get("cpu", {})
    print(f"CPU seconds, stack start to last row: {sum(cpu.values()):.0f}: " + ", ".join(
        f"{k} {v:.0f}" for k, v in cpu.items() if v >= 0.5))
    print("task-seconds per task              : " + ", ".join(
        f"{k} {v:.0f}" for k, v in got["busy"].items()))
    print("CPU seconds of the tasks' processes: " + ", ".join(
        f"{k} {v:.0f} ({1000 * v / got['pages']:.1f} ms a page)"
        for k, v in got.get("task_cpu", {}).items() if v))
    if os.environ.get("SCALE_PROCESSES"):
        for seconds, what in got["top"]:
            print(f"  {seconds:7.1f} s  {what}")
    if os.environ.get("SCALE_TIMELINE"):
        for start, end, task, label in got["timeline"]:
            print(f"  {start:7.1f} {end:7.1f}  {task} {label}")
    s = got["serial"]
    print(f"serial stage once its index is in : {s['pages_per_s']:.0f} pages/s "
          f"({s['pages']} pages in {s['rest_s']:.2f} s; index load {s['index_s']:.2f} s; "
          "target >= 5000)")
    print("  its seconds per step             : " + ", ".join(
        f"{k} {v:.2f}" for k, v in s.get("steps", {}).items()))
    print("peak RSS per task process (MiB)   : " + ", ".join(
        f"{k} {v:.0f}" for k, v in got["peak_rss_mib"].items() if v) + " (target < 1024)")
    if got["failed"]:
        print(f"NOT SUCCESSFUL task instances     : {got['failed']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--per-site", type=int, default=20)
    parser.add_argument("--per-group", type=int, default=PER_GROUP,
                        help="feeds per feed group (one capture per group and poll)")
    parser.add_argument("--no-double", action="store_true", help="skip the run at 2x volume")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                        "news-ingest-scale-pages"))
    args = parser.parse_args()
    if (args.sites * 2 if not args.no_double else args.sites) > 250 * 250:
        raise SystemExit("at most 62,500 sites (127.1.0.1 - 127.1.249.250)")
    key = hashlib.sha256(f"{COPY_EVERY}|v1".encode()).hexdigest()[:8]
    cache = Path(args.cache) / key
    runs = [args.sites] if args.no_double else [args.sites, 2 * args.sites]
    generate(max(runs) * args.per_site, args.per_site, cache)
    results = []
    for sites in runs:
        limit = bare_limit(sites * args.per_site, args.per_site, cache)
        with tempfile.TemporaryDirectory() as tmp:
            got = run_once(sites, args.per_site, cache, Path(tmp), args.per_group)
        report(f"{sites * args.per_site} pages", got, limit)
        results.append((got, limit))
    if len(results) == 2:
        (a, _), (b, _) = results
        ca, cb = a["wall"] / a["articles"] * 1000, b["wall"] / b["articles"] * 1000
        print(f"\ncost per 1,000 rows: {ca:.1f} s at {a['pages']} pages, {cb:.1f} s at "
              f"{b['pages']} pages: {100 * (cb / ca - 1):+.1f} % (target within 15 %)")


if __name__ == "__main__":
    main()
