"""deal title/author/category full-text index (hand-written: autogenerate cannot express it)

SQLite: an external-content FTS5 table over deal(title, author, category_path), kept in sync by
triggers (an upsert's DO UPDATE fires the update trigger), so deal search's text and category
filters read a few index pages instead of every row (tools/deals/search/). PostgreSQL: the
search uses ILIKE; nothing to create here.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS deal_fts USING fts5(
        title, author, category_path, content = 'deal', content_rowid = 'rowid')""",
    """CREATE TRIGGER IF NOT EXISTS deal_fts_ai AFTER INSERT ON deal BEGIN
        INSERT INTO deal_fts(rowid, title, author, category_path)
        VALUES (new.rowid, new.title, new.author, new.category_path);
    END""",
    """CREATE TRIGGER IF NOT EXISTS deal_fts_ad AFTER DELETE ON deal BEGIN
        INSERT INTO deal_fts(deal_fts, rowid, title, author, category_path)
        VALUES ('delete', old.rowid, old.title, old.author, old.category_path);
    END""",
    """CREATE TRIGGER IF NOT EXISTS deal_fts_au AFTER UPDATE OF title, author, category_path
        ON deal BEGIN
        INSERT INTO deal_fts(deal_fts, rowid, title, author, category_path)
        VALUES ('delete', old.rowid, old.title, old.author, old.category_path);
        INSERT INTO deal_fts(rowid, title, author, category_path)
        VALUES (new.rowid, new.title, new.author, new.category_path);
    END""",
    "INSERT INTO deal_fts(deal_fts) VALUES ('rebuild')",  # rows from before this revision
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS deal_fts_ai",
    "DROP TRIGGER IF EXISTS deal_fts_ad",
    "DROP TRIGGER IF EXISTS deal_fts_au",
    "DROP TABLE IF EXISTS deal_fts",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for sql in _SQLITE_UP:
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for sql in _SQLITE_DOWN:
            op.execute(sql)
