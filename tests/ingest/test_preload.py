"""``ingest.preload``: what a forkserver imports once for every task process forked after it."""

from __future__ import annotations

import json
import subprocess
import sys


def test_preloading_imports_the_pipeline_loads_no_model_and_starts_no_thread() -> None:
    code = """
import json, sys, threading
before = threading.active_count()
import ingest.preload
from ingest import language
from ingest.regions import default_tagger
print(json.dumps({
    "threads": [before, threading.active_count()],
    "modules": [m in sys.modules for m in ("ingest.stage", "ingest.process", "trafilatura",
                                           "pyarrow", "boto3")],
    "language_model": language._identifier.cache_info().currsize,
    "tagger": default_tagger.cache_info().currsize,
    "airflow": any(m == "airflow" or m.startswith("airflow.") for m in sys.modules),
}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    got = json.loads(out.stdout)
    # a thread running at fork time would be missing (or hold a lock) in every task process
    assert got["threads"][1] == got["threads"][0]
    assert got["modules"] == [True] * 5
    # the models stay out: every forked task's resident memory would count them
    assert got["language_model"] == 0
    assert got["tagger"] == 0
    assert got["airflow"] is False  # ingest/ stays free of Airflow
