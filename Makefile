# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every package at the version the tests last passed with (regenerate with `make lock`).
LOCK := requirements.lock
# Which benchmarks `make bench` runs (`make bench BENCH="query agent"` for some of them).
BENCH ?= startup keepa_parse sandbox_latency analytics query agent knowledge chat_load abuse freshness backup alerts picks cli market_realism

.PHONY: run test test-unit install lint audit bench lock clean

run: $(VENV)/.installed
	$(BIN)/arbitrage up

test: lint audit
	$(BIN)/pytest -q

# The fast loop while coding: unit tests only (no Redis/Celery/HTTP servers, no browser).
test-unit: $(VENV)/.installed
	$(BIN)/pytest -q tests/unit -m 'not integration and not e2e'

# Exactly the locked versions (uv, itself locked, installs them in ~30 s where pip takes ~4 min),
# then the project itself without re-resolving anything.
UV_VERSION = $(shell sed -n 's/^uv==\([^ ;]*\).*/\1/p' $(LOCK))
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip sync -q --python $(BIN)/python --compile-bytecode $(LOCK)
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

# ruff's rules include C901 with max-complexity in pyproject.toml: a ratchet, only lowered.
# mypy's settings are in pyproject.toml too (strict for tools/).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Known vulnerabilities in the locked versions fail the build; where no advisory database can
# be reached it says NOT AUDITED and the build goes on (scripts/audit_deps.py).
audit: $(VENV)/.installed
	$(BIN)/python scripts/audit_deps.py $(LOCK)

# After changing dependencies in pyproject.toml; keeps every other pin where it is
# (`make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed versions).
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra postgres --universal \
		--python-version 3.11 --quiet $(LOCK_ARGS) -o $(LOCK)

# Each benchmark prints one JSON document and exits non-zero when it crashes or misses its
# target; every one runs, then the failures are named.
bench: $(VENV)/.installed
	@failed=""; for b in $(BENCH); do \
		args=""; [ "$$b" = chat_load ] && args="--workers 2"; \
		echo "== bench/$$b.py $$args"; \
		$(BIN)/python bench/$$b.py $$args || failed="$$failed $$b"; \
	done; \
	if [ -n "$$failed" ]; then echo "benchmarks failed or missed their target:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) data .pytest_cache
