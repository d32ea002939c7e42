"""Soak: run the backfill end-to-end test N times in a row (not part of ``make test``).

Each run starts a fresh stack (embedded PostgreSQL, Airflow's components under the supervisor),
backfills three days while the scheduler is SIGKILLed once on purpose, repeats and rebuilds.
Prints, per run, pass or fail, its wall time and every component exit the supervisor logged
other than the deliberate kill; at the end the totals. Target (issue 14): 20 runs, 0 failures,
0 unplanned component exits.

Run: python bench/soak.py [--runs 20]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

_EXIT = re.compile(r"^\S+ (\S+): (exited with status -?\d+|killed by \S+)", re.MULTILINE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    failures = unplanned = 0
    for run in range(1, args.runs + 1):
        base = Path(tempfile.mkdtemp(prefix="news-ingest-soak-"))
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-x",
             f"--basetemp={base}", "tests/dags/test_backfill_e2e.py"],
            cwd=ROOT, capture_output=True, text=True)
        exits = []
        for log in base.rglob("stack.log"):
            exits += [f"{m.group(1)} {m.group(2)}" for m in _EXIT.finditer(log.read_text())]
        planned = "scheduler killed by SIGKILL"
        extra = list(exits)
        if planned in extra:
            extra.remove(planned)  # the test's own kill
        failures += result.returncode != 0
        unplanned += len(extra)
        status = "pass" if result.returncode == 0 else "FAIL"
        print(f"run {run:2d}: {status} in {time.monotonic() - started:5.0f} s; component exits "
              f"besides the planned kill: {extra or 'none'}", flush=True)
        if result.returncode != 0:
            print(result.stdout[-3000:], flush=True)
        shutil.rmtree(base, ignore_errors=True)
    print(f"{args.runs} runs: {failures} failed, {unplanned} unplanned component exits "
          "(target 0 and 0)")
    return 1 if failures or unplanned else 0


if __name__ == "__main__":
    sys.exit(main())
