# koppel — the two commands: `make demo` and `make test`. Both set everything up first.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.PHONY: setup demo local test lint template pytest bench clean

$(STAMP): requirements-dev.txt layers/shared/requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

## koppel's main job end to end on this machine: embedded AWS, simulators, the real handlers.
demo: setup
	$(BIN)/koppel-local demo

## Serve the template's HTTP routes on 127.0.0.1 and fire its schedules (Ctrl-C to stop).
local: setup
	$(BIN)/koppel-local serve

## Lint, check and build the template, run every test.
test: setup lint template pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

template: setup
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint
	$(BIN)/sam build --parallel

pytest: setup
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/webhook_receiver_bench.py
	$(BIN)/python bench/import_time_bench.py
	$(BIN)/python bench/order_import_bench.py
	$(BIN)/python bench/carrier_detection_bench.py
	$(BIN)/python bench/feed_bench.py
	$(BIN)/python bench/stock_push_bench.py
	$(BIN)/python bench/webshop_receipt_bench.py
	$(BIN)/python bench/webshop_accounting_bench.py

clean:
	rm -rf $(VENV) .aws-sam .koppel-local .pytest_cache .ruff_cache
