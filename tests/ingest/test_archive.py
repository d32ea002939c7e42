"""WARC captures: round trip, determinism, offsets and truncation."""

from __future__ import annotations

import gzip
import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from ingest.archive import Encoded, Exchange, build_warc, encode, read_encoded, read_warc
from ingest.errors import PermanentError
from ingest.models import Response


def resp(n: int, body: bytes = b"<html>caf\xc3\xa9</html>") -> Response:
    return Response(
        url=f"https://news.example/{n}", final_url=f"https://news.example/{n}?r=1", status=200,
        headers=(("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")),
        body=body + str(n).encode(), fetched_at=datetime(2014, 3, 31, 1, n, tzinfo=UTC),
        request_headers=(("Accept", "text/html"),), redirects=(f"https://news.example/{n}",),
    )


def exchanges() -> list[Exchange]:
    return [Exchange(resp(0), "feed", {"feed_id": "f"}),
            Exchange(resp(1), "page", {"feed_id": "f", "entry_title": "Ünïcode title"}),
            Exchange(resp(2), "page", {"feed_id": "f"})]


def test_same_exchanges_give_the_same_bytes() -> None:
    assert build_warc(exchanges()) == build_warc(exchanges())


def test_exchanges_encoded_ahead_give_the_same_bytes_alone_or_mixed() -> None:
    # a poll keeps each page as its encoded records until its capture is written
    plain = build_warc(exchanges())
    encoded = [encode(ex) for ex in exchanges()]
    assert build_warc(encoded) == plain
    assert build_warc([exchanges()[0], encoded[1], exchanges()[2]]) == plain
    first = encoded[1]
    assert (first.kind, first.url, first.fetched_at) == ("page", resp(1).url, resp(1).fetched_at)
    assert first.meta["entry_title"] == "Ünïcode title"
    assert [a.body for a in read_warc(first.records)] == [resp(1).body]


def test_round_trip_keeps_bodies_metadata_and_rebuilds_identically() -> None:
    data = build_warc(exchanges())
    back = list(read_warc(data))
    assert [a.kind for a in back] == ["feed", "page", "page"]
    assert back[1].body == resp(1).body
    assert back[1].meta["entry_title"] == "Ünïcode title"
    assert back[1].url == "https://news.example/1"
    assert back[1].final_url == "https://news.example/1?r=1"
    assert back[1].fetched_at == resp(1).fetched_at


def test_stored_exchanges_read_back_as_their_records_rebuild_identically() -> None:
    # a poll adding to a capture keeps its records' bytes, whatever wrote them
    data = build_warc(exchanges())
    stored = list(read_encoded(data))
    assert stored == [encode(ex) for ex in exchanges()]
    assert build_warc(stored) == data
    assert build_warc([*stored, encode(Exchange(resp(3), "page", {"feed_id": "g"}))]) == \
        build_warc([*exchanges(), Exchange(resp(3), "page", {"feed_id": "g"})])


@pytest.mark.parametrize("cut", [1, 30, 500])
def test_a_cut_capture_reads_back_as_its_whole_exchanges_only(cut: int) -> None:
    data = build_warc(exchanges())
    got: list[Encoded] = []
    with pytest.raises(PermanentError, match="truncated or corrupt WARC"):
        got.extend(read_encoded(data[:-cut], "captures/x.warc.gz"))
    assert got == [encode(ex) for ex in exchanges()[:len(got)]] and len(got) >= 1
    assert len(list(read_warc(build_warc(got)))) == len(got)  # rewritten, it reads to its end


def encoded_page(n: int, payload: bytes) -> Exchange:
    """A page kept as it was received: its body gzip-encoded."""
    return Exchange(replace(resp(n), body=payload, content_encoding="gzip"), "page",
                    {"feed_id": "f"})


