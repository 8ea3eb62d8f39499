# Fresh machine: `make run` (a demo node on http://127.0.0.1:8080) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_ENV := CERCLE_DEV=1 CERCLE_DOMAIN=127.0.0.1:8080 CERCLE_DATA_DIR=$(CURDIR)/data
# Two cores: two test workers.
TEST_WORKERS ?= 2

.PHONY: install run test lint bench soak clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cercle needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(DEV_ENV) $(BIN)/cercle demo
	$(DEV_ENV) $(BIN)/cercle serve --host 127.0.0.1 --port 8080

lint: $(STAMP)
	$(BIN)/ruff check node federation webui tests bench

test: $(STAMP) lint
	$(BIN)/pytest -n $(TEST_WORKERS) -q

bench: $(STAMP)
	$(BIN)/python -m bench

# Ten minutes of load on three nodes (a restart, a failing peer), then the drain: ~13 min; stops by itself.
soak: $(STAMP)
	CERCLE_SOAK_SECONDS=600 $(BIN)/pytest -q -s -p no:randomly --timeout 1200 tests/soak

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
