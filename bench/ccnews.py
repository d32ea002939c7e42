"""Memory while reading a 1 GB CC-NEWS-style WARC for an interval (target: under 500 MB).

Writes a CC-NEWS-style WARC.gz of about ``--size-mb`` MB (response and request records of
news pages from 200 sites over two days; bodies padded with incompressible text so the file
is as large on disk as a real CC-NEWS file), uploads it to a local SeaweedFS bucket laid out as
``crawl-data/CC-NEWS/YYYY/MM/``, and runs ``ingest.ccnews.scan`` for one day and three of the
sites in a child process, printing that process's peak resident memory (ru_maxrss), the time
taken and MB/s, and the pages it kept.
Run: python bench/ccnews.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest.seaweed import SeaweedServer

from common import ROOT

CHILD = """
import resource, sys, time
from datetime import UTC, datetime
from ingest import ccnews
from ingest.config import Settings, parse_catalog
from ingest.models import DataInterval
settings = Settings(ccnews_endpoint_url=sys.argv[1], ccnews_bucket="ccnews", ccnews_anonymous=False,
                    s3_access_key=sys.argv[2], s3_secret_key=sys.argv[3])
catalog = parse_catalog({"version": 1, "feeds": [
    {"id": f"site{n}", "url": f"https://site{n}.example/rss", "publisher": f"Site {n}"}
    for n in (3, 77, 150)]})
day = DataInterval(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
client = ccnews.make_client(settings)
keys = ccnews.files_for(client, "ccnews", settings.ccnews_prefix, day)
start = time.monotonic()
result = ccnews.scan(client, "ccnews", keys, day, list(catalog.feeds), 10_000, 8 << 20)
took = time.monotonic() - start
kept = sum(len(v) for v in result.pages.values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{result.records} records in {len(keys)} file(s) read in {took:.1f} s; kept {kept} pages "
      f"of 3 sites for one day; peak memory {peak:.0f} MB; problems {result.problems}")
"""


def write_warc(path: Path, size_mb: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    target = size_mb * 1024 * 1024
    n = 0
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        while fh.tell() < target:
            site, day, hour = n % 200, 1 + (n // 1000) % 2, (n // 40) % 24
            url = f"https://www.site{site}.example/2026/11/0{day}/story-{n}.html"
            when = f"2026-11-0{day}T{hour:02d}:{n % 60:02d}:00Z"
            pad = base64.b64encode(os.urandom(36_000)).decode()
            body = (f"<html><head><title>Story {n}</title></head><body><article><p>Story {n} "
                    f"from site {site}.</p><p>{pad}</p></article></body></html>").encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": when}))
            request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")], is_http_request=True)
            writer.write_record(writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), http_headers=request,
                warc_headers_dict={"WARC-Date": when}))
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            SeaweedServer(Path(tmp) / "seaweed", buckets=("ccnews",)) as seaweed:
        path = Path(tmp) / "CC-NEWS-20261101000000-00001.warc.gz"
        started = time.monotonic()
        pages = write_warc(path, args.size_mb)
        size = path.stat().st_size
        print(f"wrote {size / 2**20:.0f} MB ({pages} pages) in {time.monotonic() - started:.0f} s")
        import boto3

        client = boto3.client("s3", endpoint_url=seaweed.endpoint, region_name="us-east-1",
                              aws_access_key_id=seaweed.access_key,
                              aws_secret_access_key=seaweed.secret_key)
        client.upload_file(str(path), "ccnews", f"crawl-data/CC-NEWS/2026/11/{path.name}")
        path.unlink()
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-c", CHILD, seaweed.endpoint, seaweed.access_key,
                              seaweed.secret_key], capture_output=True, text=True,
                             cwd=str(ROOT), check=False)
        took = time.monotonic() - started
        print(out.stdout.strip() or out.stderr[-2000:])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"file {size / 2**20:.0f} MB read in {took:.0f} s ({size / 2**20 / took:.0f} MB/s); "
              f"peak resident memory of the reading process {peak:.0f} MB (target < 500 MB)")


if __name__ == "__main__":
    main()
