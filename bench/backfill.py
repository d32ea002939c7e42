"""A 30-day backfill over 20 feeds from local sources, through a real scheduler.

Twenty news sites, each on its own loopback host (127.0.0.30 onwards, so the default politeness
settings apply unchanged: 2 requests at once and 0.5 s between request starts per host), each
with a sitemap index of daily sitemaps and 10 distinct stories a day. ``airflow standalone``
(LocalExecutor, SQLite) on a temporary AIRFLOW_HOME with news_poll on a daily schedule; a
backfill of news_poll over 30 days is created with ``POST /api/v2/backfills`` (4 runs at once)
and its news-raw events drive news_process. Prints the wall time from the backfill request to
the last processing run, articles/s, failed task instances and what the completeness reports
say.
Run: python bench/backfill.py [--days 30] [--feeds 20] [--per-day 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import yaml

from ingest.config import Settings
from ingest.sample.server import SampleServer
from ingest.seaweed import SeaweedServer
from ingest.storage import Stores

from common import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from stack import Stack


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=10)
    parser.add_argument("--max-active-runs", type=int, default=4)
    args = parser.parse_args()
    from tests.support import history  # the history site the end-to-end test uses (needs ROOT)

    first = date(2014, 3, 1)
    last = first + timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        seaweed = stack.enter_context(SeaweedServer(Path(tmp) / "seaweed",
                                                    buckets=("news-raw", "news-processed")))
        feeds = []
        for n in range(args.feeds):
            server = stack.enter_context(SampleServer(host=f"127.0.0.{30 + n}"))
            history.install(server, "/news", first, days=args.days, per_day=args.per_day, salt=n)
            server.files["/news/feed.xml"] = (b'<?xml version="1.0"?><rss version="2.0"><channel>'
                                              b"<title>x</title></channel></rss>")
            feeds.append({"id": f"site{n:02d}", "url": f"{server.base}/news/feed.xml",
                          "publisher": f"Site {n}",
                          "sitemaps": [f"{server.base}/news/sitemap-index.xml"]})
        catalog = Path(tmp) / "feeds.yaml"
        catalog.write_text(yaml.safe_dump({"version": 1, "defaults": {
            "group": "bench", "allow_private": True, "history": ["captures", "sitemap"]},
            "feeds": feeds}))
        settings = Settings(s3_endpoint_url=seaweed.endpoint, s3_access_key=seaweed.access_key,
                            s3_secret_key=seaweed.secret_key)
        stores = Stores.from_settings(settings)
        airflow = Stack.start_fresh(Path(tmp), env={
            "NEWS_INGEST_S3_ENDPOINT_URL": seaweed.endpoint,
            "NEWS_INGEST_S3_ACCESS_KEY": seaweed.access_key,
            "NEWS_INGEST_S3_SECRET_KEY": seaweed.secret_key,
            "NEWS_INGEST_CATALOG_PATH": str(catalog), "NEWS_INGEST_POLL_CRON": "0 0 * * *",
            "AIRFLOW__CORE__PARALLELISM": "8"})
        stack.callback(airflow.stop)
        airflow.wait_for_dags(["news_poll", "news_process"])
        settled = len(airflow.wait_until_idle("news_process", 1, quiet=10))
        started = time.monotonic()
        done = airflow.backfill("news_poll", f"{first}T00:00:00Z", f"{last}T00:00:00Z",
                                max_active_runs=args.max_active_runs, timeout=3600)
        polled = time.monotonic() - started
        airflow.wait_until_idle("news_process", settled + 1, quiet=20, timeout=3600)
        wall = time.monotonic() - started - 20  # minus the quiet period waited for
        runs = [r for r in airflow.runs("news_poll") if r["run_type"] == "backfill"]
        failed = sum(1 for dag_id in ("news_poll", "news_process") for r in airflow.runs(dag_id)
                     for ti in airflow.api("GET", f"/dags/{dag_id}/dagRuns/{r['dag_run_id']}"
                                           "/taskInstances")["task_instances"]
                     if ti["state"] == "failed")
        totals: dict[str, int] = {}
        complete = 0
        reports = [k for k in stores.processed.list("reports/completeness/dt=2014-")]
        for key in reports:
            doc = stores.processed.get_json(key)
            complete += bool(doc["complete"])
            for name, value in doc["totals"].items():
                totals[name] = totals.get(name, 0) + value
        articles = totals.get("extracted", 0)
        print(f"backfill {done['id']}: {len(runs)} news_poll runs over {args.days} days x "
              f"{args.feeds} feeds ({args.per_day} stories a day each), "
              f"{args.max_active_runs} runs at once")
        print(f"wall time: {wall:.0f} s (polling finished after {polled:.0f} s); "
              f"{articles} articles, {articles / wall:.1f} articles/s")
        print(f"failed task instances: {failed}; run states: "
              f"{sorted({r['state'] for r in runs})}")
        print(f"completeness: {complete}/{len(reports)} intervals complete; totals {totals}")


if __name__ == "__main__":
    main()
