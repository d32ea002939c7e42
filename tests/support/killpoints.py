"""Faults at every storage write: SIGKILL just before or just after write number N, or cut the
storage connection there.

``FaultyClient`` wraps a real boto3 S3 client (talking to a real SeaweedFS) and counts its
writes; at the chosen write it kills its own process or cuts a ``CuttableProxy`` that stands
between it and the store, so what follows fails the way a real outage fails. Kills run in a
forked child (``run_killable``), so the test process lives on to re-run and check.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.storage import ObjectStore, Stores

WRITES = frozenset({"put_object", "delete_object", "delete_objects", "copy_object"})


@dataclass(frozen=True)
class Fault:
    """Act at write number ``at`` (1-based), ``when`` "before" or "after" it; ``action`` "kill"
    (SIGKILL the process) or "cut" (storage outage from that moment)."""

    at: int
    when: str
    action: str

    def __str__(self) -> str:
        return f"{self.action}-{self.when}-write-{self.at}"


class FaultyClient:
    """A boto3 S3 client that counts writes and acts at one of them."""

    def __init__(self, client: Any, fault: Fault | None = None,
                 cut: Callable[[], None] | None = None) -> None:
        self._client = client
        self._fault = fault
        self._cut = cut
        self.writes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in WRITES:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.writes.append(f"{name} {kwargs.get('Key', '')}")
            hit = self._fault is not None and len(self.writes) == self._fault.at
            if hit and self._fault is not None and self._fault.when == "before":
                self._act()
            result = attr(*args, **kwargs)
            if hit and self._fault is not None and self._fault.when == "after":
                self._act()
            return result

        return call

    def _act(self) -> None:
        assert self._fault is not None
        if self._fault.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self._cut is not None:
            self._cut()


def stores_on(client: Any, raw_bucket: str, processed_bucket: str) -> Stores:
    return Stores(ObjectStore(client, raw_bucket), ObjectStore(client, processed_bucket))


def run_killable(fn: Callable[[], None]) -> str:
    """Run ``fn`` in a forked child; "killed", "ok", or "error" (it raised)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            fn()
        except BaseException:  # noqa: BLE001 - reported through the exit code
            traceback.print_exc()
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return "killed"
    return "ok" if os.WEXITSTATUS(status) == 0 else "error"
