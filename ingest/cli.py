"""``news-ingest``: run pipeline steps and local servers from the shell.

    news-ingest validate-catalog [PATH]
    news-ingest poll --group G [--start ISO --end ISO] [--history]
    news-ingest process KEY [KEY ...]
    news-ingest reprocess --start ISO --end ISO
    news-ingest report [--day YYYY-MM-DD]
    news-ingest maintain
    news-ingest migrate-table
    news-ingest tag-regions < articles.jsonl > tags.jsonl
    news-ingest serve-sample [--port N]
    news-ingest seaweed --dir DATA [--port N]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import time
from datetime import UTC, date, datetime
from typing import Any

from ingest.config import Settings, load_catalog
from ingest.errors import ConfigError, IngestError


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="news-ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate-catalog", help="check a feed catalog and list its groups")
    p.add_argument("path", nargs="?")
    p = sub.add_parser("poll", help="poll one feed group for one interval")
    p.add_argument("--group", required=True)
    p.add_argument("--start", help="interval start, ISO 8601 (default: this hour)")
    p.add_argument("--end", help="interval end, ISO 8601")
    p.add_argument("--history", action="store_true",
                   help="read historical sources for a past interval (as backfill runs do)")
    p = sub.add_parser("process", help="process raw capture keys")
    p.add_argument("keys", nargs="+")
    p = sub.add_parser("reprocess", help="rebuild processed data of an interval from raw captures")
    p.add_argument("--start", required=True, help="interval start, ISO 8601")
    p.add_argument("--end", required=True, help="interval end, ISO 8601")
    p = sub.add_parser("report", help="articles per region in the processed bucket")
    p.add_argument("--day", type=_day, help="only this publication day (YYYY-MM-DD)")
    sub.add_parser("maintain", help="compact and vacuum the articles table")
    sub.add_parser("migrate-table", help="convert a Parquet-layout processed bucket (schema 1) "
                   "into the articles table, from the raw captures")
    sub.add_parser("tag-regions", help="JSONL (text, title) on stdin -> JSONL tags on stdout")
    p = sub.add_parser("serve-sample", help="serve the bundled offline sample site")
    p.add_argument("--port", type=int, default=8765)
    p = sub.add_parser("seaweed", help="run the embedded SeaweedFS S3 server in the foreground")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=8333)
    p.add_argument("--buckets", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(_COMMANDS[args.command](args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except IngestError as exc:
        print(f"error ({exc.kind}): {exc}", file=sys.stderr)
        return 1


def _validate(args: argparse.Namespace) -> int:
    from ingest.regions import RegionTable

    settings = Settings.from_env()
    catalog = load_catalog(args.path or settings.catalog_path, regions=RegionTable.load().names)
    enabled = catalog.enabled()
    print(f"{len(catalog.feeds)} feeds ({len(enabled)} enabled) in groups: "
          f"{', '.join(catalog.groups())}")
    return 0


def _poll(args: argparse.Namespace) -> int:
    from ingest import pipeline
    from ingest.models import DataInterval

    if args.start and args.end:
        interval = DataInterval(datetime.fromisoformat(args.start), datetime.fromisoformat(args.end))
    else:
        interval = DataInterval.hour_of(datetime.now(UTC))
    print(json.dumps(pipeline.poll(args.group, interval, history=args.history), indent=1))
    return 0


def _reprocess(args: argparse.Namespace) -> int:
    from ingest import pipeline
    from ingest.models import DataInterval

    interval = DataInterval(datetime.fromisoformat(args.start), datetime.fromisoformat(args.end))
    print(json.dumps(pipeline.reprocess(interval), indent=1))
    return 0


def _process(args: argparse.Namespace) -> int:
    from ingest import pipeline

    print(json.dumps(pipeline.process(args.keys), indent=1))
    return 0


def _report(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ingest import table as articles
    from ingest.query import connect

    settings = Settings.from_env()
    found: list[Any] = []
    languages: dict[str, list[str]] = {}
    if articles.open_table(settings) is not None:
        con = connect(settings)
        where = "WHERE dt = ?" if args.day else ""
        params = [args.day] if args.day else []
        found = con.execute(
            "SELECT region, count(*), count(*) FILTER (WHERE is_canonical), "
            "count(*) FILTER (WHERE NOT is_canonical) FROM articles "
            f"{where} GROUP BY region ORDER BY region", params).fetchall()
        for region, language, n in con.execute(
                f"SELECT region, coalesce(nullif(language, ''), '?'), count(*) FROM articles "
                f"{where} GROUP BY ALL ORDER BY 1, 3 DESC, 2", params).fetchall():
            languages.setdefault(region, []).append(f"{language} {n}")
    title = f"Articles in {articles.uri(settings)}" + (f" published on {args.day}" if args.day
                                                         else "")
    out = Table(title=title)
    for col in ("region", "articles", "canonical", "duplicates", "languages"):
        out.add_column(col)
    for region, n, canon, dups in found:
        out.add_row(str(region), str(n), str(canon), str(dups),
                    ", ".join(languages.get(region, [])))
    Console().print(out)
    return 0


def _maintain(args: argparse.Namespace) -> int:
    from ingest import pipeline

    print(json.dumps(pipeline.maintain(), indent=1))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from ingest.maintain import migrate
    from ingest.storage import Stores

    settings = Settings.from_env()
    print(json.dumps(migrate(settings, Stores.from_settings(settings)), indent=1))
    return 0


def _tag_regions(args: argparse.Namespace) -> int:
    """Tags on stdout, one line per input line; a line that is not a JSON object is reported
    on stderr and makes the exit status 1."""
    from ingest.regions import default_tagger

    tagger = default_tagger()
    failed = 0
    for line_no, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError(f"a JSON {type(item).__name__}, not an object")
            tags = tagger.tag(str(item.get("text") or ""), title=str(item.get("title") or ""),
                              hints=item.get("hints") or (),
                              language=str(item.get("language") or "") or None)
        except ValueError as exc:
            failed += 1
            print(f"tag-regions: line {line_no}: not a JSON object with text and title: {exc}",
                  file=sys.stderr)
            continue
        out = {**item, "primary_region": tags.primary_region, "regions": list(tags.regions),
               "countries": tags.countries, "evidence": list(tags.evidence)}
        print(json.dumps(out, ensure_ascii=False))
    if failed:
        print(f"tag-regions: {failed} line(s) failed", file=sys.stderr)
    return 1 if failed else 0


def _serve_sample(args: argparse.Namespace) -> int:
    from ingest.sample.server import SampleServer

    server = SampleServer(port=args.port)
    print(f"serving the offline sample on {server.base}", flush=True)
    server.serve_forever()
    return 0


def _seaweed(args: argparse.Namespace) -> int:
    from ingest.seaweed import SeaweedServer

    settings = Settings.from_env()
    buckets = tuple(b for b in args.buckets.split(",") if b) or (
        settings.raw_bucket, settings.processed_bucket)
    server = SeaweedServer(args.dir, s3_port=args.port,
                           access_key=settings.s3_access_key or "newsingest",
                           secret_key=settings.s3_secret_key or "newsingest-secret",
                           buckets=buckets)
    server.start()
    print(f"SeaweedFS S3 on {server.endpoint} (data in {args.dir})", flush=True)
    signal.signal(signal.SIGTERM, _stop)  # SIGTERM stops weed too, as Ctrl-C does
    try:
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _day(value: str) -> str:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{value!r} is not a date in the form YYYY-MM-DD")


_COMMANDS = {"validate-catalog": _validate, "poll": _poll, "process": _process,
             "reprocess": _reprocess, "maintain": _maintain, "migrate-table": _migrate,
             "report": _report, "tag-regions": _tag_regions, "serve-sample": _serve_sample,
             "seaweed": _seaweed}

if __name__ == "__main__":
    sys.exit(main())
