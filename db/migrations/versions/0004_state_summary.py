"""Each resource's state kept as runs are recorded: `resource_summary` and `state_change`.

Reports read these instead of running the state machine over the whole history on every
read (issue 14; monitor/store/summary.py). The upgrade fills them from the stored checks with
the default `down_after` (2); a catalog with another one rebuilds them on its next run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resource_summary",
        sa.Column("resource_id", sa.String(), primary_key=True),
        sa.Column("down_after", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("flags", sa.String(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.Column("recent_from", sa.DateTime(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("lines_from", sa.DateTime(), nullable=True),
        sa.Column("spark", sa.JSON(), nullable=False),
        sa.Column("first_usable", sa.DateTime(), nullable=True),
        sa.Column("usable", sa.Integer(), nullable=False),
        sa.Column("ignored", sa.Integer(), nullable=False),
    )
    op.create_table(
        "state_change",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.String(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_state_change_resource", "state_change", ["resource_id", "checked_at", "id"])
    from monitor.store.summary import DEFAULT_DOWN_AFTER, rebuild

    rebuild(op.get_bind(), None, DEFAULT_DOWN_AFTER, first_ms=False)  # 0005 adds that column


def downgrade() -> None:
    op.drop_index("ix_state_change_resource", table_name="state_change")
    op.drop_table("state_change")
    op.drop_table("resource_summary")
