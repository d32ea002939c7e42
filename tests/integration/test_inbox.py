"""The processing inbox: a capture whose asset event never reached a run is still processed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest import inbox, pipeline
from ingest.config import SAMPLE_CATALOG, Settings
from ingest.models import DataInterval
from ingest.sample.server import SampleServer
from ingest.storage import Stores

pytestmark = pytest.mark.integration

HOUR = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 3, 31, 1, tzinfo=UTC))


def test_marked_captures_are_processed_and_cleared(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    settings = settings.model_copy(update={"catalog_path": str(SAMPLE_CATALOG)})
    polled = pipeline.poll("sample", HOUR, settings)
    key = polled["captures"][0]
    assert list(stores.raw.list("inbox/")) == [inbox.marker_key(key)]

    # a run whose events name nothing still finds the capture
    summary = pipeline.process([], settings, use_inbox=True)
    assert summary["counts"]["articles"] == 8 and summary["manifests"]
    assert list(stores.raw.list("inbox/")) == []

    # a marker rewritten while its capture was being processed stays for the next run
    inbox.post(stores, key)
    version = inbox.pending(stores)[key]
    stores.raw.put_json(inbox.marker_key(key), {"capture": key, "again": 1})
    assert not inbox.done(stores, key, version)
    assert list(stores.raw.list("inbox/")) == [inbox.marker_key(key)]
    # without use_inbox (the CLI), markers are left alone
    pipeline.process([key], settings)
    assert list(stores.raw.list("inbox/")) == [inbox.marker_key(key)]
