"""knowledge full-text search (hand-written: autogenerate cannot express it)

SQLite: one FTS5 table over strategies and mental models, kept in sync by triggers, so BM25
ranking happens inside the database. rowid = id * 2 (+1 for mental models) keeps deletes O(1).
PostgreSQL: GIN expression indexes on the same to_tsvector expressions the retrieval query
uses (knowledge/retrieval.py), so ranking uses the index without extra columns.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_fts USING fts5(
        title, body, category, tokenize = 'porter unicode61')""",
    # strategies: rowid = id * 2
    """CREATE TRIGGER IF NOT EXISTS strategy_fts_ai AFTER INSERT ON strategy BEGIN
        INSERT INTO knowledge_fts(rowid, title, body, category)
        VALUES (new.id * 2, '', new.text, new.category);
    END""",
    """CREATE TRIGGER IF NOT EXISTS strategy_fts_ad AFTER DELETE ON strategy BEGIN
        DELETE FROM knowledge_fts WHERE rowid = old.id * 2;
    END""",
    """CREATE TRIGGER IF NOT EXISTS strategy_fts_au AFTER UPDATE ON strategy BEGIN
        DELETE FROM knowledge_fts WHERE rowid = old.id * 2;
        INSERT INTO knowledge_fts(rowid, title, body, category)
        VALUES (new.id * 2, '', new.text, new.category);
    END""",
    # mental models: rowid = id * 2 + 1
    """CREATE TRIGGER IF NOT EXISTS mental_model_fts_ai AFTER INSERT ON mental_model BEGIN
        INSERT INTO knowledge_fts(rowid, title, body, category)
        VALUES (new.id * 2 + 1, new.title, new.text, new.category);
    END""",
    """CREATE TRIGGER IF NOT EXISTS mental_model_fts_ad AFTER DELETE ON mental_model BEGIN
        DELETE FROM knowledge_fts WHERE rowid = old.id * 2 + 1;
    END""",
    """CREATE TRIGGER IF NOT EXISTS mental_model_fts_au AFTER UPDATE ON mental_model BEGIN
        DELETE FROM knowledge_fts WHERE rowid = old.id * 2 + 1;
        INSERT INTO knowledge_fts(rowid, title, body, category)
        VALUES (new.id * 2 + 1, new.title, new.text, new.category);
    END""",
    # rows that existed before this revision
    """INSERT INTO knowledge_fts(rowid, title, body, category)
        SELECT id * 2, '', text, category FROM strategy""",
    """INSERT INTO knowledge_fts(rowid, title, body, category)
        SELECT id * 2 + 1, title, text, category FROM mental_model""",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS strategy_fts_ai",
    "DROP TRIGGER IF EXISTS strategy_fts_ad",
    "DROP TRIGGER IF EXISTS strategy_fts_au",
    "DROP TRIGGER IF EXISTS mental_model_fts_ai",
    "DROP TRIGGER IF EXISTS mental_model_fts_ad",
    "DROP TRIGGER IF EXISTS mental_model_fts_au",
    "DROP TABLE IF EXISTS knowledge_fts",
]

# Keep these expressions identical to knowledge/retrieval.py, or PostgreSQL will not use them.
_PG_UP = [
    """CREATE INDEX IF NOT EXISTS ix_strategy_fts ON strategy USING GIN (
        to_tsvector('english', coalesce(category, '') || ' ' || coalesce(text, '')))""",
    """CREATE INDEX IF NOT EXISTS ix_mental_model_fts ON mental_model USING GIN (
        to_tsvector('english', coalesce(title, '') || ' ' || coalesce(category, '') || ' '
                    || coalesce(text, '')))""",
]

_PG_DOWN = [
    "DROP INDEX IF EXISTS ix_strategy_fts",
    "DROP INDEX IF EXISTS ix_mental_model_fts",
]


def _statements(up: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return _SQLITE_UP if up else _SQLITE_DOWN
    if dialect == "postgresql":
        return _PG_UP if up else _PG_DOWN
    return []  # other databases: retrieval falls back to ranking in Python


def upgrade() -> None:
    for sql in _statements(up=True):
        op.execute(sql)


def downgrade() -> None:
    for sql in _statements(up=False):
        op.execute(sql)
