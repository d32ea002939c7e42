"""Faults at every storage write: SIGKILL just before or just after write number N, or cut the
storage connection there.

``FaultyClient`` wraps a real boto3 S3 client (talking to a real SeaweedFS) and counts its
writes; at the chosen write it kills its own process or cuts a ``CuttableProxy`` that stands
between it and the store, so what follows fails the way a real outage fails. Kills run in a
child process (``run_killable``), so the test process lives on to re-run and check.

The articles table's data files are uploaded by ``ingest.table.PartitionFiles`` (obstore, not
boto3); within ``FaultyClient.table_writes()`` each upload counts as a write too
(``table_put <key>``), and after a cut every later upload fails as it would without storage.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ingest import table
from ingest.config import Settings
from ingest.storage import ObjectStore, Stores, make_s3_client

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
        self.cut_off = False  # the fault cut storage off: later table uploads fail
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in WRITES:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._write(f"{name} {kwargs.get('Key', '')}",
                               lambda: attr(*args, **kwargs))

        return call

    def _write(self, what: str, write: Callable[[], Any]) -> Any:
        with self._lock:  # writes may come from several threads at once
            self.writes.append(what)
            hit = self._fault is not None and len(self.writes) == self._fault.at
        if hit and self._fault is not None and self._fault.when == "before":
            self._act()
        result = write()
        if hit and self._fault is not None and self._fault.when == "after":
            self._act()
        return result

    @contextmanager
    def table_writes(self) -> Iterator[None]:
        """Count the table's data file uploads as this client's writes (and fault them)."""
        put = table.PartitionFiles._put
        client = self

        def counted(files: table.PartitionFiles, key: str, body: Any) -> None:
            def upload() -> None:
                if client.cut_off:
                    raise OSError(f"cannot store s3://{files.bucket}/{key}: the connection "
                                  "was cut (fault injected by the test)")
                put(files, key, body)

            client._write(f"table_put {key}", upload)

        table.PartitionFiles._put = counted  # type: ignore[method-assign]
        try:
            yield
        finally:
            table.PartitionFiles._put = put  # type: ignore[method-assign]

    def _act(self) -> None:
        assert self._fault is not None
        if self._fault.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        else:
            self.cut_off = True
            if self._cut is not None:
                self._cut()


def stores_on(client: Any, raw_bucket: str, processed_bucket: str) -> Stores:
    return Stores(ObjectStore(client, raw_bucket), ObjectStore(client, processed_bucket))


@dataclass(frozen=True)
class Step:
    """A pipeline stage as a picklable call: ``fn(settings, stores, *args, **kwargs)``, so it can
    run in a child process started afresh (see ``run_killable``)."""

    fn: Callable[..., Any]
    settings: Settings
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, stores: Stores) -> Any:
        return self.fn(self.settings, stores, *self.args, **self.kwargs)


def _killable_child(client_settings: Settings, fault: Fault, raw: str, processed: str,
                    step: Step) -> None:
    try:
        client = FaultyClient(make_s3_client(client_settings), fault)
        with client.table_writes():
            step(stores_on(client, raw, processed))
    except BaseException:  # noqa: BLE001 - reported through the exit code
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)


# Children come from a fork server: a process started afresh that imported the pipeline once
# and forks a child per case. A plain os.fork() of the test process is not enough: delta-rs
# keeps one tokio runtime per process, and a child forked after the test process used it
# panics at its first table access ("Forked process detected") instead of reaching the write
# it was meant to die at.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["ingest.process", "ingest.reprocess", "ingest.poll",
                                 "ingest.history", "tests.support.killpoints"])


def run_killable(client_settings: Settings, fault: Fault, raw: str, processed: str,
                 step: Step) -> str:
    """Run ``step`` in a child whose storage client acts at ``fault``: "killed" (SIGKILL),
    "ok", or "error" (it raised: its traceback is on stderr)."""
    child = _CONTEXT.Process(target=_killable_child,
                             args=(client_settings, fault, raw, processed, step))
    child.start()
    child.join()
    if child.exitcode is not None and child.exitcode < 0:
        assert child.exitcode == -signal.SIGKILL, child.exitcode
        return "killed"
    return "ok" if child.exitcode == 0 else "error"
