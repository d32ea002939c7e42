"""The command line: tag-regions over JSONL and catalog validation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ingest.config import DEFAULT_CATALOG


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ingest.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_tag_regions_reads_and_writes_jsonl() -> None:
    lines = [
        {"title": "Talks in Beijing", "text": "Japan and North Korea met in Beijing on Sunday."},
        {"text": "<p>Markup <b>left</b> in the text from BERLIN.</p>"},
        {"text": "ALL CAPS TEXT ABOUT NOTHING AT ALL, LET US GO"},
        {"text": "東京で会談が行われた。"},
        {"text": ""},
    ]
    out = run("tag-regions", stdin="\n".join(json.dumps(x) for x in lines))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["primary_region"] == "asia-pacific" and "JP" in rows[0]["countries"]
    assert rows[1]["primary_region"] == "europe"
    assert rows[2]["primary_region"] is None
    assert rows[3]["primary_region"] == "asia-pacific" and "body:東京=JP" in rows[3]["evidence"]
    assert rows[4]["primary_region"] is None
    assert len(rows) == 5


def test_tag_regions_reports_bad_lines_on_stderr_and_fails() -> None:
    good = json.dumps({"title": "Talks in Beijing", "text": "Japan and China met."})
    out = run("tag-regions", stdin=f"{good}\nnot json\n[1, 2]\n{good}\n")
    assert out.returncode == 1
    assert len(out.stdout.splitlines()) == 2  # the good lines are still tagged
    assert "line 2: not a JSON object" in out.stderr and "line 3:" in out.stderr
    assert "2 line(s) failed" in out.stderr


def test_report_rejects_a_malformed_day() -> None:
    out = run("report", "--day", "2014-3-31")
    assert out.returncode == 2 and "'2014-3-31' is not a date in the form YYYY-MM-DD" in out.stderr
    out = run("report", "--day", "2014-02-30")
    assert out.returncode == 2 and "is not a date" in out.stderr


def test_seaweed_stops_its_server_on_sigterm(tmp_path: Path) -> None:
    from ingest.seaweed import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ingest.cli", "seaweed", "--dir",
                             str(tmp_path), "--port", str(port)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "NEWS_INGEST_S3_ACCESS_KEY": "k",
                                            "NEWS_INGEST_S3_SECRET_KEY": "s"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line, line
        weed = children(proc.pid)
        assert weed, "no weed process under news-ingest seaweed"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in weed) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in weed), "weed was left running"
    finally:
        if proc.poll() is None:
            proc.kill()


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_validate_catalog() -> None:
    out = run("validate-catalog", str(DEFAULT_CATALOG))
    assert out.returncode == 0, out.stderr
    assert "46 feeds (46 enabled)" in out.stdout
    bad = run("validate-catalog", "/nonexistent/feeds.yaml")
    assert bad.returncode == 2 and "does not exist" in bad.stderr
