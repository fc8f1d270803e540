"""the seller's Amazon data: FBA inventory, orders and their items, financial events, sync
checkpoints (issue 19)

Per-seller rows (user_id, cascade on user delete), each with the natural key that makes a
re-run or a crash mid-page an idempotent upsert: fba_inventory (user, sku), seller_order
(user, order), seller_order_item (user, order, order item), financial_event (user, kind,
order, item key, posted at); spapi_sync holds each stream's resumable checkpoint.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sqlmodel.sql.sqltypes.UTCDateTime
_STR = sqlmodel.sql.sqltypes.AutoString


def _owner() -> sa.Column[int]:
    return sa.Column("user_id", sa.Integer(), nullable=False)


def _owner_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "fba_inventory",
        sa.Column("id", sa.Integer(), nullable=False),
        _owner(),
        sa.Column("sku", _STR(length=100), nullable=False),
        sa.Column("asin", _STR(length=16), nullable=True),
        sa.Column("fnsku", _STR(length=16), nullable=True),
        sa.Column("condition", _STR(length=40), nullable=True),
        sa.Column("product_name", sa.Text(), nullable=True),
        sa.Column("fulfillable", sa.Integer(), nullable=False),
        sa.Column("inbound_working", sa.Integer(), nullable=False),
        sa.Column("inbound_shipped", sa.Integer(), nullable=False),
        sa.Column("inbound_receiving", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("unfulfillable", sa.Integer(), nullable=False),
        sa.Column("researching", sa.Integer(), nullable=False),
        sa.Column("total_quantity", sa.Integer(), nullable=False),
        sa.Column("amazon_updated_at", _UTC(), nullable=True),
        sa.Column("seen_at", _UTC(), nullable=False),
        sa.Column("updated_at", _UTC(), nullable=False),
        _owner_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "sku", name="uq_fba_inventory_user_sku"),
    )
    op.create_index("ix_fba_inventory_user_asin", "fba_inventory", ["user_id", "asin"])

    op.create_table(
        "seller_order",
        sa.Column("id", sa.Integer(), nullable=False),
        _owner(),
        sa.Column("amazon_order_id", _STR(length=32), nullable=False),
        sa.Column("purchase_date", _UTC(), nullable=False),
        sa.Column("last_update_date", _UTC(), nullable=False),
        sa.Column("status", _STR(length=32), nullable=False),
        sa.Column("fulfillment_channel", _STR(length=8), nullable=True),
        sa.Column("order_total", sa.Float(), nullable=True),
        sa.Column("currency", _STR(length=3), nullable=True),
        sa.Column("items_shipped", sa.Integer(), nullable=True),
        sa.Column("items_unshipped", sa.Integer(), nullable=True),
        sa.Column("marketplace_id", _STR(length=20), nullable=True),
        sa.Column("items_fetched_at", _UTC(), nullable=True),
        sa.Column("items_fetched_status", _STR(length=32), nullable=True),
        sa.Column("updated_at", _UTC(), nullable=False),
        _owner_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "amazon_order_id", name="uq_seller_order_user_order"),
    )
    op.create_index("ix_seller_order_user_purchase", "seller_order", ["user_id", "purchase_date"])

    op.create_table(
        "seller_order_item",
        sa.Column("id", sa.Integer(), nullable=False),
        _owner(),
        sa.Column("amazon_order_id", _STR(length=32), nullable=False),
        sa.Column("order_item_id", _STR(length=64), nullable=False),
        sa.Column("asin", _STR(length=16), nullable=False),
        sa.Column("sku", _STR(length=100), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("quantity_ordered", sa.Integer(), nullable=False),
        sa.Column("quantity_shipped", sa.Integer(), nullable=False),
        sa.Column("item_price", sa.Float(), nullable=True),
        sa.Column("item_tax", sa.Float(), nullable=True),
        sa.Column("shipping_price", sa.Float(), nullable=True),
        sa.Column("promotion_discount", sa.Float(), nullable=True),
        sa.Column("currency", _STR(length=3), nullable=True),
        sa.Column("condition_id", _STR(length=20), nullable=True),
        sa.Column("condition_subtype_id", _STR(length=20), nullable=True),
        sa.Column("updated_at", _UTC(), nullable=False),
        _owner_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "user_id", "amazon_order_id", "order_item_id", name="uq_seller_order_item_key"
        ),
    )
    op.create_index("ix_seller_order_item_user_sku", "seller_order_item", ["user_id", "sku"])

    op.create_table(
        "financial_event",
        sa.Column("id", sa.Integer(), nullable=False),
        _owner(),
        sa.Column("kind", _STR(length=20), nullable=False),
        sa.Column("amazon_order_id", _STR(length=32), nullable=False),
        sa.Column("item_key", _STR(length=64), nullable=False),
        sa.Column("posted_at", _UTC(), nullable=False),
        sa.Column("sku", _STR(length=100), nullable=True),
        sa.Column("order_item_id", _STR(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("principal", sa.Float(), nullable=False),
        sa.Column("shipping", sa.Float(), nullable=False),
        sa.Column("tax", sa.Float(), nullable=False),
        sa.Column("other_charges", sa.Float(), nullable=False),
        sa.Column("promotions", sa.Float(), nullable=False),
        sa.Column("tax_withheld", sa.Float(), nullable=False),
        sa.Column("fees_total", sa.Float(), nullable=False),
        sa.Column("net", sa.Float(), nullable=False),
        sa.Column("charges", sa.JSON(), nullable=True),
        sa.Column("fees", sa.JSON(), nullable=True),
        sa.Column("currency", _STR(length=3), nullable=True),
        sa.Column("created_at", _UTC(), nullable=False),
        _owner_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "user_id",
            "kind",
            "amazon_order_id",
            "item_key",
            "posted_at",
            name="uq_financial_event_key",
        ),
    )
    op.create_index("ix_financial_event_user_posted", "financial_event", ["user_id", "posted_at"])
    op.create_index(
        "ix_financial_event_user_sku", "financial_event", ["user_id", "sku", "posted_at"]
    )

    op.create_table(
        "spapi_sync",
        _owner(),
        sa.Column("stream", _STR(length=20), nullable=False),
        sa.Column("phase", _STR(length=20), nullable=False),
        sa.Column("window_start", _UTC(), nullable=True),
        sa.Column("window_end", _UTC(), nullable=True),
        sa.Column("next_token", sa.Text(), nullable=True),
        sa.Column("watermark", _UTC(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("last_run_at", _UTC(), nullable=True),
        sa.Column("last_success_at", _UTC(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", _UTC(), nullable=True),
        sa.Column("info", sa.JSON(), nullable=True),
        sa.Column("updated_at", _UTC(), nullable=False),
        _owner_fk(),
        sa.PrimaryKeyConstraint("user_id", "stream"),
    )


def downgrade() -> None:
    op.drop_table("spapi_sync")
    op.drop_table("financial_event")
    op.drop_table("seller_order_item")
    op.drop_table("seller_order")
    op.drop_table("fba_inventory")
