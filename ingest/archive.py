"""Raw captures as WARC.gz (warcio): request, response and metadata records per exchange.

Record ids derive from the URL, the fetch time and the payload hash, and WARC-Date is the fetch
time, so the same exchanges always give the same bytes. Each record is its own gzip member, so
``(key, offset)`` addresses one record for later re-derivation. A page fetched gzip-encoded is
stored as it came, with its ``Content-Encoding``, the way WARC crawlers keep what the server
sent: a poll then neither decodes nor compresses it again (about 0.8 ms of CPU a page), and
readers decode it (:func:`read_warc` here, ``content_stream()`` in warcio).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ingest.errors import PermanentError
from ingest.models import Response, header_value, parse_iso

# warcio reads each record's gzip member through its registry of decompressors (the way it adds
# brotli): ISA-L's is 2.3x faster than zlib on news pages, the same bytes (damaged members raise
# as zlib's do, and warcio handles both alike)
BufferedReader.DECOMPRESSORS["gzip"] = lambda: isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
# what ISA-L raises on data it cannot inflate (its stubs declare it an instance, not a class)
_GzipError = cast("type[Exception]", isal_zlib.error)

_NS = uuid.UUID("5f0c8f1e-3a43-4c55-9a39-5c1b8a1f0e42")
_DROP_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange to archive: the response, its role and pipeline metadata."""

    response: Response
    kind: str  # "feed" or "page"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.response.url

    @property
    def fetched_at(self) -> datetime:
        return self.response.fetched_at


@dataclass(frozen=True, slots=True)
class Encoded:
    """An exchange already written as its capture records (:func:`encode`): what a poll keeps
    of each page it fetched until its capture is stored. A poll held every page's decoded
    body until then: a poll of 2,000 of the scale bench's pages peaked at 573 MiB resident
    and one of 4,000 at 1,045 MiB; holding the compressed records, 319 and 540 MiB.
    :func:`build_warc` writes the records as they are, so the capture's bytes are the same."""

    kind: str
    meta: dict[str, Any]
    url: str
    fetched_at: datetime
    records: bytes  # the request, response and metadata records, each its own gzip member


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    """A response record read back from a WARC, with its metadata and offset."""

    kind: str
    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    offset: int
    meta: dict[str, Any]
    request_headers: tuple[tuple[str, str], ...] = ()
    problem: str = ""  # why the stored body could not be decoded ("": it was; ``body`` is it)

    def header(self, name: str) -> str:
        """The first value of header ``name`` (case-insensitive), or ""."""
        return header_value(self.headers, name)


def _record_id(*parts: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(_NS, '|'.join(parts))}>"


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


GZIP_LEVEL = 2  # ISA-L's levels: 0-3


class _MemberWriter:
    """warcio's writer with each record in its own gzip member, compressed by ISA-L (``isal``)
    at ``GZIP_LEVEL``. A poll compresses every page it fetches: warcio's zlib at level 9 did
    43 MB/s on news HTML, zlib at level 3 117 MB/s, ISA-L at level 2 about 550 MB/s (0.3 ms
    for a 170 KB page against zlib's 1.6 ms) for files 2.5 % bigger than zlib's level 3. The
    members are plain gzip: any reader (warcio, zlib, gzip) reads them."""

    def __init__(self, out: io.BytesIO) -> None:
        self.out = out
        self.buf = io.BytesIO()
        self.writer = WARCWriter(self.buf, gzip=False, warc_version="1.1")
        self.create_warc_record = self.writer.create_warc_record

    def write_record(self, record: Any, compress: bool = True) -> None:
        """``compress`` False: a member of stored blocks, for a payload that is compressed
        already (a gzip-encoded page: deflating it again gains nothing and cost 0.09 ms a
        page against 0.02 stored)."""
        self.buf.seek(0)
        self.buf.truncate()
        self.writer.write_record(record)
        member = (isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, isal_zlib.MAX_WBITS + 16)
                  if compress else zlib.compressobj(0, zlib.DEFLATED, zlib.MAX_WBITS + 16))
        self.out.write(member.compress(self.buf.getvalue()) + member.flush())


