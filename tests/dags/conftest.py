"""Airflow test environment: a temporary AIRFLOW_HOME with a migrated SQLite metadata DB.

The environment is set when this file is imported, before anything imports airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOME = Path(tempfile.mkdtemp(prefix="news-ingest-airflow-"))
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(HOME / "logs"),
}
os.environ.update(AIRFLOW_ENV)
for folder in ("dags", "plugins"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """Migrate the metadata DB once per session (dag.test() needs it)."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True,
                   env={**os.environ, **AIRFLOW_ENV}, timeout=600)
    yield HOME


def sample_stack_env(tmp_path: Path, settings: Any, sample_server: Any,
                     catalog: Path | None = None, s3_connection: bool = False) -> dict[str, str]:
    """The environment of a Stack that polls the sample site into the test's buckets; the
    store is given as NEWS_INGEST_S3_* variables, or as the ``news_s3`` connection (as the
    compose deployment does) with ``s3_connection``."""
    import json

    from ingest.config import SAMPLE_CATALOG

    if s3_connection:
        store = {"AIRFLOW_CONN_NEWS_S3": json.dumps({
            "conn_type": "aws", "login": settings.s3_access_key,
            "password": settings.s3_secret_key,
            "extra": {"endpoint_url": settings.s3_endpoint_url,
                      "region_name": settings.s3_region}})}
    else:
        store = {"NEWS_INGEST_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
                 "NEWS_INGEST_S3_ACCESS_KEY": settings.s3_access_key or "",
                 "NEWS_INGEST_S3_SECRET_KEY": settings.s3_secret_key or ""}
    return {**store,
            "NEWS_INGEST_RAW_BUCKET": settings.raw_bucket,
            "NEWS_INGEST_PROCESSED_BUCKET": settings.processed_bucket,
            "NEWS_INGEST_CATALOG_PATH": str(catalog or SAMPLE_CATALOG),
            "NEWS_INGEST_SAMPLE_BASE": sample_server.base, "NEWS_INGEST_PER_HOST_DELAY": "0",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp_path / "airflow" / "logs")}
