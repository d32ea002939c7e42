"""ingest/ stays framework-free: no module imports airflow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

INGEST = Path(__file__).resolve().parents[2] / "ingest"


def test_no_module_imports_airflow() -> None:
    offenders = []
    for path in INGEST.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "airflow"]
    assert offenders == []


def test_importing_the_pipeline_loads_no_airflow() -> None:
    code = ("import sys, ingest.pipeline, ingest.cli; "
            "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
