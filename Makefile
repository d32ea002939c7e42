# news-ingest: the README's commands. Everything installs into ./.venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AIRFLOW_PIN := apache-airflow==3.3.2
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export NEWS_INGEST_S3_ENDPOINT_URL ?= http://127.0.0.1:8333
export NEWS_INGEST_S3_ACCESS_KEY ?= newsingest
export NEWS_INGEST_S3_SECRET_KEY ?= newsingest-secret
export NEWS_INGEST_CATALOG_PATH ?= $(CURDIR)/feeds.yaml
AIRFLOW_PORT ?= 8080

.PHONY: install browser run demo sample-data test lint bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt -c constraints.txt $(AIRFLOW_PIN)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

## make run: SeaweedFS on 127.0.0.1:8333 + PostgreSQL (data in ./data) + Airflow's components, supervised, DAGs unpaused
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" AIRFLOW_PORT=$(AIRFLOW_PORT) $(BIN)/python scripts/stack.py run

## make demo: offline sample through Airflow (one poll run, one event-driven process run)
demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/stack.py demo

## make sample-data: the offline sample polled and processed into ./data (for make run's queries)
sample-data: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/stack.py sample-data

## the News view's browser test needs Debian's chromium and chromium-driver: installed when missing
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null \
	    || { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null; } \
	    || { echo "cannot install chromium and chromium-driver (Debian packages) for the browser test" >&2; exit 1; }; \
	fi

## make test: lint, types, unit, integration, DAG and end-to-end tests
test: install browser
	$(BIN)/ruff check ingest dags plugins tests bench scripts
	$(BIN)/mypy
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/process.py
	$(BIN)/python bench/boilerplate.py
	$(BIN)/python bench/poll.py
	$(BIN)/python bench/dedupe.py
	$(BIN)/python bench/regions.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/backfill.py
	$(BIN)/python bench/ccnews.py
	$(BIN)/python bench/backlog.py
	$(BIN)/python bench/table.py
	$(BIN)/python bench/commit.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/view.py

clean:
	rm -rf $(VENV) .airflow data
