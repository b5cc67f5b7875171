# make demo: set up .venv and run the main job; make test: set up and run the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lint bench clean docs pictures

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.demo-deps: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[all]'
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[all,test]'
	touch $@ $(VENV)/.demo-deps

demo: $(VENV)/.demo-deps
	$(BIN)/jitwarm demo

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks examples docs
	$(BIN)/lint-imports

test: $(VENV)/.test-deps lint
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-redis.sh
	$(BIN)/python -m pytest

# every benchmark runs, then the target fails if any of them missed a target it states
BENCHMARKS := agreement harness_overhead import_cost observation_overhead analysis_speed serving strategies frameworks fleet

bench: $(VENV)/.test-deps
	@missed=""; for b in $(BENCHMARKS); do \
		echo "== benchmarks/$$b.py"; \
		$(BIN)/python benchmarks/$$b.py || missed="$$missed $$b"; \
	done; \
	if [ -n "$$missed" ]; then echo "make bench: missed a target or failed:$$missed"; exit 1; fi

docs: $(VENV)/.test-deps
	$(BIN)/python -m mkdocs build --strict

pictures: $(VENV)/.test-deps
	$(BIN)/python docs/gen_pictures.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
