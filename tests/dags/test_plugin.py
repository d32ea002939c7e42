"""Airflow-side glue: which captures a news_process run works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

pytestmark = pytest.mark.airflow


@dataclass
class Event:
    extra: dict[str, Any] = field(default_factory=dict)


def test_capture_keys_merge_every_event_and_the_conf() -> None:
    from news_ingest_airflow import capture_keys

    events = {"news-raw": [Event({"captures": ["b", "a"]}), Event({"captures": ["c", "a"]}),
                           Event({})]}
    assert capture_keys(None, events) == ["a", "b", "c"]
    assert capture_keys({"captures": ["z"]}, events) == ["a", "b", "c", "z"]
    assert capture_keys({}, None) == []
