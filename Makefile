# One-command set-up: every target creates .venv and installs the package when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= build/seed

.PHONY: install report test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

## report: run the seed study (tables, figures, executed notebooks, HTML) and refresh notebooks/ and figures/
report: $(STAMP)
	$(BIN)/discourselab run --corpus data/corpus.csv --out $(OUT)
	$(BIN)/discourselab publish $(OUT)

## test: the test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## bench: the performance benchmark (not part of the tests)
bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmark.py

clean:
	rm -rf build .cache .pytest_cache
