"""WARC captures: round trip, determinism, offsets and truncation."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from ingest.archive import Exchange, build_warc, encode, read_warc, to_exchange
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
    assert build_warc([to_exchange(a) for a in back]) == data


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
