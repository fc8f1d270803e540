"""deal.root_category_id: 64-bit

Keepa's category ids are Amazon browse-node ids, and many pass 2**31 (2335752011 is Cell Phones,
a root a book can be filed under); PostgreSQL's INTEGER refused such a deal's row. SQLite's
INTEGER is already 64-bit, so only PostgreSQL changes (no table rebuild there).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "deal", "root_category_id", type_=sa.BigInteger(), existing_type=sa.Integer()
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Rows past 2**31 would not fit back: they lose their root category, not the deal.
        op.execute("UPDATE deal SET root_category_id = NULL WHERE root_category_id > 2147483647")
        op.alter_column(
            "deal", "root_category_id", type_=sa.Integer(), existing_type=sa.BigInteger()
        )
