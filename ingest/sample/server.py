"""A local HTTP server for the offline sample site (and for tests and benchmarks).

It serves files under a directory, replacing ``{{BASE}}`` with its own address, answers
conditional requests with 304 when the content has not changed (the ETag is a hash of the body;
Last-Modified is 2014-03-31 for a body's first version and moves forward whenever the body
changes; If-None-Match, when sent, decides over If-Modified-Since as RFC 9110 says), and can
add a fixed latency per response. Extra routes can be registered as callables for fault cases.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import socketserver
import threading
import time
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SITE = Path(__file__).resolve().parent / "site"
_FIRST_VERSION = 1396224000  # 2014-03-31T00:00:00Z: Last-Modified of a body's first version
TYPES = {".xml": "application/xml; charset=utf-8", ".json": "application/feed+json",
         ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8"}

Route = Callable[[BaseHTTPRequestHandler], None]


class SampleServer:
    """Serve ``root`` on 127.0.0.1 in a background thread. Use as a context manager."""

    def __init__(self, root: Path = SITE, host: str = "127.0.0.1", port: int = 0,
                 latency: float = 0.0) -> None:
        self.root = root
        self.latency = latency
        self.routes: dict[str, Route] = {}
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self._versions: dict[str, tuple[str, float]] = {}  # path -> (etag, last-modified)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = _QuietServer((host, port), Handler)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SampleServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted."""
        try:
            self.httpd.serve_forever()
        finally:
            self.httpd.server_close()

    def _body(self, path: str) -> bytes | None:
        if path in self.files:
            return self.files[path]
        target = (self.root / path.lstrip("/")).resolve()
        if not str(target).startswith(str(self.root.resolve())) or not target.is_file():
            return None
        return target.read_bytes().replace(b"{{BASE}}", self.base.encode())

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
        if self.latency:
            time.sleep(self.latency)
        if path in self.routes:
            self.routes[path](req)
            return
        body = self._body(path)
        if body is None:
            send(req, 404, b"not found", "text/plain")
            return
        etag, modified = self._validators(path, body)
        last_modified = formatdate(modified, usegmt=True)
        if _not_modified(req, etag, modified):
            send(req, 304, b"", None, {"ETag": etag, "Last-Modified": last_modified})
            return
        suffix = Path(path).suffix
        ctype = TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
        send(req, 200, body, ctype, {"ETag": etag, "Last-Modified": last_modified})

    def _validators(self, path: str, body: bytes) -> tuple[str, float]:
        """The body's ETag and the time this version of the path was first served."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        with self._lock:
            known = self._versions.get(path)
            if known is None:
                modified = float(_FIRST_VERSION)
            elif known[0] == etag:
                modified = known[1]
            else:
                modified = max(float(int(time.time())), known[1] + 1)
            self._versions[path] = (etag, modified)
        return etag, modified


class _QuietServer(ThreadingHTTPServer):
    """A threading server that does not print tracebacks when a client hangs up early."""

    request_queue_size = 1024
    daemon_threads = True

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address (slow when offline)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _not_modified(req: BaseHTTPRequestHandler, etag: str, modified: float) -> bool:
    """Whether the request's validators match the current version (RFC 9110 13.2.2)."""
    match = req.headers.get("If-None-Match")
    if match is not None:
        return etag in [m.strip() for m in match.split(",")] or match.strip() == "*"
    since = req.headers.get("If-Modified-Since")
    if not since:
        return False
    try:
        return parsedate_to_datetime(since).timestamp() >= modified
    except (TypeError, ValueError):
        return False


def send(req: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str | None,
         headers: dict[str, str] | None = None) -> None:
    """Write a complete response; a page is gzip-encoded for a client that accepts it, as
    news sites' pages are (deterministically: the same page gives the same bytes)."""
    headers = dict(headers or {})
    if (status == 200 and body and (ctype or "").startswith("text/html")
            and "content-encoding" not in {k.lower() for k in headers}
            and "gzip" in (req.headers.get("Accept-Encoding") or "")):
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    req.send_response(status)
    if ctype:
        req.send_header("Content-Type", ctype)
    for key, value in headers.items():
        req.send_header(key, value)
    if status != 304:
        req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    if status != 304 and body:
        req.wfile.write(body)