def test_a_gzip_encoded_body_is_stored_as_received_and_read_decoded() -> None:
    html = b"<html><p>" + b"Nairobi news. " * 5000 + b"</p></html>"
    ex = encoded_page(1, gzip.compress(html))
    data = build_warc([ex])
    [back] = read_warc(data)
    assert back.body == html and back.problem == ""
    assert back.header("Content-Encoding") == "gzip"
    # any WARC reader sees the body as the server sent it and decodes it (warcio here)
    record = next(r for r in ArchiveIterator(io.BytesIO(data)) if r.rec_type == "response")
    assert record.http_headers.get_header("Content-Length") == str(len(ex.response.body))
    assert record.content_stream().read() == html
    # the response's member is not deflated again: the capture is about the body's size
    assert len(ex.response.body) < len(data) < len(ex.response.body) + 2000
    assert build_warc(list(read_encoded(data))) == data


def test_a_body_that_cannot_be_decoded_is_that_page_s_problem_only() -> None:
    html = b"<html>" + b"x" * 100_000 + b"</html>"
    whole = gzip.compress(html)
    pages = [encoded_page(1, b"not gzip at all"), encoded_page(2, whole[:len(whole) // 2]),
             encoded_page(3, gzip.compress(b"<p>" * 200_000)), encoded_page(4, whole)]
    back = list(read_warc(build_warc(pages), max_body=500_000))
    assert [b.problem.split(":")[0] for b in back] == [
        "the gzip-encoded body cannot be decoded", "the gzip-encoded body is cut short",
        "the gzip-encoded body decodes to more than 500000 bytes", ""]
    assert [b.body for b in back] == [b"", b"", b"", html]


def test_it_is_a_standard_warc_with_request_response_and_metadata_records() -> None:
    data = build_warc(exchanges())
    types = [r.rec_type for r in ArchiveIterator(io.BytesIO(data))]
    assert types == ["request", "response", "metadata"] * 3
    assert gzip.decompress(data).startswith(b"WARC/1.1\r\n")


def test_offsets_address_single_records() -> None:
    data = build_warc(exchanges())
    page = list(read_warc(data))[2]
    record = next(iter(ArchiveIterator(io.BytesIO(data[page.offset:]))))
    assert record.rec_type == "response"
    assert record.content_stream().read() == resp(2).body


@pytest.mark.parametrize("cut", [1, 30, 500])
def test_truncated_capture_yields_what_is_readable_then_a_clear_error(cut: int) -> None:
    data = build_warc(exchanges())
    got = []
    with pytest.raises(PermanentError, match="truncated or corrupt WARC"):
        got.extend(read_warc(data[:-cut], "captures/x.warc.gz"))
    assert len(got) >= 1


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(PermanentError, match="truncated or corrupt"):
        list(read_warc(b"this is not a warc file at all"))


def test_a_selection_reads_only_its_responses_with_their_metadata() -> None:
    data = build_warc(exchanges())
    every = list(read_warc(data))
    odd = list(read_warc(data, select=lambda n, _url: n % 2 == 1))
    even = list(read_warc(data, select=lambda n, _url: n % 2 == 0))
    assert odd == [every[1]] and even == [every[0], every[2]]
    assert odd[0].meta["entry_title"] == "Ünïcode title" and even[0].kind == "feed"
    with pytest.raises(PermanentError, match="truncated or corrupt WARC"):
        list(read_warc(data[:-30], select=lambda n, _url: n == 0))  # the cut is noticed anyway


def test_responses_are_yielded_as_the_file_is_read() -> None:
    # a reader works through a big capture one page at a time: the first response comes with
    # its metadata before the rest of the file is read
    data = build_warc([Exchange(resp(n), "page", {"feed_id": f"f{n}"}) for n in range(50)])
    seen: list[int] = []

    def select(number: int, _url: str) -> bool:
        seen.append(number)
        return True

    records = read_warc(data, select=select)
    first = next(records)
    assert first.meta["feed_id"] == "f0" and first.request_headers == (("Accept", "text/html"),)
    assert max(seen) <= 1  # at most the next response's record was reached
    rest = list(records)
    assert [r.meta["feed_id"] for r in rest] == [f"f{n}" for n in range(1, 50)]
    assert rest == list(read_warc(data))[1:]
