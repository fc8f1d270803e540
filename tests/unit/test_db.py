"""Database: migrations reach the newest schema, SQLite really runs in WAL mode."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import postgres_url
from tools.db import current_revision, get_engine, head_revision, migrate, session_scope
from tools.models import SystemState
from tools.settings import Settings

EXPECTED_TABLES = {"deal", "deal_history", "system_state", "user", "user_restriction",
                   "user_credential", "strategy", "mental_model"}


@pytest.mark.no_template_db
def test_migrations_create_every_table_on_a_fresh_sqlite(settings: Settings) -> None:
    migrate(settings)
    assert current_revision(settings) == head_revision()
    tables = set(inspect(get_engine(settings)).get_table_names())
    assert EXPECTED_TABLES <= tables
    migrate(settings)  # applying again on start is a no-op
    assert current_revision(settings) == head_revision()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(settings: Settings) -> None:
    with get_engine(settings).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    assert (settings.data_dir / "arbitrage.db").exists()


def test_session_scope_rolls_back_on_error(settings: Settings) -> None:
    with pytest.raises(RuntimeError), session_scope(settings) as session:
        session.add(SystemState(key="x", value={"a": 1}))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(settings) as session:
        assert session.get(SystemState, "x") is None


def _postgres_or_skip() -> str:
    url = postgres_url()
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect():
            pass
        return url
    except Exception as err:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {url}: {err.__class__.__name__}")


@pytest.mark.postgres
def test_migrations_run_on_postgresql() -> None:
    base = _postgres_or_skip()
    name = f"aa_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        pg = Settings(database_url=url)
        migrate(pg)
        assert current_revision(pg) == head_revision()
        assert EXPECTED_TABLES <= set(inspect(get_engine(pg)).get_table_names())
        with session_scope(pg) as session:
            session.add(SystemState(key="watermark", value={"t": 1}))
        with session_scope(pg) as session:
            assert session.get(SystemState, "watermark").value == {"t": 1}
    finally:
        get_engine(Settings(database_url=url)).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
