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


def test_default_catalog_has_feeds_in_every_language_the_tagger_reads() -> None:
    catalog = load_catalog(DEFAULT_CATALOG, regions=REGIONS)
    other = [f for f in catalog.feeds if f.language != "en"]
    assert len(other) >= 15
    assert {f.language for f in other} >= {"zh", "ja", "ko", "ar", "ru", "es", "fr", "de", "pt",
                                           "id"}


def test_a_catalog_includes_others_with_their_own_defaults(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "defaults: {language: fr, group: base}\nfeeds:\n  - {id: a, url: 'http://a.test/f', "
        "publisher: A}\n", encoding="utf-8")
    top = tmp_path / "top.yaml"
    top.write_text("include: [base.yaml]\ndefaults: {group: top}\nfeeds:\n  - {id: b, url: "
                   "'http://b.test/f', publisher: B}\n", encoding="utf-8")
    got = [(f.id, f.language, f.group) for f in load_catalog(top).feeds]
    assert got == [("a", "fr", "base"), ("b", "en", "top")]
    # an id used twice across files, a missing file, a file including itself: named
    top.write_text("include: [base.yaml]\nfeeds:\n  - {id: a, url: 'http://a.test/g', "
                   "publisher: A}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="id 'a' is already used"):
        load_catalog(top)
    top.write_text("include: [gone.yaml]\nfeeds: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"gone\.yaml does not exist"):
        load_catalog(top)
    top.write_text("include: [top.yaml]\nfeeds: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="includes itself"):
        load_catalog(top)


def test_the_demo_catalog_is_the_sample_plus_one_outlet_per_language(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.config import DEMO_CATALOG

    monkeypatch.setenv("NEWS_INGEST_SAMPLE_BASE", "http://127.0.0.1:9")
    demo = load_catalog(DEMO_CATALOG, regions=REGIONS)
    sample = load_catalog(SAMPLE_CATALOG, regions=REGIONS)
    assert demo.feeds[:len(sample.feeds)] == sample.feeds
    assert sorted(f.language for f in demo.feeds[len(sample.feeds):]) == sorted(
        ["zh", "ja", "ko", "ar", "ru", "es", "fr", "de", "pt", "id"])


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
