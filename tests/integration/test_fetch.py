"""The fetcher against a real local HTTP server: every fault ends in a clear, typed error."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.config import Settings
from ingest.errors import (
    BlockedAddress,
    ClientError,
    ConnectFailed,
    FetchTimeout,
    NotRequested,
    PermanentError,
    RobotsDisallowed,
    RobotsUnavailable,
    ServerError,
    TooLarge,
    TooManyRedirects,
    TransientError,
    UnsupportedContent,
)
from ingest.fetch import Fetcher, is_public_address
from ingest.sample.server import SampleServer, send
from tests.support.faults import GZIPPED, TRUSTED_IP, install_fault_routes, resolver_with

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


def test_a_gzip_encoded_page_arrives_decoded(fault_server: Any) -> None:
    resp = fetch(fault_server[0], "/gzipped")
    assert resp.status == 200 and resp.body == GZIPPED and resp.content_encoding == ""


def test_kept_encoding_gives_a_gzip_body_as_received_and_decodes_any_other(
        fault_server: Any) -> None:
    # a poll archives a page as it came: asked for gzip only, a gzip body is kept encoded
    kept = fetch(fault_server[0], "/gzipped", keep_encoding=True)
    assert kept.content_encoding == "gzip" and gzip.decompress(kept.body) == GZIPPED
    assert dict(kept.request_headers)["Accept-Encoding"] == "gzip"
    plain = fetch(fault_server[0], "/identity", keep_encoding=True)
    assert plain.content_encoding == "" and plain.body == GZIPPED
    deflated = fetch(fault_server[0], "/deflated", keep_encoding=True)
    assert deflated.content_encoding == "" and deflated.body == GZIPPED


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [("/brotli", UnsupportedContent, "content coding 'br' was not asked for"),
     ("/gzip-lie", ConnectFailed, "undecodable body"),
     ("/gzip-binary.html", UnsupportedContent, "binary data")],
)
def test_kept_encoding_still_refuses_what_cannot_be_read(
        fault_server: Any, path: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        fetch(fault_server[0], path, keep_encoding=True)


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
        ("/huge-gzipped", TooLarge, "exceeds the 1048576-byte cap", PermanentError),
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


def robots_server(body: bytes, status: int = 200) -> SampleServer:
    server = SampleServer(host=TRUSTED_IP)
    install_fault_routes(server)
    server.routes["/robots.txt"] = lambda req: send(req, status, body, "text/plain")
    for path in ("/news/a", "/news/open/b", "/files/report.pdf", "/files/report.pdf.html"):
        server.routes[path] = server.routes["/ok"]
    return server


def fetch_all(server: SampleServer, paths: list[str], **overrides: Any) -> list[Any]:
    """Fetch several paths at once with one fetcher; each result is a response or an error."""
    settings = Settings(**{"per_host_delay": 0.0, "read_timeout": 1.5, "connect_timeout": 1.0,
                           "page_deadline": 3.0, **overrides})

    async def go() -> list[Any]:
        async with Fetcher(settings, resolver=resolver_with(HOST),
                           trusted_addresses=frozenset({TRUSTED_IP})) as fetcher:
            return await asyncio.gather(*(
                fetcher.fetch(f"http://{HOST}:{server.port}{p}") for p in paths),
                return_exceptions=True)

    return asyncio.run(go())


def test_robots_txt_is_read_as_rfc_9309_says() -> None:
    rules = (b"User-agent: *\nDisallow: /news/\nAllow: /news/open/\nDisallow: /*.pdf$\n"
             b"Sitemap: /sitemap.xml\n")
    with robots_server(rules) as server:
        got = fetch_all(server, ["/news/a", "/news/open/b", "/files/report.pdf",
                                 "/files/report.pdf.html", "/ok"])
    assert isinstance(got[0], RobotsDisallowed)
    assert got[1].status == 200  # the longest matching rule wins, not the first
    assert isinstance(got[2], RobotsDisallowed)  # wildcards and end anchors
    assert got[3].status == 200 and got[4].status == 200


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (410, True), (503, False),
                                                 (500, False)])
def test_robots_txt_errors_allow_all_but_server_errors_allow_nothing(
        status: int, allowed: bool) -> None:
    with robots_server(b"User-agent: *\nDisallow: /\n", status) as server:
        (got,) = fetch_all(server, ["/ok"])
    if allowed:
        assert got.status == 200
    else:
        assert isinstance(got, RobotsUnavailable) and isinstance(got, NotRequested)
        assert "RFC 9309" in str(got)


def test_the_deadline_counts_request_time_not_the_wait_for_a_busy_host(fault_server: Any) -> None:
    server, _ = fault_server
    # one request at a time, 0.3 s apart: the last of 6 waits 1.5 s, three times the deadline
    got = fetch_all(server, ["/ok"] * 6, per_host_concurrency=1, per_host_delay=0.3,
                    page_deadline=0.5)
    assert [getattr(g, "status", g) for g in got] == [200] * 6


def test_turns_after_the_runs_budget_are_not_requested(fault_server: Any) -> None:
    server, _ = fault_server
    settings = Settings(per_host_delay=0.2, per_host_concurrency=1, page_deadline=3.0)

    async def go() -> list[Any]:
        async with Fetcher(settings, resolver=resolver_with(HOST),
                           trusted_addresses=frozenset({TRUSTED_IP}),
                           start_by=time.monotonic() + 0.5) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(f"http://{HOST}:{server.port}/ok")
                                          for _ in range(8)), return_exceptions=True)

    before = server.hits.get("/ok", 0)
    got = asyncio.run(go())
    done = [g for g in got if not isinstance(g, Exception)]
    skipped = [g for g in got if isinstance(g, NotRequested)]
    assert 2 <= len(done) <= 4 and len(done) + len(skipped) == 8
    assert server.hits["/ok"] - before == len(done)  # the others were never sent
    assert all("stays pending" in str(g) for g in skipped)


def test_the_sample_server_answers_304_only_while_the_content_is_unchanged() -> None:
    with SampleServer() as server:
        server.files["/f.xml"] = b"<rss>one</rss>"
        first = fetch_plain(server, "/f.xml")
        assert fetch_plain(server, "/f.xml", first.header("etag"), "").status == 304
        assert fetch_plain(server, "/f.xml", "", first.header("last-modified")).status == 304
        server.files["/f.xml"] = b"<rss>two</rss>"
        changed = fetch_plain(server, "/f.xml", first.header("etag"),
                              first.header("last-modified"))
        assert changed.status == 200 and changed.body == b"<rss>two</rss>"
        assert fetch_plain(server, "/f.xml", "", first.header("last-modified")).status == 200
        assert fetch_plain(server, "/f.xml", "", changed.header("last-modified")).status == 304


def fetch_plain(server: SampleServer, path: str, etag: str = "", since: str = "") -> Any:
    async def go() -> Any:
        async with Fetcher(Settings(per_host_delay=0.0, allow_private_addresses=True)) as f:
            return await f.fetch(f"{server.base}{path}", kind="feed", etag=etag,
                                 last_modified=since)

    return asyncio.run(go())
