"""chainlit history: JSON columns as JSONB on PostgreSQL (no change on SQLite)

Chainlit's thread list groups threads by every column, metadata included
(`get_all_user_threads`), and PostgreSQL has no equality operator for `json`: listing or
resuming a chat failed there ("could not identify an equality operator for type json").
Chainlit's own schema uses JSONB for these columns.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("users", "metadata"),
    ("threads", "metadata"),
    ("steps", "metadata"),
    ("steps", "generation"),
    ("steps", "modes"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.execute(
            f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE JSONB USING "{column}"::jsonb'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE JSON USING "{column}"::json')
