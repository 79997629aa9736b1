"""A covering index for the history queries (monitor/store/queries.py).

The state machine, uptime windows, recent points and latest-check queries read only these
columns of `check`; with them in one index, ordered by resource and time, both SQLite and
PostgreSQL answer from the index without sorting or reading the wide rows (scraped metadata),
which is what made reports slow on long histories. It replaces the (resource_id, checked_at)
index, a prefix of it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["resource_id", "checked_at", "id", "run_id", "verdict", "elapsed_ms"]


def upgrade() -> None:
    op.create_index("ix_check_history", "check", COLUMNS)
    op.drop_index("ix_check_resource_checked", table_name="check")


def downgrade() -> None:
    op.create_index("ix_check_resource_checked", "check", ["resource_id", "checked_at"])
    op.drop_index("ix_check_history", table_name="check")
