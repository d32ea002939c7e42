"""How a run's captures are cut into extraction tasks and small ones grouped
(``ingest.stage.shard_counts``, ``ingest.stage.part_groups``)."""

from __future__ import annotations

from ingest.config import Settings
from ingest.stage import part_groups, shard_counts

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


def test_without_slots_every_shard_is_a_task() -> None:
    assert part_groups([5 * MIB, 1 * MIB, 0], SETTINGS) == [[0], [1], [2]]


def test_small_captures_share_tasks_two_per_slot() -> None:
    # a hundred hourly captures of 2 MiB on 4 slots: 8 tasks of 12-13 captures, in order
    groups = part_groups([2 * MIB] * 100, SETTINGS, slots=4)
    assert len(groups) == 8
    assert [i for g in groups for i in g] == list(range(100))
    assert {len(g) for g in groups} <= {12, 13}


def test_a_task_never_holds_more_than_a_shard_of_bytes() -> None:
    # 40 captures of 8 MiB on 2 slots: 80 MiB a task by the slots, capped at 32 MiB (4 each)
    groups = part_groups([8 * MIB] * 40, SETTINGS, slots=2)
    assert [len(g) for g in groups] == [4] * 10


def test_big_shards_stay_alone_and_empty_captures_ride_along() -> None:
    sizes = [30 * MIB, 30 * MIB, 0, 0, 1 * MIB]
    assert part_groups(sizes, SETTINGS, slots=4) == [[0], [1], [2, 3, 4]]
    assert part_groups([0, 0, 0], SETTINGS, slots=4) == [[0, 1, 2]]
    assert part_groups([], SETTINGS, slots=4) == []
