"""The assets that connect the news DAGs, and the pools their tasks share (imported by every
DAG file; cheap to import).

Pools split the deployment's task slots by what a task waits on, so one kind cannot starve
the other: ``news_extract`` holds the CPU-bound extraction tasks (one slot per core that
extraction may use, across all workers), ``news_poll`` the polls, which mostly wait on the
network and on per-host politeness. Everything else (plan, commit, maintenance)
runs in ``default_pool``. ``scripts/stack.py`` and docker-compose's init create the pools
(``news_ingest_airflow.ensure_pools``); a DAG that names a pool the database lacks shows a
"non-existent pool" warning in the UI and its tasks are not scheduled.
"""

from airflow.sdk import Asset, AssetAlias

RAW = Asset("news-raw", uri="s3://news-raw/captures/", group="news")
# what a poll emits its news-raw event through: an alias lets a task emit an event or none
# (a group that captured nothing), where an asset outlet emits one on every success
RAW_CAPTURES = AssetAlias("news-raw-captures", group="news")
PROCESSED = Asset("news-processed", uri="s3://news-processed/articles/", group="news")

EXTRACT_POOL = "news_extract"
POLL_POOL = "news_poll"
