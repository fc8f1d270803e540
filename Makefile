# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install lint bench migration-initial clean

run: $(VENV)/.installed
	$(BIN)/arbitrage up

test: $(VENV)/.installed
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

# Regenerate the single initial migration from tools/models.py (pre-release only).
migration-initial: $(VENV)/.installed
	rm -f tools/migrations/versions/0001_initial_schema.py /tmp/aa-initial.db
	$(BIN)/python -c "from alembic import command; from tools.db import alembic_config; \
	command.revision(alembic_config('sqlite:////tmp/aa-initial.db'), autogenerate=True, \
	message='initial schema', rev_id='0001')"
	$(BIN)/ruff format tools/migrations/versions/ -q

clean:
	rm -rf $(VENV) data .pytest_cache
