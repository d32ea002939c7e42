"""Catalog and settings validation: errors name the entry and say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import DEFAULT_CATALOG, SAMPLE_CATALOG, Settings, load_catalog, parse_catalog
from ingest.errors import ConfigError
from ingest.regions import RegionTable

REGIONS = RegionTable.load().names


def test_default_catalog_is_valid_and_covers_every_region() -> None:
    catalog = load_catalog(DEFAULT_CATALOG, regions=REGIONS)
    feeds = catalog.enabled()
    assert len(feeds) >= 20
    assert {f.region for f in feeds} >= set(REGIONS)
    gt = [f for f in feeds if f.publisher == "Global Times" and f.region == "asia-pacific"]
    assert gt, "the default catalog must carry Global Times' Asia-Pacific section"
    assert not any(f.allow_private for f in feeds)


def test_sample_catalog_expands_the_server_address() -> None:
    catalog = load_catalog(SAMPLE_CATALOG, regions=REGIONS,
                           env={"NEWS_INGEST_SAMPLE_BASE": "http://127.0.0.1:9"})
    assert catalog.groups() == ["sample"]
    assert all(f.url.startswith("http://127.0.0.1:9/") for f in catalog.feeds)


def test_missing_variable_is_named() -> None:
    with pytest.raises(ConfigError, match=r"NEWS_INGEST_SAMPLE_BASE.*not set"):
        load_catalog(SAMPLE_CATALOG, env={})


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        ([{"id": "Bad Id", "url": "https://a.example/rss", "publisher": "A"}],
         r"feed #1 \(id 'Bad Id'\): id: must be"),
        ([{"id": "a", "url": "ftp://a.example/rss", "publisher": "A"}],
         r"feed #1 \(id 'a'\): url: must be an absolute http"),
        ([{"id": "a", "url": "https://a.example/rss"}], r"publisher: Field required"),
        ([{"id": "a", "url": "https://a.example/rss", "publisher": "A", "regoin": "x"}],
         r"regoin: unknown field"),
        ([{"id": "a", "url": "https://a.example/rss", "publisher": "A", "region": "mars"}],
         r"region 'mars' is not in the region table"),
        ([{"id": "a", "url": "https://a.example/rss", "publisher": "A"},
          {"id": "a", "url": "https://b.example/rss", "publisher": "B"}],
         r"feed #2 \(id 'a'\): id 'a' is already used by feed #1"),
        (["just a string"], r"feed #1: each feed must be a mapping"),
        ([], r"lists no feeds"),
    ],
)
def test_bad_entries_are_named_with_what_to_fix(feeds: list[object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_catalog({"feeds": feeds}, source="feeds.yaml", regions=REGIONS, env={})


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds: [\n  - id: a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_catalog(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_catalog(tmp_path / "nope.yaml")


def test_settings_from_env_and_errors_name_the_variable() -> None:
    s = Settings.from_env({"NEWS_INGEST_CONCURRENCY": "7", "NEWS_INGEST_RAW_BUCKET": "r"})
    assert s.concurrency == 7 and s.raw_bucket == "r"
    with pytest.raises(ConfigError, match="NEWS_INGEST_CONCURRENCY"):
        Settings.from_env({"NEWS_INGEST_CONCURRENCY": "many"})


@pytest.mark.parametrize("name", ["S3_ENDPOINT_URL", "CCNEWS_ENDPOINT_URL", "WAYBACK_URL"])
def test_an_endpoint_without_a_scheme_is_named(name: str) -> None:
    with pytest.raises(ConfigError, match=f"NEWS_INGEST_{name}: must be a URL with its scheme"):
        Settings.from_env({f"NEWS_INGEST_{name}": "127.0.0.1:8333"})


def test_unknown_setting_names_are_warned_about_with_the_closest_name(
        caplog: pytest.LogCaptureFixture) -> None:
    env = {"NEWS_INGEST_S3_ENDPOINT": "http://x:1", "NEWS_INGEST_PER_HOST_DELAY": "1",
           "NEWS_INGEST_SAMPLE_BASE": "http://x", "NEWS_INGEST_POLL_CRON": "@daily",
           "NEWS_INGEST_FROBNICATE": "1", "OTHER": "x"}
    with caplog.at_level("WARNING", logger="ingest.config"):
        settings = Settings.from_env(env)
    assert settings.per_host_delay == 1 and settings.s3_endpoint_url is None
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "NEWS_INGEST_FROBNICATE is not a news-ingest setting and is ignored",
        "NEWS_INGEST_S3_ENDPOINT is not a news-ingest setting and is ignored; did you mean "
        "NEWS_INGEST_S3_ENDPOINT_URL?"]


def test_secrets_are_not_in_the_repr() -> None:
    s = Settings(s3_access_key="AKIDSECRET", s3_secret_key="topsecret")
    assert "topsecret" not in repr(s) and "AKIDSECRET" not in repr(s)
