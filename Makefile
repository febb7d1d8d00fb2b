# allrwe: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# `make demo` installs what allrwe needs to run (RUNTIME); every other target also installs
# the dev extra (test, lint and the PostgreSQL and Spark backends: STAMP).
RUNTIME := $(VENV)/.installed-runtime
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit bench oracle clean setup mincheck

setup: $(STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV))
	$(BIN)/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true

$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e . 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import allrwe, ibis, duckdb"
	@touch $(RUNTIME)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import allrwe, ibis, duckdb"
	$(BIN)/python -m compileall -q src/allrwe
	@touch $(RUNTIME) $(STAMP)

demo: $(RUNTIME)
	$(BIN)/allrwe demo --out demo-output

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint unit

# The command-line tests against the oldest Typer pyproject.toml allows (and the click it used).
MIN_TYPER := typer==0.12.5 click==8.1.7
mincheck: $(STAMP)
	rm -rf $(VENV)/min-typer
	$(BIN)/python -m pip install -q --no-deps --target $(VENV)/min-typer $(MIN_TYPER)
	PYTHONPATH=$(VENV)/min-typer:src $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/cli/test_options.py tests/cli/test_synth.py tests/cli/test_entry.py tests/cli/test_check.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Regenerates the R golden files under tests/oracle (needs R; installs it from Debian).
oracle:
	@command -v Rscript >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq r-base-core r-cran-survival r-cran-kmsurv r-cran-cmprsk)
	cd tests/oracle && Rscript make_golden.R

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
