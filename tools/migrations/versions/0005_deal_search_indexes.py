"""deal search indexes that let a search stop early (hand-written, idempotent)

Deal search (tools/deals/search/) walks an index in sort order and stops after offset + limit
matches instead of computing every matching row. Money sorts walk the stored policy-default
money (roi/profit/margin_default first, then every per-user money input, so no table reads);
plain sorts walk (column, asin) in the ORDER BY's direction; max(price_now) bounds the profit
window. The old (status, ...) indexes could only be range-scanned, so they go.
IF [NOT] EXISTS: a later regenerated 0001 (make migration-initial) already has these.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = "status, price_now, list_at, amz_fees, shipping_included"
_FILTERS = (
    "sales_rank, rank_drops_30, rank_drops_90, rank_drops_365, percent_down, "
    "peak_mask, seasonality, amazon_offer, condition, updated_at"
)
_CREATE = {
    "ix_deal_roi_cover": f"roi_default, {_MONEY}, {_FILTERS}, asin",
    "ix_deal_profit_cover": f"profit_default, {_MONEY}, asin",
    "ix_deal_margin_cover": f"margin_default, {_MONEY}, asin",
    "ix_deal_rank_asin": "sales_rank, asin",
    "ix_deal_drops_asin": "rank_drops_30 DESC, asin",
    "ix_deal_updated_asin": "updated_at DESC, asin",
    "ix_deal_percent_down_asin": "percent_down DESC, asin",
    "ix_deal_price": "price_now",
}
_OLD = {
    "ix_deal_visible_roi": f"status, roi_default, price_now, list_at, amz_fees, "
    f"shipping_included, {_FILTERS}, asin",
    "ix_deal_visible_profit": "status, profit_default",
    "ix_deal_sales_rank": "sales_rank",
    "ix_deal_updated": "updated_at",
}


def upgrade() -> None:
    for name in _OLD:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, cols in _CREATE.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON deal ({cols})")


def downgrade() -> None:
    for name in _CREATE:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, cols in _OLD.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON deal ({cols})")
