"""deal (priority DESC, next_refresh_at): the processor's claim walks it instead of sorting

claim_due takes the n most urgent due deals (highest priority, then longest overdue). Without
an index in that order every claim sorted all due deals (a temp B-tree over ~half the table);
with it the scan stops after n rows. Hand-written: autogenerate cannot compare DESC columns.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_deal_claim ON deal (priority DESC, next_refresh_at)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_deal_claim")
