"""The command line: tag-regions over JSONL and catalog validation."""

from __future__ import annotations

import json
import subprocess
import sys

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
    out = run("tag-regions", stdin="\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["primary_region"] == "asia-pacific" and "JP" in rows[0]["countries"]
    assert rows[1]["primary_region"] == "europe"
    assert rows[2]["primary_region"] is None
    assert rows[3]["primary_region"] is None and rows[4]["primary_region"] is None
    assert rows[5] == {"line": 6, "error": rows[5]["error"]} and "not a JSON object" in rows[5]["error"]


def test_validate_catalog() -> None:
    out = run("validate-catalog", str(DEFAULT_CATALOG))
    assert out.returncode == 0, out.stderr
    assert "26 feeds (26 enabled)" in out.stdout
    bad = run("validate-catalog", "/nonexistent/feeds.yaml")
    assert bad.returncode == 2 and "does not exist" in bad.stderr
