"""sale_allocation: sales and refunds matched first-in-first-out to purchases, and their
sums per month (sale_month); purchase
indexes for the realized-profit questions, and (user, id) on financial_event and
seller_order_item ("anything synced since the last matching?")

Each row is some units of one financial event (a sale, a refund, a money-only adjustment)
matched to one purchase (or to none on record) with the money they realized. Derived from
financial_event and purchase by tools/tracking/realized.py, per ASIN, whenever either changes.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "sale_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=True),
        sa.Column("kind", _S(length=12), nullable=False),
        sa.Column("at", _T(), nullable=False),
        sa.Column("month", _S(length=7), nullable=False),
        sa.Column("asin", _S(length=16), nullable=True),
        sa.Column("sku", _S(length=100), nullable=True),
        sa.Column("amazon_order_id", _S(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("sale_price", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("proceeds", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("profit", sa.Float(), nullable=True),
        sa.Column("days_to_sell", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["financial_event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchase.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sale_allocation_user_at",
        "sale_allocation",
        [
            "user_id",
            "at",
            "month",
            "kind",
            "purchase_id",
            "quantity",
            "sale_price",
            "fees",
            "proceeds",
            "profit",
        ],
    )
    op.create_index("ix_sale_allocation_user_asin", "sale_allocation", ["user_id", "asin"])
    op.create_index("ix_sale_allocation_user_sku", "sale_allocation", ["user_id", "sku"])
    op.create_index("ix_sale_allocation_purchase", "sale_allocation", ["purchase_id"])
    op.create_table(
        "sale_month",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("month", _S(length=7), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("sales", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("proceeds", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("profit", sa.Float(), nullable=False),
        sa.Column("unmatched_units", sa.Integer(), nullable=False),
        sa.Column("unmatched_proceeds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "month"),
    )
    op.create_index("ix_financial_event_user_id", "financial_event", ["user_id", "id"])
    op.create_index("ix_seller_order_item_user_id", "seller_order_item", ["user_id", "id"])
    op.create_index("ix_purchase_user_realized", "purchase", ["user_id", "realized_profit"])
    op.create_index("ix_purchase_user_sold", "purchase", ["user_id", "last_sold_at"])
    op.create_index(
        "ix_purchase_user_season_sold", "purchase", ["user_id", "seasonality", "last_sold_at"]
    )
    op.create_index(
        "ix_purchase_user_sold_cover",
        "purchase",
        [
            "user_id",
            "units_sold",
            "seasonality",
            "realized_profit",
            "profit_pred",
            "days_to_sell_sum",
            "days_to_sell_pred",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_seller_order_item_user_id", table_name="seller_order_item")
    op.drop_index("ix_financial_event_user_id", table_name="financial_event")
    op.drop_index("ix_purchase_user_sold_cover", table_name="purchase")
    op.drop_index("ix_purchase_user_season_sold", table_name="purchase")
    op.drop_index("ix_purchase_user_sold", table_name="purchase")
    op.drop_index("ix_purchase_user_realized", table_name="purchase")
    op.drop_table("sale_month")
    op.drop_table("sale_allocation")
