"""deal ROI keys at fixed-cost levels: expression indexes for exact, tight ROI sort windows

A user's ROI order is the order of (List at − fees) / (price + K) with K = fixed costs /
(1 + tax). Deal search (tools/deals/search/) walks the index whose level is nearest the
user's K; the bounds that keep the result exact are proven there. Expressions over the stored
inputs, so they can never be stale. Same text as tools/models.py `roi_level_sql` (hand-written
here so the migration stays fixed when the models change). IF [NOT] EXISTS: a later
regenerated 0001 already has them.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEVELS = {
    "ix_deal_roi_k15": ("1.5", "0.6"),
    "ix_deal_roi_k35": ("3.5", "1.4"),
    "ix_deal_roi_k60": ("6.0", "2.4"),
    "ix_deal_roi_k100": ("10.0", "4.0"),
}


def upgrade() -> None:
    for name, (plain, included) in _LEVELS.items():
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON deal (((list_at - amz_fees) / "
            f"(CASE WHEN price_now > 0 THEN price_now ELSE 0.0 END + "
            f"CASE WHEN shipping_included THEN {included} ELSE {plain} END)))"
        )


def downgrade() -> None:
    for name in _LEVELS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
