# vaultexec: every target sets up what it needs from the project's own files (idempotent).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FORGE := node_modules/@foundry-rs/forge-linux-amd64/bin/forge

.PHONY: setup demo test test-python test-contracts check-artifacts lint bench clean

setup: $(VENV)/.installed node_modules/.installed system-deps

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system-deps:
	@bash scripts/install_system_deps.sh

demo: setup
	$(VENV)/bin/vaultexec demo

test: setup check-artifacts test-contracts test-python

check-artifacts:
	bash contracts/build.sh --check

test-contracts:
	cd contracts && ../$(FORGE) test

test-python:
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check vaultexec tests scripts benchmarks
	$(VENV)/bin/mypy

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules
