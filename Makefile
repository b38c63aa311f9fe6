# Two commands do everything on a fresh machine with Python 3.11+:
#   make run   - create the environment, generate demo extracts, run the pipeline, print what was published
#   make test  - run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_START ?= 2025-01-01
DEMO_END ?= 2025-12-31
DEMO_CUSTOMERS ?= 2000
export CRM_LANDING ?= data/landing
export CRM_WAREHOUSE ?= data/warehouse.duckdb
export CRM_OUTPUT ?= data/output
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install run test dev bench clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.8

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

$(CRM_LANDING)/transactions: | install
	$(BIN)/crm generate --customers $(DEMO_CUSTOMERS) --start $(DEMO_START) --end $(DEMO_END) --seed 42 --out $(CRM_LANDING)

run: install $(CRM_LANDING)/transactions
	$(BIN)/crm run --from $(DEMO_START) --to $(DEMO_END)

test: install
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m pytest -q

dev: install
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m pipelines.definitions

bench: install
	$(BIN)/python benchmarks/bench_pipeline.py

clean:
	rm -rf data bench_out
