"""Typed records, one per stage: FeedEntry -> PageCapture -> Extracted -> Article."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime (naive values are taken as UTC)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_iso(value: object) -> datetime | None:
    """An ISO 8601 string (``Z`` allowed) as an aware UTC datetime; None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def parse_digits(value: str) -> datetime | None:
    """A ``yyyymmddHHMMSS`` archive timestamp (CC-NEWS file names, Wayback captures) as UTC."""
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def header_value(headers: tuple[tuple[str, str], ...], name: str, default: str = "") -> str:
    """The first value of header ``name`` in a header tuple (case-insensitive)."""
    lname = name.lower()
    for key, value in headers:
        if key.lower() == lname:
            return value
    return default


@dataclass(frozen=True, slots=True)
class DataInterval:
    """The half-open time window [start, end) a run works on."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        if self.end < self.start:
            raise ValueError(f"interval end {self.end} is before its start {self.start}")

    @property
    def label(self) -> str:
        """A key-safe name such as ``20140331T0000Z-20140331T0100Z``."""
        return f"{self.start:%Y%m%dT%H%MZ}-{self.end:%Y%m%dT%H%MZ}"

    @property
    def day(self) -> str:
        """The UTC date of the interval start, ``YYYY-MM-DD``."""
        return f"{self.start:%Y-%m-%d}"

    @classmethod
    def hour_of(cls, moment: datetime) -> DataInterval:
        """The whole UTC hour that contains ``moment`` (used for manual runs without interval)."""
        start = utc(moment).replace(minute=0, second=0, microsecond=0)
        return cls(start, start + timedelta(hours=1))

    @classmethod
    def parse(cls, label: str) -> DataInterval:
        """Inverse of :attr:`label`."""
        first, _, second = label.partition("-")
        fmt = "%Y%m%dT%H%MZ"
        return cls(
            datetime.strptime(first, fmt).replace(tzinfo=UTC),
            datetime.strptime(second, fmt).replace(tzinfo=UTC),
        )


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item listed by a feed."""

    feed_id: str
    url: str
    entry_id: str
    title: str = ""
    published_at: datetime | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed document yielded: its entries and any problem the parser reported."""

    entries: tuple[FeedEntry, ...]
    title: str = ""
    format: str = ""
    warning: str = ""


@dataclass(frozen=True, slots=True)
class Response:
    """A complete HTTP response as fetched (body already capped and read)."""

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    request_headers: tuple[tuple[str, str], ...] = ()
    redirects: tuple[str, ...] = ()
    # the content coding ``body`` is still in ("gzip"), or "" for a decoded body (the
    # fetcher's ``keep_encoding``: a page is archived as it was received)
    content_encoding: str = ""

    def header(self, name: str, default: str = "") -> str:
        """The first value of header ``name`` (case-insensitive)."""
        return header_value(self.headers, name, default)


@dataclass(frozen=True, slots=True)
class PageCapture:
    """A page response read back from a raw WARC capture, with the feed entry that led to it."""

    feed_id: str
    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    fetched_at: datetime
    warc_key: str
    warc_offset: int
    entry_title: str = ""
    entry_published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Extracted:
    """What the extractor found in one HTML page."""

    text: str
    title: str
    authors: tuple[str, ...]
    published_at: datetime | None
    language: str
    site_name: str
    description: str = ""
    sections: tuple[str, ...] = ()
    extractor: str = ""
    canonical_url: str = ""
    published_precision: str = ""  # "exact", "local" or "day" (see ingest.dates)


@dataclass(frozen=True, slots=True)
class RegionTags:
    """Scored countries, regions and the evidence behind them."""

    countries: dict[str, float] = field(default_factory=dict)
    regions: tuple[str, ...] = ()
    primary_region: str | None = None
    region_scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()


@dataclass(slots=True)
class FeedOutcome:
    """How one feed fared in one poll run (recorded in the run report)."""

    feed_id: str
    status: str = "pending"
    title: str = ""  # the feed document's own title (as the publisher wrote it: untrusted text)
    http_status: int | None = None
    entries: int = 0
    new_entries: int = 0
    pages_ok: int = 0
    pages_failed: int = 0
    pages_skipped: int = 0
    pages_deferred: int = 0  # not requested in this run (time budget, robots.txt unreadable)
    backlog: int = 0  # pages still pending after this run
    error: str = ""
    page_errors: list[dict[str, str]] = field(default_factory=list)
    capture_key: str = ""
    mode: str = "live"  # "live" (the feed now) or "history" (sources for a past interval)
    sources: dict[str, int] = field(default_factory=dict)  # history: entries found per source
    problems: list[dict[str, str]] = field(default_factory=list)  # history: source failures

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        extra: dict[str, object] = {}
        if self.mode != "live":
            extra = {"mode": self.mode, "sources": self.sources, "problems": self.problems}
        return {
            **extra,
            "feed_id": self.feed_id,
            "title": self.title,
            "status": self.status,
            "http_status": self.http_status,
            "entries": self.entries,
            "new_entries": self.new_entries,
            "pages_ok": self.pages_ok,
            "pages_failed": self.pages_failed,
            "pages_skipped": self.pages_skipped,
            "pages_deferred": self.pages_deferred,
            "backlog": self.backlog,
            "error": self.error,
            "page_errors": self.page_errors,
            "capture_key": self.capture_key,
        }
