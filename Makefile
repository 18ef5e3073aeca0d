# Two commands for a newcomer: `make demo` and `make test`. Each builds .venv from nothing when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint typecheck validate test test-fast demo scaleout lock bench reliability clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP) .env

# The JDE server's zone for Dagster's CLI run from this folder (`dagster dev`, `dagster definitions
# validate` read .env here, and it wins over the shell). Written once, never overwritten: edit it.
.env:
	printf '%s\n' "# Read by dagster dev / dagster definitions validate run from this folder (it wins over the shell)." \
	  "# America/Chicago is the AIS sandbox's zone: set your JDE server's IANA zone here, or delete this file." \
	  "JDE_TIMEZONE=America/Chicago" > .env

lint: $(STAMP)
	$(BIN)/ruff check jde_stripe_pipeline jde_stripe_pipeline_tests
	$(BIN)/ruff format --check jde_stripe_pipeline jde_stripe_pipeline_tests
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

## what a newcomer types first: from the repository root, no DAGSTER_HOME (root dagster.yaml + .env)
validate: $(STAMP) .env
	env -u DAGSTER_HOME $(BIN)/dagster definitions validate

## lint, type check, Dagster definitions check, then every test, on PYTEST_WORKERS processes (pytest-xdist;
## the tests are independent: own ports, temp dirs and databases). PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= 2
test: lint typecheck validate .env
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15 -m "not reliability" $(PYTEST_ARGS)

## the tests alone, for a quick loop
test-fast: $(STAMP)
	$(BIN)/pytest -x -q $(PYTEST_ARGS)

## the whole pipeline on the embedded sandboxes and SQLite; leaves nothing running
demo: $(STAMP) .env
	$(BIN)/jde-stripe demo

## issue 13's scale-out on the sandboxes: a throwaway PostgreSQL database (127.0.0.1:5432, trust auth),
## deploy/dagster.postgres.yaml, dagster-daemon, a backfill of two Stripe accounts' (day, account) pairs;
## prints their overlap and each account's requests vs its budget as Stripe's token bucket counts them
## (docs/scaleout.md). A few minutes.
scaleout: $(STAMP)
	$(BIN)/python -m jde_stripe_pipeline.demo.scaleout $(SCALEOUT_ARGS)

## issue 10's bench: this project (the Dagster sync job) vs a naive SDK loop vs Stripe's limits, on the
## sandboxes; prints the table and writes docs/performance.md (+ its chart). About 9 min by default on
## 2 quiet cores; BENCH_ARGS=--quick (a few minutes), BENCH_ARGS=--full (issue 10's sizes: hours),
## BENCH_ARGS="--repeat 3" (medians), BENCH_ARGS=--help for every flag.
bench: $(STAMP)
	$(BIN)/python -m jde_stripe_pipeline.bench $(BENCH_ARGS)

## the fault and bad-input matrix (issue 11): every scenario, then docs/reliability.md regenerated
reliability: $(STAMP)
	$(BIN)/python -m jde_stripe_pipeline.reliability $(RELIABILITY_ARGS)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m reliability

## re-resolve requirements.lock from pyproject.toml's pins
lock:
	rm -rf /tmp/jde-stripe-lock && $(PYTHON) -m venv /tmp/jde-stripe-lock
	/tmp/jde-stripe-lock/bin/pip install -q -e '.[dev]'
	( echo '# Exact versions of everything the project and its checks install (pip freeze of a fresh venv).'; \
	  echo '# Regenerate with: make lock'; \
	  /tmp/jde-stripe-lock/bin/pip freeze --exclude-editable | grep -v '^jde-stripe-pipeline' ) > requirements.lock

clean:
	rm -rf $(VENV) .dagster_home .demo .pytest_cache .mypy_cache .ruff_cache
