"""deal.publisher, searchable; a (price_now, asin) index for "cheapest first"

A seller asks for "anything from Pearson": the publisher (Keepa's `manufacturer`) is stored
and searched like the title and author. SQLite: deal_fts gains a publisher column (an FTS5
table cannot add one, so it and its triggers are rebuilt from deal); PostgreSQL searches with
ILIKE, like the title and author. The price sort walks (price_now, asin) in ORDER BY order and
stops after a page; that index also serves max(price_now), so the plain price_now one goes.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fts(columns: str) -> list[str]:
    """deal_fts over `columns` and the triggers that keep it in step with deal."""
    new = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in columns.split(","))
    return [
        "DROP TRIGGER IF EXISTS deal_fts_ai",
        "DROP TRIGGER IF EXISTS deal_fts_ad",
        "DROP TRIGGER IF EXISTS deal_fts_au",
        "DROP TABLE IF EXISTS deal_fts",
        f"""CREATE VIRTUAL TABLE deal_fts USING fts5(
            {columns}, content = 'deal', content_rowid = 'rowid')""",
        f"""CREATE TRIGGER deal_fts_ai AFTER INSERT ON deal BEGIN
            INSERT INTO deal_fts(rowid, {columns}) VALUES (new.rowid, {new});
        END""",
        f"""CREATE TRIGGER deal_fts_ad AFTER DELETE ON deal BEGIN
            INSERT INTO deal_fts(deal_fts, rowid, {columns})
            VALUES ('delete', old.rowid, {old});
        END""",
        f"""CREATE TRIGGER deal_fts_au AFTER UPDATE OF {columns} ON deal BEGIN
            INSERT INTO deal_fts(deal_fts, rowid, {columns})
            VALUES ('delete', old.rowid, {old});
            INSERT INTO deal_fts(rowid, {columns}) VALUES (new.rowid, {new});
        END""",
        "INSERT INTO deal_fts(deal_fts) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    op.add_column("deal", sa.Column("publisher", sa.String(), nullable=True))
    op.execute("CREATE INDEX IF NOT EXISTS ix_deal_price_asin ON deal (price_now, asin)")
    op.execute("DROP INDEX IF EXISTS ix_deal_price")
    if op.get_bind().dialect.name == "sqlite":
        for sql in _fts("title, author, publisher, category_path"):
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for sql in _fts("title, author, category_path"):
            op.execute(sql)
    op.execute("CREATE INDEX IF NOT EXISTS ix_deal_price ON deal (price_now)")
    op.execute("DROP INDEX IF EXISTS ix_deal_price_asin")
    # plain DROP COLUMN (SQLite >= 3.35): a batch rebuild of deal would drop the triggers above
    op.execute("ALTER TABLE deal DROP COLUMN publisher")
