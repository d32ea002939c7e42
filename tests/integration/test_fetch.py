"""The fetcher against a real local HTTP server: every fault ends in a clear, typed error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.config import Settings
from ingest.errors import (
    BlockedAddress,
    ClientError,
    FetchTimeout,
    PermanentError,
    RobotsDisallowed,
    ServerError,
    TooLarge,
    TooManyRedirects,
    TransientError,
    UnsupportedContent,
)
from ingest.fetch import Fetcher, is_public_address
from ingest.sample.server import SampleServer
from tests.support.faults import TRUSTED_IP, install_fault_routes, resolver_with

pytestmark = pytest.mark.integration

HOST = "news.test"


@pytest.fixture
def fault_server() -> Iterator[tuple[SampleServer, dict[str, int]]]:
    with SampleServer(host=TRUSTED_IP) as server:
        switches = install_fault_routes(server)
        yield server, switches


def fetch(server: SampleServer, path: str, **kwargs: Any) -> Any:
    """Fetch http://news.test:<port><path> through the guard as if news.test were public."""
    settings = Settings(per_host_delay=0.0, read_timeout=1.5, connect_timeout=1.0,
                        page_deadline=3.0, max_body_bytes=1024 * 1024, max_retry_after=2.0)

    async def go() -> Any:
        async with Fetcher(settings, resolver=resolver_with(HOST),
                           trusted_addresses=frozenset({TRUSTED_IP})) as fetcher:
            return await fetcher.fetch(f"http://{HOST}:{server.port}{path}", **kwargs)

    return asyncio.run(go())


def test_ok_page(fault_server: Any) -> None:
    resp = fetch(fault_server[0], "/ok")
    assert resp.status == 200 and b"Kenya" in resp.body


@pytest.mark.parametrize(
    ("path", "error", "message", "base"),
    [
        ("/slow", FetchTimeout, "timed out", TransientError),
        ("/error500", ServerError, "HTTP 500", TransientError),
        ("/flaky", ServerError, "HTTP 503", TransientError),
        ("/gone", ClientError, "HTTP 404", PermanentError),
        ("/loop-a", TooManyRedirects, "redirect loop", PermanentError),
        ("/to-metadata", BlockedAddress, "169.254.169.254, a link-local.*always refused",
         PermanentError),
        ("/to-loopback", BlockedAddress, "127.0.0.1", PermanentError),
        ("/huge", TooLarge, "Content-Length .* exceeds", PermanentError),
        ("/huge-chunked", TooLarge, "exceeds the 1048576-byte cap", PermanentError),
        ("/binary.html", UnsupportedContent, "binary data", PermanentError),
        ("/image.png", UnsupportedContent, "'image/png' is not page content", PermanentError),
        ("/private/secret", RobotsDisallowed, "robots.txt", PermanentError),
    ],
)
def test_faults_raise_typed_errors_with_clear_messages(
    fault_server: Any, path: str, error: type[Exception], message: str, base: type[Exception]
) -> None:
    with pytest.raises(error, match=message) as info:
        fetch(fault_server[0], path)
    assert isinstance(info.value, base)
    assert path.split("?")[0] in str(info.value) or "news.test" in str(info.value)


def test_retry_after_is_honoured(fault_server: Any) -> None:
    server, switches = fault_server
    resp = fetch(server, "/retry-after")
    assert resp.status == 200 and switches["retry_after_calls"] == 2


def test_conditional_get_gives_304(fault_server: Any) -> None:
    server, _ = fault_server
    first = fetch(server, "/globaltimes/rss/asia-pacific.xml", kind="feed")
    etag = first.header("etag")
    assert first.status == 200 and etag
    again = fetch(server, "/globaltimes/rss/asia-pacific.xml", kind="feed", etag=etag)
    assert again.status == 304 and again.body == b""
    since = fetch(server, "/globaltimes/rss/asia-pacific.xml", kind="feed",
                  last_modified=first.header("last-modified"))
    assert since.status == 304


def test_loopback_is_refused_unless_allowed(fault_server: Any) -> None:
    server, _ = fault_server
    settings = Settings(per_host_delay=0.0)

    async def go(allow: bool) -> Any:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(f"{server.base}/ok", allow_private=allow)

    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.77"):
        asyncio.run(go(False))
    assert asyncio.run(go(True)).status == 200


def test_link_local_is_refused_even_when_private_addresses_are_allowed() -> None:
    async def go() -> Any:
        async with Fetcher(Settings(allow_private_addresses=True)) as fetcher:
            return await fetcher.fetch("http://169.254.169.254/latest/meta-data/")

    with pytest.raises(BlockedAddress, match="always refused"):
        asyncio.run(go())


@pytest.mark.parametrize(
    ("address", "public"),
    [("93.184.216.34", True), ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False),
     ("169.254.169.254", False), ("::1", False), ("fe80::1", False), ("::ffff:127.0.0.1", False),
     ("0.0.0.0", False), ("2606:4700::1111", True), ("224.0.0.1", False)],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public
