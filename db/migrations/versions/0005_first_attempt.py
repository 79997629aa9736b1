"""The response time of a check: its first request's first attempt (`check.first_ms`).

`elapsed_ms` covers the whole check (retries, backoffs, redirects, a confirming GET), so a
site that answered a 503 once and then 200 after a backoff showed seconds on the page's
response-time line. Older checks have no first attempt recorded: reports use their
`elapsed_ms`, as they did (issue 14). The summaries' response times already are that
fallback for them, so nothing is rebuilt.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check") as batch:
        batch.add_column(sa.Column("first_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("check") as batch:
        batch.drop_column("first_ms")
