# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install lint bench clean

run: $(VENV)/.installed
	$(BIN)/arbitrage up

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest -q

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $@

install: $(VENV)/.installed

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: $(VENV)/.installed
	for b in bench/*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) data .pytest_cache
