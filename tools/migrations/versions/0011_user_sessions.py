"""user: token_version and disabled, so sign-in sessions can be ended

A chat session's token names the account's token version; changing the password, the role,
disabling the account or signing out bumps it, and every request and chat turn compares the
two, so an old token stops working at once instead of living out its lifetime.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: SQLite adds a NOT NULL column with a constant default in
    # place, while a batch rebuild drops `user`, and with foreign keys on that DROP cascades to
    # user_credential and user_restriction (every stored credential and gating result lost).
    op.add_column(
        "user", sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "user", sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("disabled")
        batch_op.drop_column("token_version")
