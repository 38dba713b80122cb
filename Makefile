# shequ — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test test-pg lint typecheck bench messages serve clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Translations: edit src/shequ/locale/en/LC_MESSAGES/django.po, then `make messages` (needs GNU gettext);
# the compiled .mo is committed so that a fresh machine needs no gettext.
messages: $(STAMP)
	cd src/shequ && ../../$(BIN)/shequ makemessages -l en --ignore=tests --ignore=tests_browser --no-obsolete && ../../$(BIN)/shequ compilemessages

demo: $(STAMP)
	$(BIN)/shequ migrate --no-input
	$(BIN)/shequ import_divisions --shanghai
	$(BIN)/shequ import_boundaries --district-polygons
	$(BIN)/shequ seed --scale demo
	$(BIN)/shequ registry_tags_refresh
	$(BIN)/shequ demo_accounts
	$(BIN)/shequ demo_link_resident
	$(BIN)/shequ demo_cases
	$(BIN)/shequ collectstatic --no-input --verbosity 0
	@echo "Serving http://$(HOST):$(PORT)/ with a task worker (imports, exports) and the periodic tick."
	@$(BIN)/shequ db_worker --no-reload >var/worker.log 2>&1 & worker=$$!; \
	 (while sleep 60; do $(BIN)/shequ tick >>var/tick.log 2>&1; done) & ticker=$$!; \
	 trap 'kill $$worker $$ticker 2>/dev/null' EXIT INT TERM; \
	 $(BIN)/shequ runserver $(HOST):$(PORT)

test: $(STAMP)
	$(BIN)/pytest -q

test-pg: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
