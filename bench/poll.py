"""Feed polling throughput: 500 feeds of 50 items (about 19 KB each) on local servers that
answer after 50 ms, against a sequential ``feedparser.parse(url)`` loop.

The feeds are spread over 500 loopback hosts (127.0.0.2 onwards, one feed each), as a real
catalog spreads over many outlets, so the default politeness settings (2 requests per host at
once, 0.5 s between request starts on a host) apply unchanged; `--hosts 250` puts two feeds on
each host, which adds one per-host delay (0.5 s) to each poll. news-ingest runs the real poll
task: conditional GET, parse, feed state and WARC capture of each feed document written to a
real SeaweedFS, pages not fetched (``fetch_pages=False``), as the baseline fetches no pages.
Prints feeds/s for a first poll and for a repeat poll of unchanged feeds, the ratios, and how
many feed bodies the repeat poll transferred.
Run: python bench/poll.py [--feeds 500] [--baseline-feeds 500]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import feedparser

from ingest.config import Settings, parse_catalog
from ingest.models import DataInterval
from ingest.poll import poll_group
from ingest.seaweed import SeaweedServer, free_port
from ingest.storage import Stores

from common import ROOT  # noqa: F401 - puts the project on sys.path


def feed_body(host: int, n: int, items: int = 50) -> bytes:
    rows = []
    for i in range(items):
        url = f"https://outlet{host}.example/world/2026/11/27/story-{n}-{i}.html"
        rows.append(
            f"<item><title>Outlet {host} story {i}: ministers meet over trade and climate</title>"
            f"<link>{url}</link><guid isPermaLink=\"true\">{url}</guid>"
            f"<pubDate>Fri, 27 Nov 2026 {i % 24:02d}:{i % 60:02d}:00 +0000</pubDate>"
            f"<description>Officials from several countries met on Friday to discuss trade, "
            f"energy and climate policy, the outlet reported.</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {host} feed {n}</title><link>https://outlet{host}.example/</link>"
            f"<description>World news</description>{''.join(rows)}</channel></rss>").encode()


def serve(feeds: int, hosts: int) -> None:
    """Serve the benchmark feeds from another process, like remote servers: an aiohttp server
    on each loopback host that answers after 50 ms, with ETag / If-None-Match support."""
    import asyncio
    import hashlib

    from aiohttp import web

    per_host = max(1, feeds // hosts)
    files: dict[tuple[str, str], bytes] = {}
    urls: list[str] = []
    addresses = [f"127.0.{(h + 2) // 256}.{(h + 2) % 256}" for h in range(hosts)]
    port = free_port()
    for h, address in enumerate(addresses):
        for n in range(per_host):
            if len(urls) < feeds:
                files[(address, f"/feed-{n}.xml")] = feed_body(h, n)
                urls.append(f"http://{address}:{port}/feed-{n}.xml")
    etags = {k: '"' + hashlib.sha256(v).hexdigest()[:20] + '"' for k, v in files.items()}
    hits = [0]

    async def handle(request: web.Request) -> web.Response:
        hits[0] += 1
        await asyncio.sleep(0.05)
        key = (request.host.rsplit(":", 1)[0], request.path)
        if key not in files:
            return web.Response(status=404)
        if request.headers.get("If-None-Match") == etags[key]:
            return web.Response(status=304, headers={"ETag": etags[key]})
        return web.Response(body=files[key], content_type="application/rss+xml",
                            headers={"ETag": etags[key]})

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/{name}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for address in addresses:
            await web.TCPSite(runner, address, port, backlog=1024).start()
        size = sum(len(v) for v in files.values()) / len(files)
        print(json.dumps({"urls": urls, "size": size}), flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if line.strip() == "hits":
                print(json.dumps(hits[0]), flush=True)
            else:
                break
        await runner.cleanup()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--baseline-feeds", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.hosts)
        return
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--feeds", str(args.feeds),
                             "--hosts", str(args.hosts)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    urls, size = info["urls"], info["size"]

    def hits() -> int:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("hits\n")
        proc.stdin.flush()
        return int(json.loads(proc.stdout.readline()))

    print(f"{len(urls)} feeds of 50 items, {size / 1024:.1f} KB each, on {args.hosts} loopback hosts "
          "(served by another process), 50 ms server latency")
    sample = urls[: args.baseline_feeds]
    timings = {}
    for label in ("first", "repeat"):
        start = time.perf_counter()
        for url in sample:
            feedparser.parse(url)
        timings[f"loop-{label}"] = (time.perf_counter() - start) * len(urls) / len(sample)

    with tempfile.TemporaryDirectory() as tmp, SeaweedServer(tmp) as seaweed:
        settings = Settings(s3_endpoint_url=seaweed.endpoint, s3_access_key=seaweed.access_key,
                            s3_secret_key=seaweed.secret_key, fetch_pages=False)
        stores = Stores.from_settings(settings)
        stores.ensure_buckets()
        catalog = parse_catalog({"defaults": {"publisher": "Bench", "group": "bench",
                                              "allow_private": True},
                                 "feeds": [{"id": f"feed-{i}", "url": u}
                                           for i, u in enumerate(urls)]}, env={})
        start_at = datetime(2026, 11, 27, tzinfo=UTC)
        hits_before = hits()
        for label, offset in (("first", 0), ("repeat", 1)):
            interval = DataInterval(start_at + timedelta(hours=offset),
                                    start_at + timedelta(hours=offset + 1))
            start, cpu = time.perf_counter(), time.process_time()
            result = poll_group(settings, stores, catalog, "bench", interval)
            timings[f"ingest-{label}"] = time.perf_counter() - start
            timings[f"cpu-{label}"] = time.process_time() - cpu
            statuses: dict[str, int] = {}
            for o in result.outcomes:
                statuses[o.status] = statuses.get(o.status, 0) + 1
            print(f"news-ingest {label} poll: {statuses}, "
                  f"{sum(o.entries for o in result.outcomes)} entries parsed, "
                  f"{timings[f'cpu-{label}']:.2f} s CPU in the polling process")
        requests = hits() - hits_before
    proc.stdin.write("stop\n")
    proc.stdin.flush()
    proc.wait(timeout=30)

    print(f"\n{'':38} {'seconds':>8} {'feeds/s':>9} {'speed-up':>9}")
    for label, target in (("first", 10), ("repeat", 50)):
        loop, ours = timings[f"loop-{label}"], timings[f"ingest-{label}"]
        note = "" if len(sample) == len(urls) else f" (measured on {len(sample)}, scaled)"
        print(f"{'feedparser.parse(url) loop, ' + label:38} {loop:8.2f} {len(urls) / loop:9.1f}"
              f"{'':>10}{note}")
        print(f"{'news-ingest poll, ' + label:38} {ours:8.2f} {len(urls) / ours:9.1f} "
              f"{loop / ours:8.1f}x (target >= {target}x)")
    print(f"requests to the feed servers during the two news-ingest polls: {requests} "
          f"({len(urls)} per poll, so the repeat poll's were all conditional)")


if __name__ == "__main__":
    main()