def build_warc(exchanges: Iterable[Exchange | Encoded]) -> bytes:
    """Serialise exchanges to WARC.gz bytes, deterministically (an :class:`Encoded` one as it
    was encoded: the same bytes)."""
    out = io.BytesIO()
    writer = _MemberWriter(out)
    for ex in exchanges:
        if isinstance(ex, Encoded):
            out.write(ex.records)
        else:
            _write_exchange(writer, ex)
    return out.getvalue()


def encode(ex: Exchange) -> Encoded:
    """The exchange's capture records, written now (the response's body is not kept)."""
    out = io.BytesIO()
    _write_exchange(_MemberWriter(out), ex)
    return Encoded(ex.kind, ex.meta, ex.response.url, ex.response.fetched_at, out.getvalue())


def _write_exchange(writer: _MemberWriter, ex: Exchange) -> None:
    """An exchange's request, response and metadata records."""
    resp = ex.response
    date = _warc_date(resp.fetched_at)
    digest = hashlib.sha256(resp.body).hexdigest()
    resp_id = _record_id("response", resp.final_url, date, digest)
    target = resp.final_url
    req_headers = StatusAndHeaders(
        f"GET {_path(target)} HTTP/1.1", list(resp.request_headers), protocol="",
        is_http_request=True,
    )
    writer.write_record(writer.create_warc_record(
        target, "request", http_headers=req_headers,
        warc_headers_dict={"WARC-Record-ID": _record_id("request", resp_id),
                           "WARC-Date": date, "WARC-Concurrent-To": resp_id},
    ))
    headers = [(k, v) for k, v in resp.headers if k.lower() not in _DROP_HEADERS]
    if resp.content_encoding:  # the body as received: readers decode it (content_stream)
        headers.append(("Content-Encoding", resp.content_encoding))
    headers.append(("Content-Length", str(len(resp.body))))
    http_headers = StatusAndHeaders(f"{resp.status} {_reason(resp.status)}", headers,
                                    protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        target, "response", payload=io.BytesIO(resp.body), length=len(resp.body),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Record-ID": resp_id, "WARC-Date": date},
    ), compress=not resp.content_encoding)
    meta = {"kind": ex.kind, "url": resp.url, "final_url": resp.final_url,
            "redirects": list(resp.redirects), **ex.meta}
    payload = json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str).encode()
    writer.write_record(writer.create_warc_record(
        target, "metadata", payload=io.BytesIO(payload), length=len(payload),
        warc_content_type="application/json",
        warc_headers_dict={"WARC-Record-ID": _record_id("metadata", resp_id),
                           "WARC-Date": date, "WARC-Concurrent-To": resp_id},
    ))


