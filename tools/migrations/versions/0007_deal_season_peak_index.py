"""deal (seasonality, peak_mask): "exam prep in season now" answered from the index alone

Deal search probes how many deals have the asked seasonality and peak month before choosing
its plan (tools/deals/search/planner.py `_season_match_count`); with peak_mask in the index
the probe reads no table rows. Replaces the single-column seasonality index.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_deal_season_peak ON deal (seasonality, peak_mask)")
    op.execute("DROP INDEX IF EXISTS ix_deal_seasonality")


def downgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_deal_seasonality ON deal (seasonality)")
    op.execute("DROP INDEX IF EXISTS ix_deal_season_peak")
