# Footfall: `make demo` sets up and runs the product; `make test` sets up and passes the tests
# (`make test-all` the slow ones too).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FOOTFALL := $(VENV)/bin/footfall
PYTEST_ARGS ?=

.PHONY: help setup check up down status bootstrap demo reset screenshots dashboard simulate bench bench-scaleout backtest alerts-eval accuracy test test-all slow unit flink integration clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## install Debian packages (as root), the virtual environment and the Flink connector jars
	@bash ops/setup.sh

up: setup ## start the local services that are not running, wait until they answer, create the schema
	@$(FOOTFALL) up

down: ## stop the services the project started (by pid)
	@if [ -x $(FOOTFALL) ]; then $(FOOTFALL) down; else echo "nothing set up yet"; fi

status: ## each component with its state, address and version
	@$(FOOTFALL) status

bootstrap: ## create missing tables and topics (idempotent)
	@$(FOOTFALL) bootstrap

DEMO_ARGS ?=
demo: setup ## set up and run everything with its embedded defaults: 3 malls, 14 days of history, then live
	@$(FOOTFALL) demo $(DEMO_ARGS)

reset: ## remove everything the product stored (every store, topic, checkpoint, the demo); asks first
	@$(FOOTFALL) reset $(if $(YES),--yes,)

screenshots: ## the README's screenshots (docs/images/) from the running product (`make demo` first)
	@$(PY) -m dashboards.screenshots --out docs/images

dashboard: up ## the Streamlit dashboards on FOOTFALL_DASHBOARD_PORT (8501) in the foreground (Ctrl-C stops)
	@$(FOOTFALL) dashboard

SIMULATE_ARGS ?= --start today --speedup 60 --rate 2000
simulate: up ## load the demo mall into PostgreSQL and stream simulated traffic (Ctrl-C stops)
	@$(FOOTFALL) simulate layout load
	@$(FOOTFALL) simulate run $(SIMULATE_ARGS)

BENCH_ARGS ?=
bench: setup ## throughput, latency and scaling against a ceiling and a baseline (bench/results/; about 13 min)
	@$(FOOTFALL) up --no-job
	@$(PY) -m bench $(BENCH_ARGS)

bench-scaleout: setup ## the job on a standalone cluster, 1 task manager x parallelism 1 against 2 x 2 (bench/results/scaleout.md; about 6 min)
	@$(FOOTFALL) up --no-job
	@$(PY) -m bench.scaleout $(BENCH_ARGS)

ACCURACY_ARGS ?=
backtest: setup ## the expected footfall's error on the history the product holds, e.g. after `make demo` (bench/results/expected.md)
	@$(PY) -m bench.expected $(BACKTEST_ARGS)

alerts-eval: setup ## the alert rules against a simulated week of incidents in two malls, with three ordinary weeks before (bench/results/alerts.md; about 15 min)
	@$(PY) -m bench.alerts_eval $(ALERTS_EVAL_ARGS)

accuracy: setup ## visitors, estimated people, positions, dwell, journeys and sales against the simulator's truth, for five radio settings and two denser layouts (bench/results/accuracy.md; about 35 min)
	@$(FOOTFALL) up --no-job
	@$(PY) -m bench.accuracy $(ACCURACY_ARGS)

check: setup ## lint (ruff) and static types (mypy, strict on the packages): both must be clean
	@$(VENV)/bin/ruff check footfall jobs udfs dashboards simulators ops bench tests
	@$(VENV)/bin/mypy

test: setup check ## set up, `make check`, then the suite but its slow tests: every output end to end on the real stack (about 17 min from a fresh clone)
	@$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: test slow ## `make test`, then the slow tests (about 25 min in all)

slow: setup ## only the slow tests: every fault, the lifecycle and cluster tests, two task managers, the full Hypothesis batches
	@$(PY) -m pytest -m slow $(PYTEST_ARGS)

unit: setup ## only the tests that need nothing but Python: no JVM, no services (about a minute)
	@$(PY) -m pytest -m "not flink and not integration" $(PYTEST_ARGS)

flink: setup ## only the SQL and Java-function tests on bounded rows (a JVM, no services)
	@$(PY) -m pytest -m "flink and not integration" $(PYTEST_ARGS)

integration: setup ## only the tests against the real local stack, slow ones included
	@$(PY) -m pytest -m integration $(PYTEST_ARGS)

clean: ## stop everything and delete the local stack's data (var/, and PostgreSQL's data wherever it went)
	@if [ -x $(FOOTFALL) ]; then $(FOOTFALL) clean; else rm -rf var; fi
