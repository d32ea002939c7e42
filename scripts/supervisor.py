"""A small process supervisor: named components, restarted with backoff when they exit.

Each component runs in its own session (process group), so stopping or restarting it also ends
every process it started (LocalExecutor workers, log servers). An exit is logged with its
reason (exit status or signal) and the component is started again after a backoff that doubles
from 1 s up to 30 s, and starts over once a component has stayed up for a minute.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MIN_BACKOFF, MAX_BACKOFF, STABLE_AFTER = 1.0, 30.0, 60.0


def describe(status: int) -> str:
    """What a Popen return code means, in words."""
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exited with status {status}"


@dataclass
class Component:
    """One supervised process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path | None = None
    user: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = MIN_BACKOFF
    exits: list[tuple[float, int]] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.cwd,
                                         start_new_session=True, user=self.user)
        self.started_at = time.monotonic()
        self.restart_at = None

    def kill_group(self, sig: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)


class Supervisor:
    """Start components in order, watch them from a thread, restart those that exit."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.components: dict[str, Component] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def add(self, component: Component, start: bool = True) -> Component:
        with self._lock:
            self.components[component.name] = component
            if start:
                component.start()
                self.say(f"{component.name}: started (pid {component.proc.pid if component.proc else '?'})")
        if start and not self._thread.is_alive() and not self._stopping.is_set():
            self._thread.start()
        return component

    def restarts(self, name: str) -> int:
        """How many times ``name`` has exited while supervised."""
        return len(self.components[name].exits)

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                for comp in self.components.values():
                    self._check(comp)

    def _check(self, comp: Component) -> None:
        if comp.proc is None:
            return
        now = time.monotonic()
        status = comp.proc.poll()
        if status is not None and comp.restart_at is None:
            comp.exits.append((now, status))
            comp.kill_group(signal.SIGKILL)  # whatever it started goes with it
            if now - comp.started_at >= STABLE_AFTER:
                comp.backoff = MIN_BACKOFF
            comp.restart_at = now + comp.backoff
            self.say(f"{comp.name}: {describe(status)} after {now - comp.started_at:.0f} s; "
                     f"restarting in {comp.backoff:g} s (see {comp.log_path})")
            comp.backoff = min(comp.backoff * 2, MAX_BACKOFF)
        elif comp.restart_at is not None and now >= comp.restart_at:
            comp.start()
            self.say(f"{comp.name}: restarted (pid {comp.proc.pid})")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every component, newest first: SIGTERM to its process group, SIGKILL after
        ``timeout``."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with self._lock:
            for comp in reversed(list(self.components.values())):
                if comp.proc is None:
                    continue
                comp.kill_group(signal.SIGTERM)
                try:
                    comp.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.say(f"{comp.name}: did not stop within {timeout:g} s; killing it")
                comp.kill_group(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    comp.proc.wait(timeout=10)
