"""buy_list_item and purchase: the seller's buy list and the units they bought

A buy list row keeps the deal's numbers when it was added (to flag deals that got worse); a
purchase keeps what the seller paid, their money settings then, the app's prediction at
purchase (List at, fees, minimum list price, profit, days to sell) and, maintained by the FIFO
matching of sales, what it realized.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "buy_list_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asin", _S(length=10), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("condition", _S(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("price_at_add", sa.Float(), nullable=True),
        sa.Column("list_at_at_add", sa.Float(), nullable=True),
        sa.Column("profit_at_add", sa.Float(), nullable=True),
        sa.Column("roi_at_add", sa.Float(), nullable=True),
        sa.Column("added_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "asin", name="uq_buy_list_user_asin"),
    )
    op.create_table(
        "purchase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asin", _S(length=10), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("category", _S(), nullable=True),
        sa.Column("seasonality", _S(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Float(), nullable=False),
        sa.Column("condition", _S(length=32), nullable=False),
        sa.Column("purchased_at", _T(), nullable=False),
        sa.Column("sku", _S(length=40), nullable=True),
        sa.Column("order_number", _S(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("tax_pct", sa.Float(), nullable=False),
        sa.Column("prep_fee", sa.Float(), nullable=False),
        sa.Column("inbound_shipping", sa.Float(), nullable=False),
        sa.Column("markup_pct", sa.Float(), nullable=False),
        sa.Column("list_at_pred", sa.Float(), nullable=True),
        sa.Column("referral_pct_pred", sa.Float(), nullable=True),
        sa.Column("referral_min_pred", sa.Float(), nullable=True),
        sa.Column("fba_fee_pred", sa.Float(), nullable=True),
        sa.Column("closing_fee_pred", sa.Float(), nullable=True),
        sa.Column("sales_per_year_pred", sa.Float(), nullable=True),
        sa.Column("amz_fees_pred", sa.Float(), nullable=True),
        sa.Column("break_even_price", sa.Float(), nullable=True),
        sa.Column("min_list_price", sa.Float(), nullable=True),
        sa.Column("profit_pred", sa.Float(), nullable=True),
        sa.Column("days_to_sell_pred", sa.Float(), nullable=True),
        sa.Column("units_sold", sa.Integer(), server_default="0", nullable=False),
        sa.Column("realized_profit", sa.Float(), server_default="0", nullable=False),
        sa.Column("days_to_sell_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("last_sold_at", _T(), nullable=True),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_purchase_user_bought", "purchase", ["user_id", "purchased_at", "id"])
    op.create_index("ix_purchase_user_sku", "purchase", ["user_id", "sku"])
    op.create_index("ix_purchase_user_asin", "purchase", ["user_id", "asin", "condition"])


def downgrade() -> None:
    op.drop_index("ix_purchase_user_asin", table_name="purchase")
    op.drop_index("ix_purchase_user_sku", table_name="purchase")
    op.drop_index("ix_purchase_user_bought", table_name="purchase")
    op.drop_table("purchase")
    op.drop_table("buy_list_item")
