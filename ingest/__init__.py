"""news-ingest: a framework-free news ingestion library (feeds, fetch, extract, dedupe, regions).

The Airflow DAGs in ``dags/`` call into this package; it never imports Airflow itself.
"""

__version__ = "0.1.0"
