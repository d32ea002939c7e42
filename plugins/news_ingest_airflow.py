"""Airflow-side glue for news-ingest: build ``ingest`` settings from Airflow connections.

The S3 endpoint and credentials come from the Airflow connection ``news_s3`` when it exists
(type ``aws``: login = access key id, password = secret key, extra ``{"endpoint_url": ...,
"region_name": ...}``); otherwise from ``NEWS_INGEST_*`` environment variables. Imported inside
task bodies, and at parse time only for ``cron_schedule`` (it reads one variable).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ingest.config import ENV_PREFIX, Settings
from ingest.errors import ConfigError

log = logging.getLogger(__name__)

CONN_ID = "news_s3"


def s3_overrides(conn_id: str = CONN_ID) -> dict[str, Any]:
    """Settings fields taken from the Airflow connection, or {} when it is not defined (in a
    task: through the task SDK)."""
    from airflow.sdk import BaseHook

    return _overrides(lambda: BaseHook.get_connection(conn_id), conn_id)


def server_s3_overrides(conn_id: str = CONN_ID) -> dict[str, Any]:
    """``s3_overrides`` for Airflow's server components (the API server serving the News
    view), which are not tasks: the connection is read from the secrets backends and the
    metadata DB directly."""
    from airflow.models.connection import Connection

    return _overrides(lambda: Connection.get_connection_from_secrets(conn_id), conn_id)


def _overrides(lookup: Any, conn_id: str) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowNotFoundException  # core raises the same class

    try:
        return connection_fields(lookup())
    except AirflowNotFoundException:
        log.info("no Airflow connection %r; S3 settings come from the environment", conn_id)
        return {}


def connection_fields(conn: Any) -> dict[str, Any]:
    """Settings fields from an ``aws`` connection (login, password, extra endpoint/region)."""
    extra = conn.extra_dejson or {}
    endpoint = extra.get("endpoint_url") or (conn.host or None)
    return {
        "s3_endpoint_url": endpoint,
        "s3_access_key": conn.login or None,
        "s3_secret_key": conn.password or None,
        "s3_region": extra.get("region_name") or None,
    }


def capture_keys(conf: dict[str, Any] | None, triggering_asset_events: Any) -> list[str]:
    """Every capture key named by the run's conf (``captures``) and by all triggering asset
    events (several events can arrive in one run), sorted and without repeats."""
    keys: set[str] = set((conf or {}).get("captures") or [])
    for events in (triggering_asset_events or {}).values():
        for event in events:
            keys.update((event.extra or {}).get("captures", []))
    return sorted(keys)


def cron_schedule(name: str, default: str) -> Any:
    """A ``CronDataIntervalTimetable`` (UTC) from ``NEWS_INGEST_<name>``, or ``default``; an
    invalid expression raises ``ConfigError`` naming the variable (shown as the DAG's import
    error) instead of Airflow's timetable error that names none."""
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.sdk.exceptions import AirflowTimetableInvalid

    variable = f"{ENV_PREFIX}{name}"
    value = os.environ.get(variable) or default
    timetable = CronDataIntervalTimetable(value, timezone="UTC")
    try:
        timetable.validate()
    except AirflowTimetableInvalid as exc:
        raise ConfigError(f"{variable}={value!r} is not a valid cron expression ({exc}); use "
                          "five fields such as '0 * * * *' (hourly) or a preset such as "
                          "@daily") from None
    return timetable


def settings() -> Settings:
    """Pipeline settings for a task: environment plus the ``news_s3`` connection."""
    return Settings.from_env(**s3_overrides())


def worker_hostname() -> str:
    """The hostname a task instance records: ``NEWS_INGEST_WORKER_NAME`` when set (several
    Celery workers on one machine, told apart in the UI and in tests), else the FQDN, as
    Airflow's default does."""
    import socket

    return os.environ.get(ENV_PREFIX + "WORKER_NAME") or socket.getfqdn()


def pool_sizes(settings: Settings | None = None) -> dict[str, int]:
    """The news pools and their sizes: ``news_extract`` one slot per extraction slot of the
    deployment (``NEWS_INGEST_EXTRACT_SLOTS``, default this machine's cores), ``news_poll``
    its poll slots (``NEWS_INGEST_POLL_SLOTS``, default 4)."""
    from news_assets import EXTRACT_POOL, POLL_POOL

    settings = settings or Settings.from_env()
    return {EXTRACT_POOL: settings.extraction_slots, POLL_POOL: settings.polling_slots}


def ensure_pools(settings: Settings | None = None) -> dict[str, int]:
    """Create the pools the DAGs use (an administrative step with metadata-database access,
    run after ``airflow db migrate``). The extraction pool is set to
    ``NEWS_INGEST_EXTRACT_SLOTS`` when that is given; otherwise a pool that already exists
    keeps the size an operator gave it. Returns the pools' sizes."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from news_assets import EXTRACT_POOL

    settings = settings or Settings.from_env()
    sizes = {}
    descriptions = {
        EXTRACT_POOL: "news_process extraction tasks: one slot per core extraction may use, "
                      "across all workers (NEWS_INGEST_EXTRACT_SLOTS)",
    }
    with create_session() as session:
        for name, slots in pool_sizes(settings).items():
            existing = Pool.get_pool(name, session=session)
            explicit = (settings.extract_slots if name == EXTRACT_POOL
                        else settings.poll_slots) > 0
            if existing is not None and not explicit:
                sizes[name] = existing.slots
                continue
            Pool.create_or_update_pool(
                name, slots, descriptions.get(name, "news_poll polls (mostly waiting on the "
                                                    "network)"),
                include_deferred=False, session=session)
            sizes[name] = slots
    return sizes
