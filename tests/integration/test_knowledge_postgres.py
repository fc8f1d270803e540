"""Migration 0002 and full-text retrieval on the real PostgreSQL (and the SQLite downgrade)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from knowledge import retrieve, retrieve_for_deal, save_mental_model, save_strategy
from knowledge.starter import seed_starter_knowledge
from tools.db import (
    alembic_config,
    current_revision,
    get_engine,
    head_revision,
    migrate,
    session_scope,
)
from tools.models import Role, User
from tools.settings import Settings

pytestmark = pytest.mark.integration


@pytest.mark.postgres
def test_postgres_migrations_and_full_text_ranking(pg_settings: Settings) -> None:
    migrate(pg_settings)
    assert current_revision(pg_settings) == head_revision()
    with get_engine(pg_settings).connect() as conn:
        indexes = set(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_fts'")
            ).scalars()
        )
    assert indexes == {"ix_strategy_fts", "ix_mental_model_fts"}
    with session_scope(pg_settings) as s:
        admin = User(name="boss", password_hash="x", role=Role.admin)
        s.add(admin)
        s.flush()
        fees = save_strategy(
            s,
            "Count the $1.80 closing fee and the 15% referral fee on every book.",
            "fees",
            None,
            admin,
        ).entry.id
        save_strategy(
            s, "Pass when Amazon holds the buy box most of the time.", "general", None, admin
        )
        mm = save_mental_model(
            s,
            "Academic calendar",
            "Textbook demand peaks in August and January because semesters start.",
            "textbooks",
            None,
            admin,
        ).entry.id
    with session_scope(pg_settings) as s:
        hits = retrieve(s, "which fees does Amazon charge on a book?")
        assert (hits[0].kind, hits[0].id) == ("strategy", fees) and hits[0].score > 0
        hits = retrieve(s, "when do textbook semesters peak?")
        assert (hits[0].kind, hits[0].id) == ("mental_model", mm)
        assert retrieve(s, "zebra xylophone") == []
        report = seed_starter_knowledge(s)
        assert report.added > 25
        deal = {"title": "Calculus, 9th Edition", "seasonality": "textbook", "sales_rank": 900_000}
        assert any("off-season" in h.text for h in retrieve_for_deal(s, deal))


def test_sqlite_downgrade_removes_fts_and_upgrade_restores_it(settings: Settings) -> None:
    cfg = alembic_config(settings.sqlalchemy_url)
    with session_scope(settings) as s:
        admin = User(name="boss", password_hash="x", role=Role.admin)
        s.add(admin)
        s.flush()
        save_strategy(s, "Count the $1.80 closing fee on every book.", "fees", None, admin)
    get_engine(settings).dispose()
    command.downgrade(cfg, "0001")
    assert "knowledge_fts" not in inspect(get_engine(settings)).get_table_names()
    with session_scope(settings) as s:  # still works without FTS (ranked in Python)
        assert retrieve(s, "closing fee")[0].category == "fees"
    get_engine(settings).dispose()
    command.upgrade(cfg, "head")
    with session_scope(settings) as s:  # existing rows were indexed by the upgrade
        assert s.execute(text("SELECT count(*) FROM knowledge_fts")).scalar_one() == 1
        assert retrieve(s, "closing fee")[0].category == "fees"
