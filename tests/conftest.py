"""Shared fixtures: a real SeaweedFS on a free loopback port, fresh buckets per test, and the
sample/fault HTTP server. Nothing here is mocked: tests talk to real servers on 127.0.0.1."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.config import Settings
from ingest.sample.server import SampleServer
from ingest.seaweed import SeaweedServer
from ingest.storage import Stores, make_s3_client

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_bucket_ids = itertools.count()


def shared_path(*parts: str) -> Path:
    """A file in ../shared; fails loudly (never skips) when it is missing."""
    path = SHARED.joinpath(*parts)
    assert path.exists(), f"{path} is missing: tests need ../shared beside the project"
    return path


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A real SeaweedFS (weed mini) for the whole test session."""
    # small volumes: every test bucket takes volumes of its own, and the server allows free
    # disk / volume size of them (with 128 MB volumes a CI disk ran out after ~300 buckets)
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed"), volume_size_mb=16)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(seaweed: SeaweedServer) -> Settings:
    """Settings pointing at the test SeaweedFS with fresh bucket names."""
    n = next(_bucket_ids)
    return Settings(
        s3_endpoint_url=seaweed.endpoint, s3_access_key=seaweed.access_key,
        s3_secret_key=seaweed.secret_key, raw_bucket=f"raw-{os.getpid()}-{n}",
        processed_bucket=f"processed-{os.getpid()}-{n}", per_host_delay=0.0,
        per_host_concurrency=8, connect_timeout=2.0, read_timeout=2.0, page_deadline=5.0,
        max_retry_after=1.0, max_body_bytes=1024 * 1024,
    )


@pytest.fixture
def stores(settings: Settings) -> Stores:
    """The raw and processed buckets, created empty."""
    stores = Stores.from_settings(settings, make_s3_client(settings))
    stores.ensure_buckets()
    return stores


@pytest.fixture
def sample_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SampleServer]:
    """The bundled offline sample site on a free port; sets NEWS_INGEST_SAMPLE_BASE."""
    with SampleServer() as server:
        monkeypatch.setenv("NEWS_INGEST_SAMPLE_BASE", server.base)
        yield server


def benchmark_page(benchmark: str, key: str) -> tuple[bytes, str, str]:
    """(html bytes, url, true body) of one page of a shared extraction benchmark."""
    import gzip
    import json

    base = shared_path("benchdata", benchmark)
    truth = json.loads((base / "ground-truth.json").read_text(encoding="utf-8"))[key]
    return (gzip.decompress((base / "html" / f"{key}.html.gz").read_bytes()), truth["url"],
            truth["articleBody"])