def read_warc(data: bytes, source: str = "capture",
              select: Callable[[int, str], bool] | None = None,
              max_body: int | None = None) -> Iterator[ArchivedResponse]:
    """Yield the response records of a capture with their metadata, in file order.

    Each response is yielded as soon as its metadata record has been read (``build_warc``
    writes it right after the response), so a reader can work through a big capture holding
    one body at a time. ``select``: only the responses it accepts, given their number (0-based,
    in file order, every response record counted) and URL; the others are skipped without
    their bodies being kept. A truncated or corrupt file raises ``PermanentError`` after the
    readable records. A body stored gzip-encoded (as it was received) is decoded, up to
    ``max_body`` bytes; one that cannot be is yielded empty with its ``problem``, and the
    records after it are read on.
    """
    waiting: list[tuple[str, ArchivedResponse]] = []  # responses whose metadata is still to come
    metas: dict[str, dict[str, Any]] = {}
    requests: dict[str, tuple[tuple[str, str], ...]] = {}
    skipped: set[str] = set()  # responses ``select`` turned down, until their metadata passes
    stream = ArchiveIterator(io.BytesIO(data))
    number = -1
    last = 0
    try:
        for record in stream:
            rid = record.rec_headers.get_header("WARC-Record-ID")
            if record.rec_type == "response":
                number += 1
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                if select is not None and not select(number, url):
                    skipped.add(rid)  # its metadata record is skipped too
                    last = stream.get_record_offset()  # (reads the record to its end)
                    continue
                body, problem = _body(record, max_body)
                offset = stream.get_record_offset()  # after reading: it consumes the record
                http = record.http_headers
                status = int(http.get_statuscode()) if http else 0
                when = record.rec_headers.get_header("WARC-Date") or ""
                waiting.append((rid, ArchivedResponse(
                    kind="page", url=url, final_url=url, status=status,
                    headers=tuple(http.headers) if http else (), body=body,
                    fetched_at=_parse_date(when), offset=offset, meta={}, problem=problem,
                )))
            elif record.rec_type == "request":
                target = record.rec_headers.get_header("WARC-Concurrent-To")
                http = record.http_headers
                requests[target] = tuple(http.headers) if http else ()
            elif record.rec_type == "metadata":
                target = record.rec_headers.get_header("WARC-Concurrent-To")
                if target in skipped:
                    skipped.discard(target)
                    requests.pop(target, None)
                    last = stream.get_record_offset()
                    continue
                metas[target] = _meta(record)
            # the record's offset, asked once its content was read (warcio reads the record
            # to its end to answer)
            last = stream.get_record_offset()
            if record.rec_type == "metadata" and waiting:
                # the responses up to the one this metadata belongs to, in file order
                ids = [r for r, _ in waiting]
                if target in ids:
                    done = ids.index(target) + 1
                    yield from _merge(waiting[:done], metas, requests)
                    del waiting[:done]
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        yield from _merge(waiting, metas, requests)
        raise PermanentError(f"{source}: truncated or corrupt WARC: {exc}") from None
    yield from _merge(waiting, metas, requests)
    problem = _tail_problem(data, last)
    if problem:
        raise PermanentError(f"{source}: truncated or corrupt WARC: {problem}")


_STEP = 32 * 1024  # compressed bytes decoded at a time: at most ~33 MB out of a deflate bomb


def inflate(data: bytes, wbits: int, limit: int | None) -> tuple[bytes, str, bool]:
    """``data`` decoded (``wbits`` as zlib's: gzip, zlib-wrapped or raw deflate) a piece at a
    time under ``limit`` bytes out; with why it could not be ("" when it could) and whether
    that was the limit. A deflate bomb is stopped within a piece of its output."""
    raw = memoryview(data)
    decoder = isal_zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    try:
        for start in range(0, len(raw), _STEP):
            part = decoder.decompress(raw[start:start + _STEP])
            size += len(part)
            if limit is not None and size > limit:
                return b"", f"decodes to more than {limit} bytes", True
            parts.append(part)
            if decoder.eof:
                break
    except _GzipError as exc:
        return b"", f"cannot be decoded: {exc}", False
    if not decoder.eof:
        return b"", "is cut short", False
    return b"".join(parts), "", False


def _body(record: Any, limit: int | None) -> tuple[bytes, str]:
    """A response record's body, decoded when it was stored gzip-encoded; with the reason
    when it cannot be (the record itself read: the capture is sound, the page is not)."""
    http = record.http_headers
    coding = (http.get_header("Content-Encoding") or "").strip().lower() if http else ""
    if coding != "gzip":
        return record.content_stream().read(), ""
    body, problem, _ = inflate(record.raw_stream.read(), 16 + isal_zlib.MAX_WBITS, limit)
    return body, f"the gzip-encoded body {problem}" if problem else ""


def _meta(record: Any) -> dict[str, Any]:
    """A metadata record's JSON ({} when it is not JSON)."""
    try:
        return dict(json.loads(record.content_stream().read().decode("utf-8")))
    except ValueError:
        return {}


