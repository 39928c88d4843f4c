# Two commands do all the set-up on a fresh machine:
#   make example   compile a bundled example and print the generated manifests
#   make test      run every test (unit, golden, and the real kpt/kustomize/podman/S3 ones)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: example test lint venv schemas benchmark

$(BIN)/krmfn: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/krmfn

example: venv
	$(BIN)/krmfn render kustomization-examples/tensorflow-s3

lint: venv
	$(BIN)/ruff check krmfn tests benchmarks
	$(BIN)/mypy

test: lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest

schemas: venv
	$(BIN)/python -m krmfn.freeze
	$(BIN)/python -m krmfn.crd

benchmark: venv
	$(BIN)/python benchmarks/run.py
