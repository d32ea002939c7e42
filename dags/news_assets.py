"""The assets that connect the news DAGs (imported by every DAG file; cheap to import)."""

from airflow.sdk import Asset

RAW = Asset("news-raw", uri="s3://news-raw/captures/", group="news")
PROCESSED = Asset("news-processed", uri="s3://news-processed/articles/", group="news")