def _tail_problem(data: bytes, last: int) -> str:
    """Why the file does not end with the whole gzip member of the last record read (at
    ``last``), or "". warcio stops quietly at a member cut short; every earlier member was
    read to its end by the iterator, so the tail is what is left to check."""
    if not data:
        return ""
    member = zlib.decompressobj(zlib.MAX_WBITS + 16)
    pos = last
    try:
        while not member.eof and pos < len(data):
            member.decompress(data[pos:pos + (1 << 20)], 1 << 20)
            while member.unconsumed_tail and not member.eof:
                member.decompress(member.unconsumed_tail, 1 << 20)
            pos += 1 << 20
    except zlib.error as exc:
        return str(exc)
    if not member.eof:
        return "the last gzip member is cut short"
    if (member.unused_data + data[pos:]).strip(b"\0"):
        return "bytes after the last record are not a gzip member"
    return ""


def _merge(
    responses: list[tuple[str, ArchivedResponse]],
    metas: dict[str, dict[str, Any]],
    requests: dict[str, tuple[tuple[str, str], ...]],
) -> Iterator[ArchivedResponse]:
    """The responses with their metadata and request headers (both taken out of the maps)."""
    for rid, resp in responses:
        meta = metas.pop(rid, {})
        yield ArchivedResponse(
            kind=str(meta.get("kind", "page")), url=str(meta.get("url", resp.url)),
            final_url=resp.final_url, status=resp.status, headers=resp.headers, body=resp.body,
            fetched_at=resp.fetched_at, offset=resp.offset, meta=meta,
            request_headers=requests.pop(rid, ()), problem=resp.problem,
        )


def read_encoded(data: bytes, source: str = "capture") -> Iterator[Encoded]:
    """The exchanges of a capture as their stored records, each record's bytes unchanged
    (what a poll keeps of a capture it adds to: a body stays as it was stored, undecoded), in
    file order. An exchange without its response or metadata record (a damaged capture's
    cut-off end) is left out. A truncated or corrupt file raises ``PermanentError`` after the
    readable exchanges."""
    members: dict[str, list[bytes]] = {}  # per response record id, its records' members
    dates: dict[str, str] = {}
    done: Encoded | None = None  # held until the next record begins or the tail is checked:
    # warcio stops quietly at a member cut short, which must not be kept as if it were whole
    stream = ArchiveIterator(io.BytesIO(data))
    last = 0
    try:
        for record in stream:
            if done is not None:
                yield done
                done = None
            kind = record.rec_type
            own = record.rec_headers.get_header(
                "WARC-Record-ID" if kind == "response" else "WARC-Concurrent-To") or ""
            meta = _meta(record) if kind == "metadata" else {}
            last = stream.get_record_offset()  # (reads the record to its end)
            members.setdefault(own, []).append(data[last:last + stream.get_record_length()])
            if kind == "response":
                dates[own] = record.rec_headers.get_header("WARC-Date") or ""
            elif kind == "metadata" and own in dates:
                done = Encoded(
                    str(meta.get("kind", "page")),
                    {k: v for k, v in meta.items()
                     if k not in {"kind", "url", "final_url", "redirects"}},
                    str(meta.get("url", record.rec_headers.get_header("WARC-Target-URI"))),
                    _parse_date(dates.pop(own)), b"".join(members.pop(own)))
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        raise PermanentError(f"{source}: truncated or corrupt WARC: {exc}") from None
    problem = _tail_problem(data, last)
    if problem:
        raise PermanentError(f"{source}: truncated or corrupt WARC: {problem}")
    if done is not None:
        yield done


def _parse_date(value: str) -> datetime:
    return parse_iso(value) or datetime(1970, 1, 1, tzinfo=UTC)


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def _reason(status: int) -> str:
    return {200: "OK", 203: "Non-Authoritative Information", 304: "Not Modified"}.get(status, "")
