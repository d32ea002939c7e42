"""How a run's captures are cut into extraction tasks (``ingest.stage.shard_counts``)."""

from __future__ import annotations

from ingest.config import Settings
from ingest.stage import shard_counts

MIB = 1024 * 1024
SETTINGS = Settings(stage_shard_bytes=32 * MIB)


def test_without_slots_every_capture_is_cut_by_size() -> None:
    sizes = {"a": 110 * MIB, "b": 10 * MIB, "c": 0}
    assert shard_counts(sizes, SETTINGS) == {"a": 4, "b": 1, "c": 1}


def test_many_captures_are_not_cut_further_than_the_slots_need() -> None:
    # ten captures of 110 MiB on 4 slots: ten tasks (2.5 per slot), not forty
    sizes = {f"c{i}": 110 * MIB for i in range(10)}
    assert shard_counts(sizes, SETTINGS, slots=4) == dict.fromkeys(sizes, 1)


def test_one_big_capture_still_spreads_over_every_slot() -> None:
    assert shard_counts({"a": 110 * MIB}, SETTINGS, slots=4) == {"a": 4}  # capped by size
    assert shard_counts({"a": 400 * MIB}, SETTINGS, slots=4) == {"a": 8}  # two per slot


def test_captures_share_the_slots_by_size() -> None:
    got = shard_counts({"big": 300 * MIB, "small": 30 * MIB, "empty": 0}, SETTINGS, slots=4)
    assert got == {"big": 8, "small": 1, "empty": 1}
    assert sum(got.values()) >= 2 * 4
