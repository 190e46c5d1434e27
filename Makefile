# portal — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# The lock: exact versions of everything installed (make lock rewrites it).
LOCK := constraints.txt
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK)
DATA_DIR ?= $(or $(PORTAL_DATA_DIR),.data)
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test lint format bench faults audit lock clean delete-data

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install portal with its dev tools (quick when nothing changed)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[dev]'
	@touch $(STAMP)

# The dev site listens on 127.0.0.1 (the `host` setting); `make run HOST=0.0.0.0`
# opens it to other machines. Only a HOST given on the command line counts:
# some shells export HOST as the machine's name.
run: install ## start the dev site on http://127.0.0.1:$(PORT)/ (embedded PostgreSQL, reload, toolbar)
	$(BIN)/python -m portal migrate
	@test -f $(DATA_DIR)/.seeded || { $(BIN)/python -m portal seed && touch $(DATA_DIR)/.seeded; }
	$(if $(filter command line,$(origin HOST)),PORTAL_HOST=$(HOST) )$(BIN)/adev runserver portal --port $(PORT)

# One worker more than the cores: many tests wait on servers, browsers and
# PostgreSQL (on 2 cores, 3 workers take 7m50s where 2 take 9m30s).
TEST_WORKERS ?= $(shell n=$$(nproc); echo $$(( n + 1 < 6 ? n + 1 : 6 )))

# The slowest tests are listed at the end: the suite is kept under ten minutes.
test: install lint ## lint, type-check, check no migration is missing, run every test
	$(BIN)/python -m portal makemigrations --check
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=15

lint: install ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BENCH_STAMP) ## load benchmark vs reference servers into docs/benchmarks.md (~11 min)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench

$(BENCH_STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

audit: ## check the locked versions against published advisories (PyPI, OSV); says so if unreachable
	$(or $(wildcard $(BIN)/python),$(PYTHON)) -m tools.audit $(LOCK)

lock: ## resolve pyproject.toml's newest allowed versions into constraints.txt (then make audit)
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	build/lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	{ sed -n '/^#/p' $(LOCK); build/lock-venv/bin/python -m pip freeze --all --exclude-editable; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf build/lock-venv

faults: install ## the site under load while PostgreSQL restarts and stops and a worker dies (~2 min)
	$(BIN)/python -m faults

# Build outputs only: never the data folder. The embedded PostgreSQL's
# binaries live in .venv, so it is stopped (not deleted) first.
clean: ## remove build outputs (.venv, caches); never the database
	-test -x $(BIN)/python && $(BIN)/python -m portal db stop
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis .schemathesis test-output
	find portal tests bench faults -name __pycache__ -type d -prune -exec rm -rf {} +

delete-data: install ## DELETE the data folder: the embedded database, its users and tokens (CONFIRM=1)
	PORTAL_DATA_DIR=$(DATA_DIR) $(BIN)/python -m portal db delete $(if $(filter 1,$(CONFIRM)),--confirm)
