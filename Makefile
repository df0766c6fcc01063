# MLP Lab — the two commands a newcomer needs are `make run` and `make test`.
# Everything else they need (virtualenv, Python packages, Chromium, chromedriver, redis-server)
# is installed by the targets below.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8050
SYSTEM_PACKAGES := chromium chromium-driver redis-server
PYTEST_ARGS ?=

.PHONY: run test lint bench screenshot system-deps clean help

help:
	@echo "make run    - install the runtime and start the lab on http://$(HOST):$(PORT)"
	@echo "make test   - install everything and run the whole suite (browser tests included)"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks in bench/ and print their figures"
	@echo "make screenshot - retake docs/screenshot.png in headless Chromium"

# --- virtualenv and Python packages ------------------------------------------------------
$(PY):
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "python3 -m venv failed: installing Debian's python3-venv"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
	      && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "python3 -m venv failed. Run: sudo apt-get install python3-venv   and try again."; exit 1; \
	  fi; }
	@$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime-installed

# --- system packages: Chromium + chromedriver for browser tests, redis-server for the store -
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Missing system packages:$$missing"; \
	    echo "Run: sudo apt-get update && sudo apt-get install -y $(SYSTEM_PACKAGES)"; \
	    exit 1; \
	  fi; \
	fi

# --- the two commands ----------------------------------------------------------------------
run: $(VENV)/.runtime-installed
	$(PY) -m dashboard --host $(HOST) --port $(PORT)

# MLPLAB_REQUIRE_BROWSER=1 turns any skipped test into a failure: browser and Redis tests
# always run under `make test`.
test: $(VENV)/.dev-installed system-deps
	MLPLAB_REQUIRE_BROWSER=1 $(PY) -m pytest --headless $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .

# Every bench/*.py but the _helpers; BENCH_ARGS=--quick for a short run, --json for JSON.
# Figures never fail the target: a script that stops early is reported and the next one runs.
bench: $(VENV)/.dev-installed system-deps
	@for script in bench/*.py; do \
	  case $$script in */_*) continue;; esac; \
	  echo "== $$script $(BENCH_ARGS)"; \
	  $(PY) $$script $(BENCH_ARGS) || echo "($$script did not finish; see above)"; \
	done

screenshot: $(VENV)/.dev-installed system-deps
	$(PY) docs/screenshot.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
