"""Airflow-side glue: which captures a news_process run works on, and the pools its tasks use."""

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


def test_backfill_runs_poll_historical_sources() -> None:
    import sys
    from types import SimpleNamespace

    from airflow.sdk.api.datamodels._generated import DagRunType

    from tests.dags.conftest import ROOT

    sys.path.insert(0, str(ROOT / "dags"))
    from news_poll import _history

    def ctx(run_type: object, conf: dict[str, object] | None = None) -> dict[str, object]:
        return {"dag_run": SimpleNamespace(run_type=run_type, conf=conf)}

    assert _history(ctx(DagRunType.BACKFILL))
    assert not _history(ctx(DagRunType.SCHEDULED)) and not _history(ctx(DagRunType.MANUAL))
    assert _history(ctx(DagRunType.MANUAL, {"history": True}))


def test_ensure_pools_creates_them_and_keeps_an_operators_size(airflow_db: Any) -> None:
    """The pools are created in the metadata database; a size an operator set in the UI stands
    unless NEWS_INGEST_EXTRACT_SLOTS is given, which then wins."""
    from airflow.models.pool import Pool
    from news_ingest_airflow import ensure_pools

    from ingest.config import Settings

    for name in ("news_extract", "news_poll"):
        if Pool.get_pool(name) is not None:
            Pool.delete_pool(name)
    # polls: 4 at once unless given
    assert ensure_pools(Settings(extract_slots=3)) == {"news_extract": 3, "news_poll": 4}
    assert Pool.get_pool("news_extract").slots == 3
    assert Pool.get_pool("news_poll").slots == 4
    Pool.create_or_update_pool("news_extract", 7, "resized in the UI", include_deferred=False)
    Pool.create_or_update_pool("news_poll", 9, "resized in the UI", include_deferred=False)
    assert ensure_pools(Settings()) == {"news_extract": 7, "news_poll": 9}
    assert ensure_pools(Settings(extract_slots=5))["news_extract"] == 5
    assert Pool.get_pool("news_extract").slots == 5 and Pool.get_pool("news_poll").slots == 9
    assert ensure_pools(Settings(poll_slots=6))["news_poll"] == 6  # given: resizes it
    assert Pool.get_pool("news_poll").slots == 6
