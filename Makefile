# Township platform — every command a developer, CI or an operator needs.
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION ?= 0.13.9
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
RUN := PATH=$(CURDIR)/$(VENV)/bin:$$PATH
PYTEST_ARGS ?=

.PHONY: help setup run stop seed token proto proto-check openapi lint typecheck test test-unit test-service test-e2e bench clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --all-packages
	@touch $@

setup: $(VENV)/.synced ## Create .venv with every package of the workspace (PyPI only)

run: setup ## Start NATS, PostgreSQL and the five processes; seed; print URL and a token (Ctrl-C stops)
	$(RUN) township run

stop: ## Stop a `make run` started in another terminal
	-$(RUN) township stop

seed: setup ## Load the demo towns into a running system (idempotent)
	$(RUN) township seed

token: setup ## Print a dev token: make token TOWNSHIP=zhaowan ROLE=clerk SUB=clerk-zw-01
	@$(RUN) township token --township $(or $(TOWNSHIP),zhaowan) --role $(or $(ROLE),clerk) --sub $(or $(SUB),clerk-zw-01)

proto: setup ## Regenerate libs/township-proto from proto/
	$(RUN) python scripts/gen_proto.py

openapi: setup ## Regenerate the gateway's committed OpenAPI document from its routes
	$(RUN) python -m township_gateway.openapi

proto-check: setup ## Regenerate into a scratch folder and fail on any difference
	@tmp=$$(mktemp -d); cp -r libs/township-proto/src/. $$tmp/; \
	$(RUN) python scripts/gen_proto.py $$tmp >/dev/null && \
	diff -r -x __pycache__ libs/township-proto/src $$tmp && echo "proto-check: generated code is up to date"; \
	rc=$$?; rm -rf $$tmp; exit $$rc

lint: setup ## ruff (lint + format check)
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: setup ## mypy --strict on libs/ and services/
	$(RUN) mypy -p township_platform -p township_testing -p township_cli -p township_permits -p township_enforcement -p township_personnel -p township_stationed -p township_gateway

test-unit: setup ## Unit tests (pure domain rules)
	$(RUN) pytest -m "not service and not e2e" $(PYTEST_ARGS)

test-service: setup ## Service tests (real NATS + PostgreSQL)
	$(RUN) pytest -m service $(PYTEST_ARGS)

test-e2e: setup ## End-to-end tests through the gateway
	$(RUN) pytest -m e2e $(PYTEST_ARGS)

test: setup proto-check lint typecheck ## Everything CI runs
	$(RUN) pytest $(PYTEST_ARGS)

bench: setup ## Benchmark (see bench/README.md)
	$(RUN) python -m bench.run

-include mk/*.mk

clean: ## Remove the virtualenv, tools and local data
	rm -rf $(VENV) $(TOOLS) .township
