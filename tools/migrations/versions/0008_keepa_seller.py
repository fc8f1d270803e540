"""keepa_seller: cached /seller/ feedback for the seller-quality score

The processor looks up the Price Now seller of every deal it fetched offers for (1 token per
seller) and keeps the answer here with its fetch time, so a seller is paid for once per
refresh age, not once per deal.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "keepa_seller",
        sa.Column("seller_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("rating_pct", sa.Integer(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seller_id"),
    )


def downgrade() -> None:
    op.drop_table("keepa_seller")
