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
# Hand-written later revisions (0002_knowledge_fts, ...) are set aside while 0001 is rebuilt,
# because they point at 0001 and autogenerate needs an empty revision history.
migration-initial: $(VENV)/.installed
	rm -f tools/migrations/versions/0001_initial_schema.py /tmp/aa-initial.db
	rm -rf /tmp/aa-later-revs && mkdir -p /tmp/aa-later-revs && \
	find tools/migrations/versions -maxdepth 1 -name '0*.py' -exec mv {} /tmp/aa-later-revs/ \; ; \
	$(BIN)/python -c "from alembic import command; from tools.db import alembic_config; \
	command.revision(alembic_config('sqlite:////tmp/aa-initial.db'), autogenerate=True, \
	message='initial schema', rev_id='0001')"; status=$$?; \
	mv /tmp/aa-later-revs/*.py tools/migrations/versions/ 2>/dev/null; exit $$status
	$(BIN)/ruff check --fix -q tools/migrations/versions/
	$(BIN)/ruff format tools/migrations/versions/ -q

clean:
	rm -rf $(VENV) data .pytest_cache
