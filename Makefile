# labelwise: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BENCH_VENV := .bench-venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint install bench-env bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the whole pipeline on the embedded default data and write report/index.html
demo: $(STAMP)
	$(BIN)/labelwise demo --out report

## Lint, type-check and run the test suite
test: $(STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## A separate venv with the peer libraries used by benchmarks/ (never a dependency).
## scikit-learn is pinned to 1.5.2 there: crowd-kit 1.4.2's Wawa and modAL break on >= 1.8.
bench-env:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -r benchmarks/requirements.txt
	$(BENCH_VENV)/bin/pip install --quiet -e .

clean:
	rm -rf $(VENV) $(BENCH_VENV) report .pytest_cache .mypy_cache .ruff_cache
