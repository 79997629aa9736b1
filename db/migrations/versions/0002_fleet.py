"""Fleet runs: the shards a run waits for, and one row per shard that reported.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_run",
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("run.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("shards", sa.JSON(), nullable=False),
        sa.Column("lists", sa.JSON(), nullable=False),
    )
    # The primary key (run_id, shard) is the idempotency key: a shard's results for a run are
    # written once, whatever the broker redelivers.
    op.create_table(
        "run_shard",
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("run.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("shard", sa.String(), primary_key=True),
        sa.Column("worker", sa.String(), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("hosts", sa.Integer(), nullable=False),
        sa.Column("hosts_down", sa.Integer(), nullable=False),
        sa.Column("network_ok", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_shard")
    op.drop_table("fleet_run")
