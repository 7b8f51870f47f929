# vaultexec: every target sets up what it needs from the project's own files (idempotent).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FORGE := node_modules/@foundry-rs/forge-linux-amd64/bin/forge
# pytest-xdist workers: the tests mostly wait on anvil and subprocesses, so 3 fit 2 cores (each worker has
# its own anvil, redis-server and lease directory).
PYTEST_WORKERS ?= 3
# Second environment: trade-executor's pins (constraints/trade-executor.txt) with web3-ethereum-defi 1.2
# installed first, then vaultexec on top without changing any of them (pip refuses if it would).
VENV_TE := .venv-te
PY_TE := $(VENV_TE)/bin/python
TE_CONSTRAINTS := constraints/trade-executor.txt

.PHONY: setup demo test test-python test-te-pins test-contracts check-artifacts lint bench clean

setup: $(VENV)/.installed node_modules/.installed system-deps

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV_TE)/.installed: pyproject.toml $(TE_CONSTRAINTS)
	test -x $(PY_TE) || $(PYTHON) -m venv $(VENV_TE)
	$(PY_TE) -m pip install --quiet --upgrade pip
	$(PY_TE) -m pip install --quiet -c $(TE_CONSTRAINTS) 'web3-ethereum-defi==1.2'
	$(PY_TE) -m pip install --quiet -c $(TE_CONSTRAINTS) -e '.[dev]'
	$(PY_TE) -m pip check
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system-deps:
	@bash scripts/install_system_deps.sh

demo: setup
	$(VENV)/bin/vaultexec demo

test: setup check-artifacts test-contracts test-python test-te-pins

check-artifacts:
	bash contracts/build.sh --check

test-contracts:
	cd contracts && ../$(FORGE) test

test-python:
	$(PY) -m pytest -n $(PYTEST_WORKERS)

# The `te_pins` subset (tests/conftest.py) again under trade-executor's pinned web3 7 / dataclasses-json 0.5 / tblib 1.7.
test-te-pins: $(VENV_TE)/.installed node_modules/.installed system-deps
	$(PY_TE) -m pytest -n $(PYTEST_WORKERS) -m te_pins

lint: setup
	$(VENV)/bin/ruff check vaultexec tests scripts benchmarks
	$(VENV)/bin/mypy

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(VENV_TE) node_modules
