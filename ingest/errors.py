"""One error hierarchy for the whole library, caught by category.

- ``TransientError``: worth retrying (network trouble, 5xx, storage outage). Tasks let these
  raise so the orchestrator retries; per-item ones are recorded and retried on the next run.
- ``PermanentError``: this input can never be processed as it is (blocked address, oversized or
  binary body, malformed feed, a page with no article). Recorded with its message, quarantined,
  never retried automatically.
- ``ConfigError``: the configuration or catalog is wrong; the message says what to fix.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of every error this library raises on purpose."""

    kind = "error"


class ConfigError(IngestError):
    """The settings or the feed catalog are invalid; the message names what to fix."""

    kind = "config"


class TransientError(IngestError):
    """A failure that may go away on retry."""

    kind = "transient"


class PermanentError(IngestError):
    """Input that cannot be processed; retrying will not help."""

    kind = "permanent"


# --- fetching -------------------------------------------------------------------------------


class FetchTimeout(TransientError):
    """The server did not answer within the configured timeout."""


class ConnectFailed(TransientError):
    """The connection could not be made (DNS, refused, reset)."""


class ServerError(TransientError):
    """The server answered 5xx or 429; ``retry_after`` holds its hint in seconds, if any."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class NotRequested(TransientError):
    """The request was never sent in this run (the run's time budget was spent before its turn
    at the host came, or robots.txt could not be read); the page stays pending without using
    one of its attempts."""


class RobotsUnavailable(NotRequested):
    """robots.txt answered 5xx or could not be reached: RFC 9309 says crawl nothing on the
    site until it answers."""


class ClientError(PermanentError):
    """The server answered 4xx (other than 429): gone, forbidden, not found."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class BlockedAddress(PermanentError):
    """The URL resolves to a private, loopback or link-local address (SSRF guard)."""


class TooManyRedirects(PermanentError):
    """More redirects than allowed, or a redirect loop."""


class TooLarge(PermanentError):
    """The body exceeds the configured size cap."""


class UnsupportedContent(PermanentError):
    """The content type or the bytes are not what was expected (binary instead of HTML...)."""


class RobotsDisallowed(PermanentError):
    """robots.txt forbids fetching this URL for our user agent."""


class InvalidURL(PermanentError):
    """The URL is not an absolute http(s) URL."""


class PollFailed(TransientError):
    """Every feed of a group failed in a poll (recorded per feed in the poll report)."""


# --- parsing and processing -----------------------------------------------------------------


class FeedParseError(PermanentError):
    """The feed document could not be parsed into entries."""


class NotAnArticle(PermanentError):
    """The page holds no article (index page, video page, paywall stub, empty body)."""


# --- storage --------------------------------------------------------------------------------


class StorageUnavailable(TransientError):
    """The object store could not be reached or answered with a server error."""


class StorageError(PermanentError):
    """The object store refused the request (bad credentials, missing bucket)."""


class WriteConflict(IngestError):
    """A conditional write lost: the object changed (or appeared) since it was read."""


class ObjectExists(WriteConflict):
    """A write-once key already exists (conditional write lost)."""
