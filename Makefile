# The two commands (see README): `make run` and `make test`.
# Everything else here is what those two need on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench browser clean help

help:
	@echo "make run    set up, start embedded PostgreSQL + projections + web server, print the URL"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff + mypy"
	@echo "make bench  run the benchmarks in bench/"

run: $(STAMP)
	$(BIN)/courtwatch serve

# One worker per core, each with its own embedded PostgreSQL; whole files per
# worker so module fixtures (a built trend view) are made once; the longest files
# first (tests/scheduling.py), so no long file runs alone at the end.
test: $(STAMP) browser
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/live.py
	$(BIN)/python bench/first_paint.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/summaries.py
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/sealed.py
	$(BIN)/python bench/import.py

# uv builds the environment in ~2 s instead of ~10 s with pip (STACK_NOTES).
$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "courtwatch needs Python 3.11+"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

browser:
	@bash scripts/ensure-chromium.sh

clean:
	rm -rf $(VENV) var
