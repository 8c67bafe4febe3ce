# mailsleuth: the two commands a new machine needs are `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared

.PHONY: setup demo test lint typecheck unit eval bench clean

setup:
	bash scripts/setup.sh

## Install everything, then analyse the bundled example with its DNS snapshot.
demo: setup
	$(VENV)/bin/mailsleuth analyze examples/onedrive-microsoftemails.eml \
	  --dns-snapshot examples/onedrive-microsoftemails.dns

## Install everything the tests need (Debian packages too), then lint, type-check and run every test.
test: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider

lint:
	$(VENV)/bin/ruff check src tests bench

typecheck:
	$(VENV)/bin/mypy

## Verdicts over the labelled corpus, offline: confusion matrix, rates, messages per second.
eval: setup
	$(VENV)/bin/mailsleuth eval $(SHARED)/corpus

## Benchmarks (not tests): throughput against Python's own parse, verification and enrichment costs.
bench: setup
	$(PY) bench/run.py --corpus $(SHARED)/corpus

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build src/*.egg-info
