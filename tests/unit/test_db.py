"""Database: migrations reach the newest schema, SQLite really runs in WAL mode, and the one
upsert behaves alike on SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from tools.db import (
    at_head,
    current_revision,
    get_engine,
    head_revision,
    migrate,
    session_scope,
    upsert,
)
from tools.models import Deal, SystemState, User, UserRestriction
from tools.settings import Settings

EXPECTED_TABLES = {
    "deal",
    "deal_history",
    "system_state",
    "user",
    "user_restriction",
    "user_credential",
    "strategy",
    "mental_model",
    "keepa_seller",
    "fba_inventory",
    "seller_order",
    "seller_order_item",
    "financial_event",
    "spapi_sync",
}


@pytest.mark.no_template_db
def test_migrations_create_every_table_on_a_fresh_sqlite(settings: Settings) -> None:
    migrate(settings)
    assert current_revision(settings) == head_revision()
    tables = set(inspect(get_engine(settings)).get_table_names())
    assert tables >= EXPECTED_TABLES
    migrate(settings)  # applying again on start is a no-op
    assert current_revision(settings) == head_revision()


@pytest.mark.no_template_db
def test_a_database_at_the_head_is_not_migrated_again(settings: Settings) -> None:
    """migrate() on every `arbitrage ask` costs one query at the head, and still upgrades an
    older schema: the head read from the files is alembic's own."""
    from alembic import command

    from tools.db import _file_heads, alembic_config

    heads = _file_heads()
    assert heads is not None and len(heads) == 1 and head_revision() in heads
    assert not at_head(settings)  # a fresh database
    command.upgrade(alembic_config(settings.sqlalchemy_url), "0011")
    assert not at_head(settings)
    migrate(settings)
    assert at_head(settings) and current_revision(settings) == head_revision()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(settings: Settings) -> None:
    with get_engine(settings).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        timeout = conn.execute(text("PRAGMA busy_timeout")).scalar()
        assert timeout is not None and timeout >= 5000
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
        row = session.get(SystemState, "watermark")
        assert row is not None and row.value == {"t": 1}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> Settings:
    """The migrated database of each supported dialect."""
    if request.param == "sqlite":
        return request.getfixturevalue("settings")  # type: ignore[no-any-return]
    pg = request.getfixturevalue("pg_settings")
    migrate(pg)
    return pg  # type: ignore[no-any-return]


def test_upsert_updates_only_the_columns_a_row_names(any_db: Settings) -> None:
    with session_scope(any_db) as session:
        assert (
            upsert(
                session,
                Deal,
                [
                    {"asin": "0000000001", "title": "Old", "priority": 7},
                    {"asin": "0000000002", "title": "Two"},
                ],
            )
            == 2
        )
    with session_scope(any_db) as session:
        upsert(session, Deal, {"asin": "0000000001", "title": "New", "price_now": 9.5})
    with session_scope(any_db) as session:
        deal = session.get(Deal, "0000000001")
        assert deal is not None
        assert (deal.title, deal.price_now, deal.priority) == ("New", 9.5, 7)
        assert session.get(Deal, "0000000002").title == "Two"  # type: ignore[union-attr]
        assert len(session.exec(select(Deal)).all()) == 2


def test_upsert_with_nothing_on_conflict_keeps_the_stored_row(any_db: Settings) -> None:
    with session_scope(any_db) as session:
        upsert(session, Deal, {"asin": "0000000001", "title": "First"})
    with session_scope(any_db) as session:
        new = upsert(
            session,
            Deal,
            [{"asin": "0000000001", "title": "Second"}, {"asin": "0000000003", "title": "Third"}],
            on_conflict="nothing",
        )
    assert new == 1  # how many rows were new
    with session_scope(any_db) as session:
        assert session.get(Deal, "0000000001").title == "First"  # type: ignore[union-attr]
        assert session.get(Deal, "0000000003").title == "Third"  # type: ignore[union-attr]


def test_upsert_on_a_unique_key_other_than_the_primary_key(any_db: Settings) -> None:
    with session_scope(any_db) as session:
        user = User(name="ann", password_hash="x")
        session.add(user)
        session.flush()
        uid = user.id
    key = ("user_id", "asin", "condition")
    row = {
        "user_id": uid,
        "asin": "0000000001",
        "condition": "used_good",
        "status": 1,
        "reason_code": "APPROVAL_REQUIRED",
    }
    with session_scope(any_db) as session:
        upsert(session, UserRestriction, row, key=key)
        upsert(session, UserRestriction, {**row, "status": 0, "reason_code": None}, key=key)
        upsert(session, UserRestriction, {**row, "condition": "used_like_new"}, key=key)
    with session_scope(any_db) as session:
        rows = {
            r.condition: (r.status, r.reason_code)
            for r in session.exec(select(UserRestriction)).all()
        }
    assert rows == {"used_good": (0, None), "used_like_new": (1, "APPROVAL_REQUIRED")}


def test_upsert_refuses_a_dialect_it_cannot_speak() -> None:
    other = SimpleNamespace(get_bind=lambda: SimpleNamespace(dialect=SimpleNamespace(name="mysql")))
    with pytest.raises(NotImplementedError, match="sqlite and postgresql, not mysql"):
        upsert(other, Deal, {"asin": "0000000001"})  # type: ignore[arg-type]


@pytest.mark.no_template_db
def test_every_model_column_is_made_by_the_migrations(settings: Settings) -> None:
    """tools/models.py and the migrations describe the same tables and columns: a model field
    no migration adds (or a migrated column the model lost, e.g. in a merge) fails here
    rather than at the first write."""
    import warnings

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    migrate(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression indexes SQLite cannot reflect
        with get_engine(settings).connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    ours = set(SQLModel.metadata.tables)
    drift = [
        d
        for d in diffs
        if isinstance(d, tuple)
        and (d[0] == "add_table" or (d[0] in ("add_column", "remove_column") and d[2] in ours))
    ]
    assert not drift, drift
