"""A busy host: one site whose feed lists N new pages every run and only its latest N (it moves
on), polled with the default politeness (2 requests at once, one request start every 0.5 s).

Runs the real poll task against a local site and a real SeaweedFS for ``--runs`` runs, then
quiet runs (nothing new) until the backlog is empty, and prints per run: new entries, pages
fetched, deferred (not requested: the run's time budget came first) and failed, the backlog
left, and the drain rate (page request starts per second, from the server's own clock) against
the politeness limit. At the end: articles lost (listed but neither captured nor pending),
pages marked seen without a capture, pages given up on. Targets (issue 9): 0 lost, drain rate
at least 90 % of the limit.

Run: python bench/backlog.py [--runs 10] [--per-run 300] [--budget SECONDS] [--delay 0.5]
(the defaults take about 25 minutes: 3,000 pages at 2 a second)
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

from rich.console import Console
from rich.table import Table

from ingest.archive import read_warc
from ingest.config import Settings, parse_catalog
from ingest.models import DataInterval
from ingest.poll import poll_group, state_key
from ingest.sample.server import SampleServer, send
from ingest.seaweed import SeaweedServer
from ingest.storage import Stores
from ingest.urls import url_key

from common import ROOT  # noqa: F401 - puts the project on sys.path

EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


class BusySite:
    """One host: ``/wire.xml`` lists the pages ``show`` was last given; every page exists."""

    def __init__(self, server: SampleServer) -> None:
        self.server = server
        self.starts: list[float] = []
        self.lock = threading.Lock()
        self.listed: set[str] = set()
        server.routes["/wire.xml"] = self._feed
        self.items: list[int] = []

    def url(self, n: int) -> str:
        return f"{self.server.base}/wire/{n}.html"

    def show(self, numbers: list[int]) -> None:
        self.items = sorted(numbers, reverse=True)
        self.listed.update(self.url(n) for n in numbers)
        for n in numbers:
            self.server.routes[f"/wire/{n}.html"] = self._page(n)

    def _feed(self, req: BaseHTTPRequestHandler) -> None:
        items = "".join(
            f"<item><title>Story {n}</title><link>{self.url(n)}</link>"
            f"<pubDate>{format_datetime(EPOCH + timedelta(seconds=n))}</pubDate></item>"
            for n in self.items)
        body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}'
                "</channel></rss>").encode()
        send(req, 200, body, "application/rss+xml")

    def _page(self, n: int) -> object:
        def serve(req: BaseHTTPRequestHandler) -> None:
            with self.lock:
                self.starts.append(time.monotonic())
            paras = "".join(f"<p>Story {n}: officials in district {n} reported item {i} of the "
                            f"day's figures, and said the work would continue.</p>"
                            for i in range(8))
            send(req, 200, f"<html><body><article>{paras}</article></body></html>".encode(),
                 "text/html; charset=utf-8")
        return serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--per-run", type=int, default=300)
    parser.add_argument("--budget", type=float, default=None,
                        help="poll_time_budget in seconds (default: the setting's default)")
    parser.add_argument("--delay", type=float, default=None,
                        help="per_host_delay in seconds (default: the setting's default)")
    args = parser.parse_args()
    console = Console(width=130)
    with tempfile.TemporaryDirectory() as tmp, SampleServer(latency=0.02) as server:
        weed = SeaweedServer(tmp)
        weed.start()
        try:
            overrides = {k: v for k, v in (("poll_time_budget", args.budget),
                                           ("per_host_delay", args.delay)) if v is not None}
            settings = Settings(s3_endpoint_url=weed.endpoint, s3_access_key=weed.access_key,
                                s3_secret_key=weed.secret_key, **overrides)
            stores = Stores.from_settings(settings)
            stores.ensure_buckets()
            run_all(console, settings, stores, BusySite(server), args.runs, args.per_run)
        finally:
            weed.stop()


def run_all(console: Console, settings: Settings, stores: Stores, site: BusySite, runs: int,
            per_run: int) -> None:
    catalog = parse_catalog({"feeds": [{"id": "wire", "url": f"{site.server.base}/wire.xml",
                                        "publisher": "Wire", "group": "busy",
                                        "allow_private": True}]}, env={})
    limit = 1 / settings.per_host_delay if settings.per_host_delay else float("inf")
    table = Table(title=f"One host, {per_run} new pages a run, {settings.per_host_concurrency} "
                        f"at once, a start every {settings.per_host_delay:g} s (limit "
                        f"{limit:.2f} pages/s), run budget {settings.poll_time_budget:g} s, "
                        f"at most {settings.max_pages_per_feed} pages a feed a run")
    for col in ("run", "new", "fetched", "deferred", "failed", "backlog", "seconds",
                "pages/s", "of limit"):
        table.add_column(col, justify="right")
    rates: list[float] = []
    run = 0
    while True:
        quiet = run >= runs
        if not quiet:
            site.show(list(range(run * per_run, (run + 1) * per_run)))
        interval = DataInterval(EPOCH + timedelta(hours=run), EPOCH + timedelta(hours=run + 1))
        site.starts.clear()
        started = time.monotonic()
        outcome = poll_group(settings, stores, catalog, "busy", interval).outcomes[0]
        elapsed = time.monotonic() - started
        starts = sorted(site.starts)
        rate = (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 2 else 0.0
        if len(starts) > 20:
            rates.append(rate)
        table.add_row(f"{run + 1}{' (quiet)' if quiet else ''}", str(outcome.new_entries),
                      str(outcome.pages_ok), str(outcome.pages_deferred),
                      str(outcome.pages_failed), str(outcome.backlog), f"{elapsed:.1f}",
                      f"{rate:.2f}", f"{rate / limit:.0%}" if rate else "")
        run += 1
        if (quiet and outcome.backlog == 0) or run >= runs + 30:
            break
    console.print(table)
    captured: set[str] = set()
    for key in stores.raw.list("captures/"):
        captured |= {r.url for r in read_warc(stores.raw.get(key)) if r.kind == "page"}
    state = (stores.raw.get_json(state_key("busy"), {}) or {}).get("feeds", {}).get("wire", {})
    pending = {p["url"] for p in state.get("pending", [])}
    lost = site.listed - captured - pending
    seen_without = set(state.get("seen", {})) - {url_key(u) for u in captured}
    console.print(f"listed {len(site.listed)}, captured {len(captured)}, pending {len(pending)}, "
                  f"given up {len(state.get('failed', {}))}")
    console.print(f"articles lost: {len(lost)} (target 0); seen without a capture: "
                  f"{len(seen_without)}")
    if rates:
        console.print(f"drain rate of the backlogged host: median {sorted(rates)[len(rates) // 2]:.2f}"
                      f" pages/s, lowest {min(rates):.2f} = {min(rates) / limit:.0%} of the "
                      f"politeness limit (target 90 %)")


if __name__ == "__main__":
    main()
