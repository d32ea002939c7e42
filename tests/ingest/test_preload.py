"""``ingest.preload``: what a forkserver imports once for every task process forked after it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_preloading_loads_the_pipeline_and_its_models_and_starts_no_thread() -> None:
    code = """
import json, sys, threading
before = threading.active_count()
import ingest.preload
from ingest import language
from ingest.config import Settings
from ingest.regions import default_tagger
default_tagger(Settings.from_env().regions_path)  # as a task asks for it
print(json.dumps({
    "threads": [before, threading.active_count()],
    "modules": [m in sys.modules for m in ("ingest.stage", "ingest.process", "trafilatura",
                                           "pyarrow", "boto3")],
    "language_model": language._identifier.cache_info().currsize,
    "tagger": [default_tagger.cache_info().hits, default_tagger.cache_info().misses],
    "airflow": any(m == "airflow" or m.startswith("airflow.") for m in sys.modules),
}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    got = json.loads(out.stdout)
    # a thread running at fork time would be missing (or hold a lock) in every task process
    assert got["threads"][1] == got["threads"][0]
    assert got["modules"] == [True] * 5
    assert got["language_model"] == 1
    assert got["tagger"] == [1, 1]  # built by the preload, found by the task's call
    assert got["airflow"] is False  # ingest/ stays free of Airflow


def test_a_bad_region_table_does_not_stop_the_preload(tmp_path: Path) -> None:
    env = {**os.environ, "NEWS_INGEST_REGIONS_PATH": str(tmp_path / "missing.yaml")}
    out = subprocess.run([sys.executable, "-c", "import ingest.preload; print('up')"],
                         capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "up"
    assert "missing.yaml does not exist" in out.stderr
