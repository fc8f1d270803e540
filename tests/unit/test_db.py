"""Database: migrations reach the newest schema, SQLite really runs in WAL mode."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from tools.db import current_revision, get_engine, head_revision, migrate, session_scope
from tools.models import SystemState
from tools.settings import Settings

EXPECTED_TABLES = {"deal", "deal_history", "system_state", "user", "user_restriction",
                   "user_credential", "strategy", "mental_model", "keepa_seller"}


@pytest.mark.no_template_db
def test_migrations_create_every_table_on_a_fresh_sqlite(settings: Settings) -> None:
    migrate(settings)
    assert current_revision(settings) == head_revision()
    tables = set(inspect(get_engine(settings)).get_table_names())
    assert tables >= EXPECTED_TABLES
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


@pytest.mark.postgres
def test_migrations_run_on_postgresql(pg_settings: Settings) -> None:
    migrate(pg_settings)
    assert current_revision(pg_settings) == head_revision()
    assert set(inspect(get_engine(pg_settings)).get_table_names()) >= EXPECTED_TABLES
    with session_scope(pg_settings) as session:
        session.add(SystemState(key="watermark", value={"t": 1}))
    with session_scope(pg_settings) as session:
        assert session.get(SystemState, "watermark").value == {"t": 1}
