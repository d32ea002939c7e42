"""ObjectStore against a real SeaweedFS (and moto's server for a second implementation)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ingest.config import Settings
from ingest.errors import ObjectExists, StorageError, StorageUnavailable, WriteConflict
from ingest.seaweed import free_port
from ingest.storage import ObjectStore, Stores, make_s3_client

pytestmark = pytest.mark.integration


def test_put_get_list_and_json(stores: Stores) -> None:
    store = stores.raw
    store.put("a/b/1.txt", b"one")
    store.put_json("a/b/2.json", {"b": 1, "a": [1, 2]})
    assert store.get("a/b/1.txt") == b"one"
    assert store.get_json("a/b/2.json") == {"a": [1, 2], "b": 1}
    assert store.get("a/b/2.json") == b'{"a":[1,2],"b":1}'
    assert list(store.list("a/b/")) == ["a/b/1.txt", "a/b/2.json"]
    assert store.exists("a/b/1.txt") and not store.exists("a/b/3")
    with pytest.raises(KeyError):
        store.get("missing")
    assert store.get_json("missing", {"d": 1}) == {"d": 1}
    store.delete("a/b/1.txt")
    assert not store.exists("a/b/1.txt")


def test_conditional_write_refuses_to_overwrite(stores: Stores) -> None:
    stores.raw.put("once", b"first", if_none_match=True)
    with pytest.raises(ObjectExists, match="already exists"):
        stores.raw.put("once", b"second", if_none_match=True)
    assert stores.raw.get("once") == b"first"


def test_unreachable_endpoint_is_transient_with_a_clear_message() -> None:
    settings = Settings(s3_endpoint_url=f"http://127.0.0.1:{free_port()}", s3_access_key="a",
                        s3_secret_key="b")
    store = ObjectStore(make_s3_client(settings), "bucket")
    with pytest.raises(StorageUnavailable, match=r"cannot write s3://bucket/k"):
        store.put("k", b"x")


def test_wrong_credentials_are_permanent(settings: Settings) -> None:
    bad = settings.model_copy(update={"s3_secret_key": "wrong"})
    with pytest.raises(StorageError, match=r"cannot (write|open bucket)"):
        Stores.from_settings(bad).raw.put("k", b"x")


def test_missing_credentials_say_where_to_set_them(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookup
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    anonymous = settings.model_copy(update={"s3_access_key": None, "s3_secret_key": None})
    with pytest.raises(StorageError, match="no S3 credentials: set NEWS_INGEST_S3_ACCESS_KEY "
                                           "and NEWS_INGEST_S3_SECRET_KEY, or the Airflow "
                                           "connection news_s3"):
        Stores.from_settings(anonymous).raw.put("k", b"x")


def test_writes_conditional_on_the_etag_read(stores: Stores) -> None:
    first = stores.raw.put("doc", b"one")
    got = stores.raw.get_versioned("doc")
    assert got == (b"one", first)
    second = stores.raw.put("doc", b"two", if_match=first)
    with pytest.raises(WriteConflict, match="changed since it was read"):
        stores.raw.put("doc", b"three", if_match=first)  # somebody wrote it in between
    assert stores.raw.get_versioned("doc") == (b"two", second)
    assert stores.raw.get_versioned("missing") is None


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(endpoint, timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


def test_same_code_works_on_moto_server(moto_endpoint: str) -> None:
    settings = Settings(s3_endpoint_url=moto_endpoint, s3_access_key="x", s3_secret_key="y",
                        raw_bucket="moto-raw", processed_bucket="moto-processed")
    stores = Stores.from_settings(settings)
    stores.ensure_buckets()
    stores.ensure_buckets()  # idempotent
    stores.processed.put_json("runs/x.json", {"ok": True})
    assert stores.processed.get_json("runs/x.json") == {"ok": True}
    assert list(stores.processed.list("runs/")) == ["runs/x.json"]
