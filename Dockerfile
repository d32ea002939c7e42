# news-ingest on the official Airflow image: installs the ingest package and its pinned
# dependencies with the project's frozen constraints (Airflow pinned in the same command).
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root requirements.txt constraints.txt pyproject.toml README.md /opt/news-ingest/
COPY --chown=airflow:root ingest /opt/news-ingest/ingest
RUN pip install --no-cache-dir -r /opt/news-ingest/requirements.txt \
        -c /opt/news-ingest/constraints.txt apache-airflow==3.3.2 \
 && pip install --no-cache-dir --no-deps /opt/news-ingest
COPY --chown=airflow:root feeds.yaml /opt/airflow/feeds.yaml
