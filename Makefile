# koppel — the two commands: `make demo` and `make test`. Both set everything up first.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins an older boto3/botocore than the layer ships, so it has a venv of its own.
CHECKOV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.PHONY: setup demo local test lint template security pytest bench clean

$(STAMP): requirements-dev.txt layers/shared/requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt | $(STAMP)
	$(PY) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install -q --upgrade pip
	$(CHECKOV)/bin/pip install -q -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

setup: $(STAMP)

## koppel's main job end to end on this machine: embedded AWS, simulators, the real handlers.
demo: setup
	$(BIN)/koppel-local demo

## Serve the template's HTTP routes on 127.0.0.1 and fire its schedules (Ctrl-C to stop).
local: setup
	$(BIN)/koppel-local serve

## Lint, check and build the template, run the static security checks, run every test.
test: setup lint template security pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

template: setup
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint
	$(BIN)/sam build --parallel

## checkov on the template, bandit on the deployed and local code; any finding fails the build.
## Accepted findings are marked in place with their reason: template.yaml `Metadata: checkov: skip:`,
## `# nosec BXXX` in Python. tests/ and bench/ are not scanned (they parse only XML koppel wrote).
security: setup $(CHECKOV_STAMP)
	$(CHECKOV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml
	$(BIN)/bandit -q -r layers/ functions/ local/ -ll -ii

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
	$(BIN)/python bench/local_api_load_bench.py
	$(BIN)/python bench/webshop_accounting_bench.py
	$(BIN)/python bench/cost_model.py

clean:
	rm -rf $(VENV) .aws-sam .koppel-local .pytest_cache .ruff_cache
