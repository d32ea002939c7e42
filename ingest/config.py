"""Settings and the feed catalog: typed, validated at start-up, errors that say what to fix."""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CATALOG = PACKAGE_DIR.parent / "feeds.yaml"
SAMPLE_CATALOG = PACKAGE_DIR / "sample" / "catalog.yaml"
# the sample plus one outlet per language the tagger reads (make demo, make sample-data)
DEMO_CATALOG = PACKAGE_DIR / "sample" / "demo.yaml"
ENV_PREFIX = "NEWS_INGEST_"
POLL_SLOTS = 4  # default polls at once in the whole deployment (Settings.poll_slots)
log = logging.getLogger(__name__)
_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


class Settings(BaseModel):
    """Runtime settings. Built from the environment (``NEWS_INGEST_*``) or passed explicitly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    s3_endpoint_url: str | None = None
    s3_access_key: str | None = Field(default=None, repr=False)
    s3_secret_key: str | None = Field(default=None, repr=False)
    s3_region: str = "us-east-1"
    raw_bucket: str = "news-raw"
    processed_bucket: str = "news-processed"
    catalog_path: str = str(DEFAULT_CATALOG)
    regions_path: str = ""
    user_agent: str = "news-ingest/0.1 (+https://github.com/news-ingest/news-ingest)"
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    page_deadline: float = Field(default=60.0, gt=0)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    concurrency: int = Field(default=64, ge=1, le=512)
    per_host_concurrency: int = Field(default=2, ge=1, le=64)
    per_host_delay: float = Field(default=0.5, ge=0)
    max_retry_after: float = Field(default=30.0, ge=0)
    respect_robots: bool = True
    allow_private_addresses: bool = False
    max_pages_per_feed: int = Field(default=1000, ge=1)  # per run; the rest stays pending
    # seconds a poll may go on starting page requests; later turns stay pending for the next run
    poll_time_budget: float = Field(default=1800.0, gt=0)
    fetch_pages: bool = True  # False: poll feeds only (capture the feed documents, fetch no pages)
    min_article_words: int = Field(default=40, ge=1)
    dedupe_window_days: int = Field(default=30, ge=1)
    # compressed capture bytes per extraction task (a bigger capture is split into shards)
    stage_shard_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # extraction tasks that can run at once in the whole deployment (the news_extract pool's
    # size; news_process cuts a run into about two parts per slot); 0: this machine's cores
    extract_slots: int = Field(default=0, ge=0)
    # polls at once in the whole deployment (the news_poll pool's size); 0: POLL_SLOTS (a poll
    # mostly waits on the network and on per-host politeness: on a 2-core machine a poll
    # fetching 2,000 pages used a fifth of a core; 8 at once instead of 4 ended the scale
    # bench's polls sooner but started its extraction later, for the same wall time)
    poll_slots: int = Field(default=0, ge=0)
    # pages the commit task gathers (whole captures, each still its own batch) into one table
    # commit: a commit writes a file per (day, region) partition it touches, so fewer commits
    # write fewer, bigger files (bench/commit.py with pages published over 100 days: 1,016-1,112
    # pages/s at 2,000 pages a commit, 3,169-3,325 at 20,000); its memory grows with it by
    # the rows' Arrow size, about 6.5 KB a page (peak 503-578 MiB at 2,000, 599-660 at 20,000)
    commit_pages: int = Field(default=20000, ge=1)
    # seconds the articles table's writer lock of a killed writer blocks others (see ingest.table)
    table_lock_ttl: float = Field(default=120.0, gt=0)
    # stores without conditional writes: let delta-rs commit by an unsafe rename (one writer)
    table_unsafe_rename: bool = False
    # days old table versions stay readable (time travel) before news_maintain vacuums their files
    table_retention_days: float = Field(default=7.0, ge=0)
    # Common Crawl's CC-NEWS archive (the "ccnews" historical source), or a mirror of its layout
    ccnews_endpoint_url: str | None = None
    ccnews_bucket: str = "commoncrawl"
    ccnews_prefix: str = "crawl-data/CC-NEWS/"
    ccnews_anonymous: bool = True
    # the Wayback Machine (the "wayback" historical source), or another CDX-API archive
    wayback_url: str = "https://web.archive.org"

    @field_validator("s3_endpoint_url", "ccnews_endpoint_url", "wayback_url")
    @classmethod
    def _url_with_scheme(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"must be a URL with its scheme, such as http://127.0.0.1:8333 "
                             f"(got {value!r})")
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``NEWS_INGEST_<FIELD>`` variables; ``overrides`` win over the environment.
        Unknown ``NEWS_INGEST_*`` names are logged with the closest valid name."""
        env = os.environ if env is None else env
        for warning in unknown_names(env):
            log.warning("%s", warning)
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(_explain(exc, "settings", prefix=ENV_PREFIX)) from None

    @property
    def extraction_slots(self) -> int:
        """Extraction tasks at once: ``extract_slots``, or this machine's cores."""
        return self.extract_slots or os.cpu_count() or 1

    @property
    def polling_slots(self) -> int:
        """Polls at once: ``poll_slots``, or ``POLL_SLOTS``."""
        return self.poll_slots or POLL_SLOTS

    def fingerprint(self) -> str:
        """A short hash of the settings that change processed output (not secrets or paths)."""
        keep = {"min_article_words": self.min_article_words, "regions": self.regions_path}
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:12]


