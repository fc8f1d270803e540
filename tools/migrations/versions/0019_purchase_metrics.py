"""purchase: realized per unit and against the prediction, kept by the matching

realized_per_unit, profit_diff, profit_ratio, avg_days and days_ratio are derived from the
realized sums and the prediction at purchase whenever a purchase's sales are matched; the
calibration and days-to-sell questions average them with one index-only read instead of
dividing every purchase's sums on every question. Filled here for the rows that exist; the
covering index replaces ix_purchase_user_sold_cover.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METRICS = ("realized_per_unit", "profit_diff", "profit_ratio", "avg_days", "days_ratio")


def upgrade() -> None:
    for name in METRICS:
        op.add_column("purchase", sa.Column(name, sa.Float(), nullable=True))
    # float columns divided by an integer: a double on SQLite and PostgreSQL alike
    op.execute(
        "UPDATE purchase SET realized_per_unit = realized_profit / units_sold, "
        "avg_days = days_to_sell_sum / units_sold WHERE units_sold > 0"
    )
    op.execute(
        "UPDATE purchase SET profit_diff = realized_per_unit - profit_pred "
        "WHERE realized_per_unit IS NOT NULL AND profit_pred IS NOT NULL"
    )
    op.execute(
        "UPDATE purchase SET profit_ratio = realized_per_unit / profit_pred "
        "WHERE realized_per_unit IS NOT NULL AND profit_pred > 0"
    )
    op.execute(
        "UPDATE purchase SET days_ratio = avg_days / days_to_sell_pred "
        "WHERE avg_days IS NOT NULL AND days_to_sell_pred > 0"
    )
    op.drop_index("ix_purchase_user_sold_cover", table_name="purchase")
    op.create_index(
        "ix_purchase_user_sold_metrics",
        "purchase",
        [
            "user_id",
            "units_sold",
            "seasonality",
            "avg_days",
            "profit_diff",
            "profit_ratio",
            "days_ratio",
            "realized_profit",
            "profit_pred",
            "days_to_sell_pred",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_purchase_user_sold_metrics", table_name="purchase")
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
    # plain DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop `purchase`, and with
    # foreign keys on that clears every sale_allocation's purchase
    for name in reversed(METRICS):
        op.drop_column("purchase", name)
