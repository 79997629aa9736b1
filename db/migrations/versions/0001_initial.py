"""Initial schema: resources, runs, checks.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resource",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("section", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_resource_url", "resource", ["url"])
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("network_ok", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
    )
    op.create_index("ix_run_started_at", "run", ["started_at"])
    op.create_table(
        "check",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("run.id"), nullable=False),
        sa.Column("resource_id", sa.String(), sa.ForeignKey("resource.id"), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("checker", sa.String(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.String(), nullable=True),
        sa.Column("redirect_chain", sa.JSON(), nullable=True),
        sa.Column("elapsed_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("moved_to", sa.String(), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("network_failure", sa.Boolean(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=True),
    )
    op.create_index("ix_check_run_id", "check", ["run_id"])
    op.create_index("ix_check_resource_id", "check", ["resource_id"])
    op.create_index("ix_check_verdict", "check", ["verdict"])
    op.create_index("ix_check_resource_checked", "check", ["resource_id", "checked_at"])


def downgrade() -> None:
    op.drop_table("check")
    op.drop_table("run")
    op.drop_table("resource")
