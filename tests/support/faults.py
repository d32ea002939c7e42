"""Fault routes for the local HTTP server, a name resolver for tests and a cuttable TCP proxy.

Tests serve "news.test" from a dedicated loopback address (``TRUSTED_IP``) that the fetcher is
told to treat as public, so the SSRF guard still refuses every other private address; nothing
is mocked. The proxy sits between boto3 and SeaweedFS to cut storage mid-run.
"""

from __future__ import annotations

import contextlib
import gzip
import select
import socket
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from ingest.sample.server import SampleServer, send

TRUSTED_IP = "127.0.0.77"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000

def article(title: str, sentence: str) -> bytes:
    """A small but real article page: six distinct paragraphs around ``sentence``."""
    paras = "".join(
        f"<p>{sentence} In the {n} part of the report, officials gave figure {len(n) * 17} and said "
        f"that work on item {n} would continue through the coming weeks.</p>"
        for n in ("first", "second", "third", "fourth", "fifth", "sixth"))
    return (f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{paras}</article></body></html>").encode()


def rss(base: str, paths: list[str]) -> bytes:
    items = "".join(f"<item><title>Item {p}</title><link>{base}{p}</link>"
                    f"<pubDate>Mon, 31 Mar 2014 10:00:00 +0000</pubDate></item>" for p in paths)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Fault feed</title>{items}</channel></rss>").encode()


GZIPPED = article("Compressed", "The page in Accra came gzip-encoded.")  # served as /gzipped


def install_fault_routes(server: SampleServer) -> dict[str, int]:
    """Register the fault routes; returns a dict of switches tests can flip."""
    switches = {"flaky_ok": 0, "retry_after_calls": 0}

    def route(path: str) -> Callable[[Callable[[BaseHTTPRequestHandler], None]], None]:
        def register(fn: Callable[[BaseHTTPRequestHandler], None]) -> None:
            server.routes[path] = fn
        return register

    @route("/slow")
    def _slow(req: BaseHTTPRequestHandler) -> None:
        time.sleep(4)
        send(req, 200, article("Slow", "Too late."), "text/html")

    @route("/gzipped")
    def _gzipped(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, gzip.compress(GZIPPED), "text/html; charset=utf-8",
             {"Content-Encoding": "gzip"})

    @route("/identity")
    def _identity(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, GZIPPED, "text/html", {"Content-Encoding": "identity"})

    @route("/deflated")
    def _deflated(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, zlib.compress(GZIPPED), "text/html; charset=utf-8",
             {"Content-Encoding": "deflate"})

    @route("/brotli")
    def _brotli(req: BaseHTTPRequestHandler) -> None:  # sent though only gzip was asked for
        send(req, 200, b"\x1b\x10\x00\xf8\xa5\x82", "text/html", {"Content-Encoding": "br"})

    @route("/gzip-lie")
    def _gzip_lie(req: BaseHTTPRequestHandler) -> None:  # plain HTML said to be gzip
        send(req, 200, GZIPPED, "text/html", {"Content-Encoding": "gzip"})

    @route("/gzip-binary.html")
    def _gzip_binary(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, gzip.compress(PNG), "text/html", {"Content-Encoding": "gzip"})

    @route("/error500")
    def _e500(req: BaseHTTPRequestHandler) -> None:
        send(req, 500, b"internal error", "text/plain")

    @route("/flaky")
    def _flaky(req: BaseHTTPRequestHandler) -> None:
        if switches["flaky_ok"]:
            send(req, 200, article("Flaky story back online",
                                   "The flaky server in Nairobi answered on the second run."),
                 "text/html; charset=utf-8")
        else:
            send(req, 503, b"try later", "text/plain")

    @route("/retry-after")
    def _retry_after(req: BaseHTTPRequestHandler) -> None:
        switches["retry_after_calls"] += 1
        if switches["retry_after_calls"] == 1:
            send(req, 503, b"busy", "text/plain", {"Retry-After": "1"})
        else:
            send(req, 200, article("Patience", "Officials in Lisbon said it was worth the wait."),
                 "text/html")

    @route("/loop-a")
    def _loop_a(req: BaseHTTPRequestHandler) -> None:
        send(req, 302, b"", "text/plain", {"Location": "/loop-b"})

    @route("/loop-b")
    def _loop_b(req: BaseHTTPRequestHandler) -> None:
        send(req, 302, b"", "text/plain", {"Location": "/loop-a"})

    @route("/to-metadata")
    def _to_metadata(req: BaseHTTPRequestHandler) -> None:
        send(req, 302, b"", "text/plain",
             {"Location": "http://169.254.169.254/latest/meta-data/"})

    @route("/to-loopback")
    def _to_loopback(req: BaseHTTPRequestHandler) -> None:
        send(req, 301, b"", "text/plain", {"Location": f"http://127.0.0.1:{server.port}/ok"})

    @route("/ok")
    def _ok(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, article("A fine story", "Farmers in Kenya reported a good harvest."),
             "text/html; charset=utf-8")

    @route("/huge")
    def _huge(req: BaseHTTPRequestHandler) -> None:  # its Content-Length tells
        send(req, 200, b"<html>" + b"x" * (3 * 1024 * 1024), "text/html",
             {"Content-Encoding": "identity"})

    @route("/huge-gzipped")
    def _huge_gzipped(req: BaseHTTPRequestHandler) -> None:  # a few kB, 3 MB decoded
        send(req, 200, b"<html>" + b"x" * (3 * 1024 * 1024), "text/html")

    @route("/huge-chunked")
    def _huge_chunked(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        chunk = b"y" * 65536
        try:
            for _ in range(64):
                req.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            req.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    @route("/binary.html")
    def _binary(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, PNG, "text/html")

    @route("/image.png")
    def _image(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, PNG, "image/png")

    @route("/gone")
    def _gone(req: BaseHTTPRequestHandler) -> None:
        send(req, 404, b"not here", "text/plain")

    @route("/robots.txt")
    def _robots(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, b"User-agent: *\nDisallow: /private/\n", "text/plain")

    @route("/private/secret")
    def _private(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, article("Secret", "Nobody should fetch this page."), "text/html")

    @route("/malformed.xml")
    def _malformed(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, b"<?xml version='1.0'?><html><body>no feed</body>", "application/xml")

    return switches


def resolver_with(host: str, address: str = TRUSTED_IP) -> Callable[[str, int], Any]:
    """A resolver that answers ``address`` for ``host`` and resolves everything else for real."""
    from ingest.fetch import system_resolver

    async def resolve(name: str, port: int) -> list[str]:
        if name == host:
            return [address]
        return await system_resolver(name, port)

    return resolve


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 to ``target``; ``cut()`` drops every connection and refuses new
    ones (an outage), ``restore()`` lets traffic through again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.down = False
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.down = True
        with self.lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.conns.clear()

    def restore(self) -> None:
        self.down = False

    def close(self) -> None:
        self.running = False
        self.cut()
        self.sock.close()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self.down:
                ready, _, _ = select.select([a, b], [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):  # cut() closed a socket under select (fd -1: ValueError)
            pass
        finally:
            a.close()
            b.close()
