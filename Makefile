# slackbridge — developer entry points. Needs only python3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-deep lint fmt bench bench-ingress bench-outbound bench-bridge clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/slackbridge demo

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

# Property tests with fresh random examples, twenty times as many (tests/support/fuzz.py);
# failures are kept in .hypothesis/ and replay first on the next run.
test-deep: $(STAMP)
	SLACKBRIDGE_FUZZ=deep $(BIN)/pytest -q -p no:cacheprovider -m "not browser" \
		tests/unit tests/integration/emulator/test_bad_requests.py \
		tests/integration/gateway/api/test_schemathesis.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples scripts
	$(BIN)/ruff format --check src tests bench examples scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider tests/unit/architecture

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench examples scripts
	$(BIN)/ruff check --fix src tests bench examples scripts

bench: $(STAMP)
	$(BIN)/python bench/emulator.py

# Each exits non-zero when its target (bench/RESULTS.md) is not met; add --record by hand to
# rewrite its section of bench/RESULTS.md.
bench-ingress: $(STAMP)
	$(BIN)/python bench/ingress.py

bench-outbound: $(STAMP)
	$(BIN)/python bench/outbound.py

bench-bridge: $(STAMP)
	$(BIN)/python bench/bridge.py

clean:
	rm -rf $(VENV) .slackbridge .pytest_cache .mypy_cache .ruff_cache
