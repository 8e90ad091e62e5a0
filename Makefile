# customer-analytics: every command a user needs. `make help` lists them.
# The two Quickstart commands are `make build` and `make test`; both set everything up first
# and are safe to run again.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export CUSTOMER_ANALYTICS_DB ?= $(CURDIR)/warehouse/customer_analytics.duckdb
export CUSTOMER_ANALYTICS_AUDIENCES_DIR ?= $(CURDIR)/warehouse/audiences
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
# dbt builds with target dev; only `make metrics` uses the read-only target serving.
export DBT_TARGET := dev
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: help setup build erase test lint format seeds docs dev dashboard browser evidence spark validate bench metrics clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
		{ echo "customer-analytics needs Python 3.11: '$(PYTHON)' is $$($(PYTHON) --version 2>&1). Run: make $(MAKECMDGOALS) PYTHON=/path/to/python3.11"; exit 1; }
	@echo "==> creating $(VENV) and installing pinned dependencies (requirements/constraints.txt)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile \
		-c requirements/constraints.txt -e '.[dev]'
	@# bytecode once, on every core (pip compiles one file at a time)
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null
	@touch $(STAMP)

setup: $(STAMP) ## create .venv with the pinned dependencies

export CUSTOMER_ANALYTICS_SERVING_DB ?= $(CURDIR)/warehouse/serving/customer_analytics.duckdb
export CUSTOMER_ANALYTICS_EXPORTS_DIR ?= $(CURDIR)/warehouse/exports
export CUSTOMER_ANALYTICS_QUALITY_DIR ?= $(CURDIR)/warehouse/quality
# Spark's driver binds to the loopback interface (docs/spark.md)
export SPARK_LOCAL_IP ?= 127.0.0.1

build: setup ## build and test everything on the shipped seeds (dbt build, CLV fit, GX suites), then publish the marts
	@mkdir -p $(dir $(CUSTOMER_ANALYTICS_DB))
	@# the build file (every layer, personal data) is its owner's only: umask 077 for the steps
	@# that write it (and its .wal), 0600 for one left by an earlier build; publishing is not
	@# affected (docs/bi-tools.md, "File permissions")
	@[ ! -e $(CUSTOMER_ANALYTICS_DB) ] || chmod 600 $(CUSTOMER_ANALYTICS_DB)
	@# the engine (CUSTOMER_ANALYTICS_ENGINE, docs/spark.md) names the dbt target; on Spark, what
	@# dbt built is then copied into the build file, which the steps after it read
	@# (checked in Python first; on spark the Spark target is installed first, as make spark does)
	target=$$($(BIN)/customer-analytics engine) || exit 2; \
	[ "$$target" != spark ] || $(MAKE) --no-print-directory spark || exit 1; \
	(umask 077 && $(BIN)/dbt build --target "$$target")
	umask 077 && $(BIN)/customer-analytics import-spark
	@# the CLV fit: exit 1 (too small a shop, no convergence) publishes the other marts, flagged
	umask 077 && { $(BIN)/customer-analytics clv || [ $$? -eq 1 ]; }
	$(BIN)/customer-analytics validate
	$(BIN)/customer-analytics publish
	@echo ""
	@echo "==> Built $(CUSTOMER_ANALYTICS_DB) (every layer) and published the tested marts to"
	@echo "    $(CUSTOMER_ANALYTICS_SERVING_DB) and $(CUSTOMER_ANALYTICS_EXPORTS_DIR)/current/*.parquet"
	@echo "    Offline report: $(CUSTOMER_ANALYTICS_EXPORTS_DIR)/current/report.html · dashboard: make dashboard"
	@echo "    Data quality: $(CUSTOMER_ANALYTICS_QUALITY_DIR)/index.html (every suite's rules passed, failed, skipped)"
	@echo "    Audiences (email, first name; consent-aware): $(CUSTOMER_ANALYTICS_AUDIENCES_DIR)/current/"
	@echo "    Query the served marts, for example:"
	@echo "    $(BIN)/python -c \"import duckdb; print(duckdb.connect('$(CUSTOMER_ANALYTICS_SERVING_DB)', read_only=True).sql('select * from marts.rpt_kpis_monthly order by month desc limit 12'))\""

erase: setup ## right to erasure: make erase CUSTOMER_IDS="id1 id2" files the requests, then builds and publishes without them
	@test -n "$$CUSTOMER_IDS" || { echo 'Give the CRM customer ids: make erase CUSTOMER_IDS="id1 id2" (docs/privacy.md)'; exit 2; }
	@# the ids reach the command as words of an environment variable, never as shell code
	set -f; $(BIN)/customer-analytics erase $$CUSTOMER_IDS
	$(MAKE) build

lint: setup ## secret scan, ruff (check + format) and sqlfluff
	$(BIN)/python -m tooling.secret_scan
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p $(CURDIR)/warehouse
	CUSTOMER_ANALYTICS_DB=$(CURDIR)/warehouse/lint.duckdb $(BIN)/sqlfluff lint models data-tests --processes 2

format: setup ## apply ruff format and sqlfluff fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	@mkdir -p $(CURDIR)/warehouse
	CUSTOMER_ANALYTICS_DB=$(CURDIR)/warehouse/lint.duckdb $(BIN)/sqlfluff fix models data-tests --processes 2

# The browser test drives Debian's Chromium; a fresh machine gets it from apt (as root, or with sudo).
CHROMIUM := /usr/bin/chromium

browser: $(CHROMIUM) ## install Debian's chromium for the browser test (apt-get), if missing

