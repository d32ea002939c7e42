"""The "News" view in the Airflow UI: feed health, coverage, completeness and runs.

An Airflow 3 plugin: a FastAPI app mounted by the API server at ``/news`` (JSON under
``/news/api/...`` and the page itself, ``/news/``) and an external view that puts the page in
the navigation (shown inside the Airflow UI at ``/plugin/news``). The answers come from
``ingest.overview`` (reports, manifests and the articles table through ``ingest.query``); the
page is plain HTML and JavaScript in ``news_view_static/`` that renders every value as text
(never as HTML) and draws its charts as SVG.

Every route, the page and its script included, requires an authenticated Airflow user who may
read DAG runs (the auth manager decides, as for the UI's own pages). Blocking work (S3, DuckDB)
runs in a worker thread, never on the API server's event loop.

The FastAPI app is built on first use: Airflow loads plugin files in every component (workers
too), and only the API server asks for ``fastapi_apps``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from pathlib import Path
from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)

URL_PREFIX = "/news"
STATIC = Path(__file__).with_name("news_view_static")
PAGES = {"": ("index.html", "text/html; charset=utf-8"),
         "app.js": ("app.js", "text/javascript; charset=utf-8"),
         "app.css": ("app.css", "text/css; charset=utf-8")}


@functools.cache
def overview() -> Any:
    """The process's ``Overview`` (settings from the environment and the ``news_s3``
    connection, as the tasks get them; a connection that cannot be read fails the request
    with its reason rather than silently reading another store)."""
    from ingest.overview import Overview
    from ingest.pipeline import load
    from ingest.storage import Stores

    settings, catalog = load(_settings())
    return Overview(settings, Stores.from_settings(settings), catalog)


def _settings() -> Any:
    from news_ingest_airflow import server_s3_overrides

    from ingest.config import Settings

    return Settings.from_env(**server_s3_overrides())


@functools.cache
def app() -> Any:
    """The FastAPI app (built once, on the API server)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.responses import Response

    from ingest.overview import RangeError

    api = FastAPI(title="news-ingest view", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN))])

    async def call(method: str, *args: Any) -> Any:
        """``overview().<method>(*args)`` in a worker thread (S3 and DuckDB block)."""
        try:
            return await asyncio.to_thread(lambda: getattr(overview(), method)(*args))
        except RangeError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        except Exception as exc:
            log.exception("news view: %s failed", method)
            raise HTTPException(status_code=503,
                                detail=f"{type(exc).__name__}: {exc}") from None

    def page(name: str) -> Response:
        file, media = PAGES[name]
        return Response((STATIC / file).read_bytes(), media_type=media,
                        headers={"Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'self'; "
                                 "img-src 'self' data:; frame-ancestors 'self'"})

    @api.get("/", include_in_schema=False)
    async def index() -> Response:
        return page("")

    @api.get("/app.js", include_in_schema=False)
    async def script() -> Response:
        return page("app.js")

    @api.get("/app.css", include_in_schema=False)
    async def style() -> Response:
        return page("app.css")

    @api.get("/api/feeds")
    async def feeds() -> Any:
        return await call("feeds")

    @api.get("/api/feeds/{feed_id}/report")
    async def feed_report(feed_id: str) -> Any:
        found = await call("feed_report", feed_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no feed {feed_id!r} in the catalog")
        return found

    @api.get("/api/coverage")
    async def coverage(start: str | None = Query(None), end: str | None = Query(None)) -> Any:
        first, last = await call("coverage_range", start, end)
        return await call("coverage", first, last)

    @api.get("/api/completeness")
    async def completeness(start: str | None = Query(None),
                           end: str | None = Query(None)) -> Any:
        first, last = await call("completeness_range", start, end)
        return await call("completeness", first, last)

    @api.get("/api/runs")
    async def runs() -> Any:
        return await call("runs")

    # fill the caches before the first page view asks (a mounted app gets no startup event)
    threading.Thread(target=_warm, name="news-view-warm", daemon=True).start()
    return api


def _warm() -> None:
    try:
        overview().warm()
    except Exception as exc:  # noqa: BLE001 - a cold cache only slows the first view
        log.warning("news view: warming the caches failed: %s", exc)


class NewsViewPlugin(AirflowPlugin):
    """Registers the view's FastAPI app and its place in the navigation."""

    name = "news_ingest_view"
    external_views: ClassVar[list[dict[str, str]]] = [{
        "name": "News",
        "href": "news/",  # relative to the UI's base URL: the app below
        "destination": "nav",
        "url_route": "news",
    }]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return [{"app": app(), "url_prefix": URL_PREFIX, "name": "News"}]
