.PHONY: help install test test-fast lint format bench eval mutants
PY := .venv/bin/python

help:  ## list the common commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install:  ## create .venv and install the project with test extras
	python3 -m venv .venv && .venv/bin/pip install -e '.[test]'

test:  ## the whole suite, slow tests included (as CI runs it)
	$(PY) -m pytest -m "slow or not slow"

test-fast:  ## the fast tests only (no model, no server, no browser): what a bare `pytest` runs
	$(PY) -m pytest

lint:  ## ruff lint and format check, and mypy over rag/
	.venv/bin/ruff check rag tests eval docs && .venv/bin/ruff format --check rag tests eval docs && .venv/bin/mypy

format:  ## ruff format and autofix
	.venv/bin/ruff format rag tests eval && .venv/bin/ruff check --fix rag tests eval

mutants:  ## break auth, upload paths, fusion, citations, sufficiency, ingest on purpose: a test must notice
	$(PY) eval/mutants.py

bench:  ## ingest benchmark on the bundled corpus
	$(PY) eval/bench_ingest.py
