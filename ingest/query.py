"""DuckDB over the processed bucket: a connection with S3 credentials and an ``articles`` view
of the Delta table (``delta_scan``).

DuckDB reads S3 through its httpfs extension and Delta tables through its delta extension.
Where DuckDB cannot download extensions (offline machines), the ``duckdb-ext-httpfs`` and
``duckdb-ext-delta`` packages from PyPI supply them; this module points DuckDB at them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from ingest.config import Settings


def _bundled_extension_dir() -> str | None:
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    return str(path) if path.is_dir() else None


def connect(settings: Settings) -> Any:
    """A DuckDB connection whose ``articles`` view reads the current version of the table."""
    import duckdb

    con = duckdb.connect()
    ext_dir = _bundled_extension_dir()
    if ext_dir:
        con.execute(f"SET extension_directory = '{ext_dir}'")
    con.execute("LOAD httpfs")
    con.execute("LOAD delta")
    params = {"REGION": settings.s3_region}
    if settings.s3_access_key:
        params["KEY_ID"] = settings.s3_access_key
        params["SECRET"] = settings.s3_secret_key or ""
    if settings.s3_endpoint_url:
        endpoint = settings.s3_endpoint_url
        params["ENDPOINT"] = endpoint.split("://", 1)[-1].rstrip("/")
        params["URL_STYLE"] = "path"
        params["USE_SSL"] = "true" if endpoint.startswith("https") else "false"
    body = ", ".join(f"{k} {v}" if k == "USE_SSL" else f"{k} '{_quote(v)}'"
                     for k, v in params.items())
    con.execute(f"CREATE OR REPLACE SECRET news_s3 (TYPE s3, {body})")
    con.execute("CREATE OR REPLACE VIEW articles AS SELECT * FROM delta_scan("
                f"'s3://{_quote(settings.processed_bucket)}/articles')")
    return con


def _quote(value: str) -> str:
    return value.replace("'", "''")
