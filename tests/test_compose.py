"""docker-compose.yml: valid against the Compose Specification and shaped as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"


def test_compose_file_validates_against_the_compose_spec() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    out = subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_compose_has_the_airflow3_services_and_pinned_images() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert {"postgres", "seaweedfs", "airflow-init", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer"} <= set(services)
    for name, svc in services.items():
        image = svc.get("image", "")
        assert image and ":" in image and not image.endswith(":latest"), name
    assert services["airflow-scheduler"]["command"] == "scheduler"
    # scale-out: CeleryExecutor on Redis, `docker compose up --scale airflow-worker=N`
    common = doc["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:") or \
        common["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:@redis:")
    assert services["airflow-worker"]["command"] == "celery worker"
    assert "container_name" not in services["airflow-worker"]  # scalable
    assert "redis" in services["airflow-worker"]["depends_on"]
    assert services["flower"]["profiles"] == ["flower"]
    init = " ".join(services["airflow-init"]["command"])
    assert "connections add news_s3" in init and "ensure_buckets" in init
    assert "db migrate" in init
    # the News view: the API server loads the plugins folder (and reads news_s3 itself)
    api = services["airflow-apiserver"]
    volumes = api.get("volumes") or doc["x-airflow-common"]["volumes"]
    assert "./plugins:/opt/airflow/plugins" in volumes
    assert api["command"] == "api-server"


def test_dockerfile_installs_ingest_with_pinned_airflow() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2" in text
    assert "-c /opt/news-ingest/constraints.txt apache-airflow==3.3.2" in text
