"""Exact dedupe index: first seen, re-runs and late backfills."""

from __future__ import annotations

from ingest.dedupe import ExactIndex, entries_from_segment, text_hash, window_days


def test_text_hash_ignores_case_spacing_and_punctuation() -> None:
    assert text_hash("Hello,  World!\n") == text_hash("hello world")
    assert text_hash("Hello world") != text_hash("Hello there world")


def test_first_seen_is_canonical_and_copies_name_it() -> None:
    idx = ExactIndex("b1")
    a = idx.decide("a", "h", "2014-03-31T01:00:00")
    b = idx.decide("b", "h", "2014-03-31T02:00:00")
    c = idx.decide("c", "other", "2014-03-31T03:00:00")
    assert (a.status, a.duplicate_of) == ("new", None)
    assert (b.status, b.duplicate_of) == ("duplicate", "a")
    assert (c.status, c.duplicate_of) == ("new", None)


def test_rerunning_a_batch_ignores_its_own_segment() -> None:
    first = ExactIndex("b1")
    first.decide("a", "h", "2014-03-31T01:00:00")
    stored = entries_from_segment(first.segment())
    again = ExactIndex("b1", stored)
    assert again.decide("a", "h", "2014-03-31T01:00:00").status == "new"
    assert again.segment() == first.segment()


def test_same_url_in_a_later_batch_is_seen_not_duplicated() -> None:
    first = ExactIndex("b1")
    first.decide("a", "h", "2014-03-31T01:00:00")
    later = ExactIndex("b2", entries_from_segment(first.segment()))
    d = later.decide("a", "h2", "2014-04-01T01:00:00")
    assert (d.status, d.seen_in) == ("seen", "b1")


def test_backfilled_older_copy_is_canonical_and_not_its_own_duplicate() -> None:
    newer = ExactIndex("b-new")
    newer.decide("new", "h", "2014-04-10T00:00:00")
    older = ExactIndex("b-old", entries_from_segment(newer.segment()))
    d = older.decide("old", "h", "2014-03-01T00:00:00")
    assert d.status == "new"  # it was seen first, so it is canonical
    assert d.duplicate_of is None


def test_window_days() -> None:
    assert window_days("2014-03-31", 1) == ["2014-03-30", "2014-03-31", "2014-04-01"]


def test_the_same_url_twice_in_one_batch_gives_one_row() -> None:
    idx = ExactIndex("b1")
    assert idx.decide("a", "h", "2014-03-31T01:00:00").status == "new"
    again = idx.decide("a", "h", "2014-03-31T01:00:05")
    assert (again.status, again.seen_in) == ("seen", "b1")
    assert len(idx.segment()["entries"]) == 1  # type: ignore[arg-type]


def test_iso_times_are_isoformat_and_micros_of_each_timestamp() -> None:
    """The serial stage's fetch times from an Arrow column (no datetime per page) are what
    ``datetime.isoformat`` and the index's own parsing give, nulls included."""
    from datetime import UTC, datetime

    import numpy as np
    import pyarrow as pa

    from ingest.dedupe import _micros, iso_times

    values = [datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 1, 0, 0, 5, 123, tzinfo=UTC),
              None, datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
              datetime(2000, 2, 29, 12, 0, 0, 500000, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
              datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    kind = pa.timestamp("us", tz="UTC")
    column = pa.chunked_array([pa.array(values[:3], kind), pa.array(values[3:], kind)])
    isos, micros = iso_times(column)
    assert isos == [v.isoformat() if v else None for v in values]
    assert micros == [_micros(v.isoformat()) if v else None for v in values]
    assert iso_times(pa.chunked_array([], kind)) == ([], [])
    # the index's own stored times (a segment's near rows) are written the same way
    from datetime import timedelta

    from ingest.dedupe import _isos

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert _isos(np.array(micros[:2] + micros[3:], np.int64)) == [
        (epoch + timedelta(microseconds=m)).isoformat() for m in micros if m is not None]
