# Two commands do all the set-up on a fresh machine:
#   make example   compile a bundled example and print the generated manifests
#   make test      run every test (unit, golden, and the real kpt/kustomize/podman/S3 ones)
# Dependencies are installed from the lock in requirements/ (exact versions and hashes);
# `make lock` re-locks them from the ranges in pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Tests that check krmfn against its dependencies, not against external tools: what the
# newest and oldest dependency sets are held to.
COMPAT_TESTS := -m "not integration"

.PHONY: example test lint venv schemas benchmark lock test-newest test-oldest

$(BIN)/krmfn: pyproject.toml requirements/test.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip==26.3'
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

venv: $(BIN)/krmfn

example: venv
	$(BIN)/krmfn render kustomization-examples/tensorflow-s3

lint: venv
	$(BIN)/ruff check krmfn tests benchmarks containers
	$(BIN)/mypy

test: lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest

# The newest releases the ranges in pyproject.toml admit, resolved today (no lock).
test-newest:
	rm -rf .venv-newest
	$(PYTHON) -m venv .venv-newest
	.venv-newest/bin/pip install --quiet --upgrade pip
	.venv-newest/bin/pip install --quiet --upgrade '.[test]' 'setuptools>=68'
	.venv-newest/bin/pip install --quiet --no-deps --no-build-isolation -e .
	PATH="$(CURDIR)/.venv-newest/bin:$$PATH" .venv-newest/bin/python -m pytest \
	  -p no:cacheprovider $(COMPAT_TESTS) -q

# The oldest releases pyproject.toml admits (requirements/oldest.in), locked with the test
# tools in requirements/test-oldest.txt.
test-oldest:
	rm -rf .venv-oldest
	$(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/pip install --quiet --upgrade 'pip==26.3'
	.venv-oldest/bin/pip install --quiet --require-hashes -r requirements/test-oldest.txt
	.venv-oldest/bin/pip install --quiet --no-deps --no-build-isolation -e .
	PATH="$(CURDIR)/.venv-oldest/bin:$$PATH" .venv-oldest/bin/python -m pytest \
	  -p no:cacheprovider $(COMPAT_TESTS) -q

lock:
	scripts/lock

schemas: venv
	$(BIN)/python -m krmfn.freeze
	$(BIN)/python -m krmfn.crd

benchmark: venv
	$(BIN)/python benchmarks/run.py