# NEWS_INGEST_* names read outside Settings: DAG schedules, the sample site's address and
# where `make run` keeps its data
OTHER_NAMES = ("POLL_CRON", "REPROCESS_CRON", "MAINTAIN_CRON", "SAMPLE_BASE", "DATA_DIR",
               "WORKER_NAME")


def unknown_names(env: Mapping[str, str]) -> list[str]:
    """A warning for each ``NEWS_INGEST_*`` variable no setting reads, with the closest name."""
    valid = [n.upper() for n in Settings.model_fields] + list(OTHER_NAMES)
    out = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name[len(ENV_PREFIX):] in valid:
            continue
        close = difflib.get_close_matches(name[len(ENV_PREFIX):], valid, n=1, cutoff=0.6)
        hint = f"; did you mean {ENV_PREFIX}{close[0]}?" if close else ""
        out.append(f"{name} is not a news-ingest setting and is ignored{hint}")
    return out


HISTORY_SOURCES = ("captures", "feed", "sitemap", "ccnews", "wayback")


class FeedSpec(BaseModel):
    """One feed of the catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    url: str
    publisher: str
    language: str = "en"
    region: str | None = None
    tags: tuple[str, ...] = ()
    group: str = "default"
    enabled: bool = True
    allow_private: bool = False
    # Backfills of past intervals: which historical sources to use, in order, and the site's
    # sitemaps (found from robots.txt when empty).
    history: tuple[str, ...] = ("captures", "feed", "sitemap")
    sitemaps: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # the site's hosts in archives such as CC-NEWS (default: feed host)

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,79}", value):
            raise ValueError(
                "must be 1-80 lowercase letters, digits, '-', '_' or '.', starting with a "
                "letter or digit (it is used in object keys)"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", value):
            raise ValueError("must be an ISO 639 code such as 'en' or 'pt-BR'")
        return value

    @field_validator("history")
    @classmethod
    def _known_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in HISTORY_SOURCES]
        if unknown:
            raise ValueError(f"unknown historical source(s) {unknown}; choose from "
                             f"{list(HISTORY_SOURCES)}")
        return value

    @field_validator("group")
    @classmethod
    def _group_is_slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", value):
            raise ValueError("must be a short lowercase name (letters, digits, '-', '_')")
        return value


class Catalog(BaseModel):
    """The validated feed catalog."""

    model_config = ConfigDict(frozen=True)

    feeds: tuple[FeedSpec, ...]

    def enabled(self) -> list[FeedSpec]:
        """The enabled feeds, in catalog order."""
        return [f for f in self.feeds if f.enabled]

    def groups(self) -> list[str]:
        """The schedule groups that have at least one enabled feed, sorted."""
        return sorted({f.group for f in self.enabled()})

    def in_group(self, group: str) -> list[FeedSpec]:
        """The enabled feeds of ``group``."""
        return [f for f in self.enabled() if f.group == group]

    def get(self, feed_id: str) -> FeedSpec:
        """The feed with this id; ``ConfigError`` if there is none."""
        for feed in self.feeds:
            if feed.id == feed_id:
                return feed
        raise ConfigError(f"no feed with id {feed_id!r} in the catalog")


def load_catalog(
    path: str | Path,
    regions: Iterable[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Catalog:
    """Load and validate a catalog file. ``${VAR}`` in URLs is replaced from ``env``."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"feed catalog {path} does not exist: set NEWS_INGEST_CATALOG_PATH"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"feed catalog {path} is not valid YAML: {exc}") from None
    if isinstance(doc, dict) and "include" in doc:
        doc = _with_included(doc, path, _seen=(path.resolve(),))
    return parse_catalog(doc, source=str(path), regions=regions, env=env)


