"""chainlit chat history tables (hand-written: they belong to Chainlit, not to our models)

Chainlit's SQLAlchemy data layer writes raw SQL against these exact quoted camelCase column
names. Ids are text (uuid strings) and JSON values are JSON, so the same tables work on SQLite
and PostgreSQL. `threads.tags` is JSON-encoded text (the data layer subclass in
chat_ui/data_layer.py encodes it), because SQLite has no array type. `steps` carries every
StepDict key Chainlit 2.x sends (autoCollapse, defaultOpen, icon, modes, command), since the
data layer inserts whatever keys a step has.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("identifier", sa.Text, nullable=False, unique=True),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("createdAt", sa.Text),
    )
    op.create_table(
        "threads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("createdAt", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("userId", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("userIdentifier", sa.Text),
        sa.Column("tags", sa.Text),
        sa.Column("metadata", sa.JSON),
    )
    op.create_index("ix_threads_userId", "threads", ["userId"])
    op.create_table(
        "steps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column(
            "threadId",
            sa.String(36),
            sa.ForeignKey("threads.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("parentId", sa.String(36)),
        sa.Column("streaming", sa.Boolean, nullable=False),
        sa.Column("waitForAnswer", sa.Boolean),
        sa.Column("isError", sa.Boolean),
        sa.Column("metadata", sa.JSON),
        sa.Column("tags", sa.Text),
        sa.Column("input", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("createdAt", sa.Text),
        sa.Column("command", sa.Text),
        sa.Column("modes", sa.JSON),
        sa.Column("start", sa.Text),
        sa.Column("end", sa.Text),
        sa.Column("generation", sa.JSON),
        sa.Column("showInput", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("indent", sa.Integer),
        sa.Column("defaultOpen", sa.Boolean),
        sa.Column("autoCollapse", sa.Boolean),
        sa.Column("icon", sa.Text),
    )
    op.create_index("ix_steps_threadId", "steps", ["threadId"])
    op.create_table(
        "elements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("threadId", sa.String(36), sa.ForeignKey("threads.id", ondelete="CASCADE")),
        sa.Column("type", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("chainlitKey", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("display", sa.Text),
        sa.Column("objectKey", sa.Text),
        sa.Column("size", sa.Text),
        sa.Column("page", sa.Integer),
        sa.Column("language", sa.Text),
        sa.Column("forId", sa.String(36)),
        sa.Column("mime", sa.Text),
        sa.Column("props", sa.Text),
        sa.Column("autoPlay", sa.Boolean),
        sa.Column("playerConfig", sa.Text),
    )
    op.create_index("ix_elements_threadId", "elements", ["threadId"])
    op.create_table(
        "feedbacks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("forId", sa.String(36), nullable=False),
        sa.Column(
            "threadId",
            sa.String(36),
            sa.ForeignKey("threads.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text),
    )


def downgrade() -> None:
    for table in ("feedbacks", "elements", "steps", "threads", "users"):
        op.drop_table(table)
