# Newsdesk: `make run` opens the chat over the bundled articles; `make test` runs every test.
# Both set up .venv/ first (idempotent: a stamp file skips the install when nothing changed).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
PORT ?= 8000
HOST ?= 127.0.0.1
export UV_PROJECT_ENVIRONMENT := $(VENV)
export PYTHONDONTWRITEBYTECODE :=

.PHONY: setup run cli test test-fast browser bench clean-index help

help:
	@echo "make run        set up and open the chat UI on http://$(HOST):$(PORT)"
	@echo "make test       set up and run every test (unit, end-to-end, browser)"
	@echo "make test-fast  unit tests only"
	@echo "make cli        set up and start the interactive question loop in the terminal"
	@echo "make bench      run the benchmark suite (quality, speed, scale); options: make bench ARGS=--quick"
	@echo "make setup      create .venv/ with the versions pinned in uv.lock (the other targets do it first)"
	@echo "make browser    install Debian's chromium for the browser tests (apt, when missing)"
	@echo "make clean-index  delete the local index (indexes/chroma); the next start rebuilds it"
	@echo "make help       this list"

setup: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	@test -x $(UV) || $(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) sync --frozen --inexact --compile-bytecode --quiet
	@touch $(STAMP)

run: setup
	$(VENV)/bin/chainlit run assistant/ui.py --headless --host $(HOST) --port $(PORT)

cli: setup
	$(VENV)/bin/assistant chat

# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: setup browser
	$(VENV)/bin/pytest -q

test-fast: setup
	$(VENV)/bin/pytest -q -m "not e2e and not browser"

# `make bench ARGS="--quick --skip scale"`: make reads `make bench --quick` as its own option.
ARGS ?=
bench: setup
	$(VENV)/bin/python -m benchmarks $(ARGS)

clean-index:
	rm -rf indexes/chroma