def _with_included(doc: dict[str, Any], path: Path, _seen: tuple[Path, ...]) -> dict[str, Any]:
    """``include: [other.yaml, ...]`` (paths relative to the including file): their feeds come
    first, each with its own file's defaults; ids must stay unique across all of them."""
    includes = doc.get("include")
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ConfigError(f"{path}: 'include' must be a list of catalog file paths")
    feeds: list[Any] = []
    for name in includes:
        other = (path.parent / name).resolve()
        if other in _seen:
            raise ConfigError(f"{path}: include {name!r} includes itself")
        try:
            inner = yaml.safe_load(other.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: included catalog {other} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: included catalog {other} is not valid YAML: {exc}") from None
        if isinstance(inner, dict) and "include" in inner:
            inner = _with_included(inner, other, (*_seen, other))
        if not isinstance(inner, dict) or not isinstance(inner.get("feeds"), list):
            raise ConfigError(f"{other}: expected a mapping with a 'feeds:' list at the top")
        inner_defaults = inner.get("defaults") or {}
        feeds.extend({**inner_defaults, **f} if isinstance(f, dict) else f
                     for f in inner["feeds"])
    rest = {k: v for k, v in doc.items() if k != "include"}
    return {**rest, "feeds": [*feeds, *(doc.get("feeds") or [])]}


def parse_catalog(
    doc: Any,
    source: str = "catalog",
    regions: Iterable[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Catalog:
    """Validate a catalog document already read from YAML."""
    env = os.environ if env is None else env
    if not isinstance(doc, dict) or not isinstance(doc.get("feeds"), list):
        raise ConfigError(f"{source}: expected a mapping with a 'feeds:' list at the top")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{source}: 'defaults' must be a mapping of feed fields")
    allowed_regions = set(regions) if regions is not None else None
    feeds: list[FeedSpec] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(doc["feeds"], start=1):
        where = f"{source}: feed #{index}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: each feed must be a mapping with at least id and url")
        where += f" (id {raw.get('id')!r})" if raw.get("id") else ""
        merged = {**defaults, **raw}
        if isinstance(merged.get("url"), str):
            merged["url"] = _expand(merged["url"], env, where)
        try:
            feed = FeedSpec(**merged)
        except ValidationError as exc:
            raise ConfigError(_explain(exc, where)) from None
        if feed.id in seen:
            raise ConfigError(f"{where}: id {feed.id!r} is already used by feed #{seen[feed.id]}")
        if allowed_regions is not None and feed.region and feed.region not in allowed_regions:
            raise ConfigError(
                f"{where}: region {feed.region!r} is not in the region table "
                f"(one of {', '.join(sorted(allowed_regions))})"
            )
        seen[feed.id] = index
        feeds.append(feed)
    if not feeds:
        raise ConfigError(f"{source}: the catalog lists no feeds")
    return Catalog(feeds=tuple(feeds))


def _expand(value: str, env: Mapping[str, str], where: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"{where}: url uses ${{{name}}} but that variable is not set")
        return env[name]

    return _VAR.sub(repl, value)


def _explain(exc: ValidationError, where: str, prefix: str = "") -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
        if prefix:
            loc = prefix + loc.upper()
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field; remove it or check its spelling"
        parts.append(f"{loc}: {msg}")
    return f"{where}: " + "; ".join(parts)
