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
