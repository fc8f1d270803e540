"""fba_inventory (user, fulfillable, sku): "what's in my inventory?" walks the SKUs with most
units first instead of sorting every SKU of the seller

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_fba_inventory_user_fulfillable", "fba_inventory", ["user_id", "fulfillable", "sku"]
    )


def downgrade() -> None:
    op.drop_index("ix_fba_inventory_user_fulfillable", table_name="fba_inventory")