$(CHROMIUM):
	@echo "==> installing Debian's chromium for the dashboard browser test (apt-get)"
	@if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo > /dev/null; then sudo="sudo"; \
	else echo "make: chromium is missing and installing it needs root: run 'apt-get install chromium' as root, then make test again."; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -q chromium > /dev/null 2>&1 || \
	{ $$sudo apt-get update -q > /dev/null && $$sudo apt-get install -y -q chromium > /dev/null; } || \
	{ echo "make: could not install chromium with apt-get; install Debian's chromium package, then make test again."; exit 1; }
	@test -x $(CHROMIUM) && $(CHROMIUM) --version 2> /dev/null

# The BI recipe test runs Evidence's own DuckDB connector: npm packages pinned in tests/evidence.
EVIDENCE := tests/evidence/node_modules/.package-lock.json

evidence: $(EVIDENCE) ## install Evidence's DuckDB connector for the BI recipe test (npm ci), if missing

$(EVIDENCE): tests/evidence/package.json tests/evidence/package-lock.json
	@command -v npm > /dev/null || { echo "make: npm is missing: install Node.js with npm (Debian: apt-get install npm), then make test again."; exit 1; }
	@echo "==> installing Evidence's DuckDB connector into tests/evidence (npm ci)"
	@npm ci --prefix tests/evidence --no-audit --no-fund --loglevel=error
	@touch $@

# The Spark target (docs/spark.md): dbt-spark and pyspark (the `spark` extra, pinned in
# requirements/constraints.txt; pyspark builds from source once, about 90 s) and Java 17.
SPARK_STAMP := $(VENV)/.spark-installed
JAVA ?= java

spark: $(SPARK_STAMP) ## install the Spark target: dbt-spark, pyspark and Debian's Java 17 (apt-get), if missing

$(SPARK_STAMP): $(STAMP)
	@command -v $(JAVA) > /dev/null || { \
	echo "==> installing Debian's Java 17 for the Spark target (apt-get)"; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo > /dev/null; then sudo="sudo"; \
	else echo "make: Java is missing and installing it needs root: run 'apt-get install openjdk-17-jre-headless' as root, then make $(MAKECMDGOALS) again."; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -q openjdk-17-jre-headless > /dev/null 2>&1 || \
	{ $$sudo apt-get update -q > /dev/null && $$sudo apt-get install -y -q openjdk-17-jre-headless > /dev/null; } || \
	{ echo "make: could not install Java with apt-get; install Debian's openjdk-17-jre-headless, then make $(MAKECMDGOALS) again."; exit 1; }; }
	@echo "==> installing the Spark target (dbt-spark, pyspark; requirements/constraints.txt)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile \
		-c requirements/constraints.txt -e '.[dev,spark]'
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null
	@touch $@

test: setup lint browser evidence spark ## lint (with a secret scan), then pytest (its first dbt build runs every dbt test on the seeds)
	$(BIN)/pytest

seeds: setup ## regenerate the shipped sample exports in data/raw (the documented command)
	$(BIN)/customer-analytics generate --customers 2000 --seed 42 --start 2023-01-01 --end 2025-12-31 --format csv --out data/raw

DAGSTER_HOME ?= $(CURDIR)/.dagster_home
DAGSTER_PORT ?= 3000
# Only this machine can reach the UI (OSS Dagster has no login); another address only when set.
DAGSTER_HOST ?= 127.0.0.1

dev: setup ## Dagster UI and daemon (dg dev) on http://127.0.0.1:3000: schedule, sensors, runs
	@mkdir -p $(DAGSTER_HOME) && cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster instance migrate > /dev/null
	@echo "==> Dagster UI on http://$(DAGSTER_HOST):$(DAGSTER_PORT) (code location customer_analytics); Ctrl-C stops it"
	@DAGSTER_HOME=$(DAGSTER_HOME) exec $(BIN)/customer-analytics dev --host $(DAGSTER_HOST) --port $(DAGSTER_PORT)

validate: setup ## run the Great Expectations suites on the build file; report in warehouse/quality/
	$(BIN)/customer-analytics validate

SCALE ?= S

bench: setup ## benchmark at SCALE=S|M|L|XL: dbt vs engine and I/O floors, pandas, Polars, GX; benchmarks/results/
	$(BIN)/customer-analytics bench --scale $(SCALE)

DASHBOARD_PORT ?= 8501
# Only this machine can reach the dashboard (it has no login); another address only when set.
DASHBOARD_HOST ?= 127.0.0.1

dashboard: setup ## the Streamlit dashboard on http://127.0.0.1:8501 (reads the serving file)
	@test -f $(CUSTOMER_ANALYTICS_SERVING_DB) || { echo "make: no served marts at $(CUSTOMER_ANALYTICS_SERVING_DB): run make build first."; exit 1; }
	$(BIN)/streamlit run dashboard/app.py --server.address $(DASHBOARD_HOST) --server.port $(DASHBOARD_PORT)

# MetricFlow on the served file, read-only (dbt target serving): BI tools may read it meanwhile.
MF_ARGS ?= query --metrics revenue,orders,average_order_value,active_customers,churn_rate,nps --group-by metric_time__quarter --order metric_time__quarter

metrics: setup ## MetricFlow on the served file (read-only); other queries: make metrics MF_ARGS="query --metrics nps --group-by customer__rfm_segment"
	@test -f $(CUSTOMER_ANALYTICS_SERVING_DB) || { echo "make: no served marts at $(CUSTOMER_ANALYTICS_SERVING_DB): run make build first."; exit 1; }
	DBT_TARGET=serving $(BIN)/dbt parse --quiet
	DBT_TARGET=serving $(BIN)/mf $(MF_ARGS)

docs: setup ## dbt docs as one offline HTML file: target/static_index.html
	$(BIN)/dbt docs generate --static

clean: ## remove build output (keeps .venv and Dagster's run history)
	rm -rf target logs warehouse .pytest_cache
