# Qinglang — two commands on a fresh machine with Python 3.11: `make run` and `make test`.
# `make run` migrates the governance database (QINGLANG_DATABASE_URL, SQLite under var/ by
# default), loads the fictional demo campaign into an empty database (logins printed once),
# then serves the UI and the API on http://$(HOST):$(PORT).
# uv is bootstrapped into .tools/ with pip, then installs the locked dependencies into .venv/.

PYTHON ?= python3.11
UV_VERSION ?= 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint bench model eval clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/qinglang db upgrade
	QINGLANG_HOST=$(HOST) QINGLANG_PORT=$(PORT) $(VENV)/bin/qinglang demo --if-empty
	$(VENV)/bin/qinglang serve --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

test: lint
	$(VENV)/bin/pytest -q

bench: install
	$(PY) -m benchmarks.run --out docs/benchmarks.md

# The abuse model: train it from ../shared/data/cold (same seed, same artifact) and evaluate
# the rule path, the model and both on COLD test into the model card.
COLD ?= ../shared/data/cold

model: install
	$(VENV)/bin/qinglang model train --cold $(COLD)

eval: install
	$(VENV)/bin/qinglang eval --cold $(COLD) --card docs/model.md --png docs/model-reliability.png

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
