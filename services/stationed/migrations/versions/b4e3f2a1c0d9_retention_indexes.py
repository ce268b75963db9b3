"""indexes for the retention sweep of the inbox and the Idempotency-Keys

Revision ID: b4e3f2a1c0d9
Revises: 084ce5245f82
Create Date: 2026-11-28 05:00:00.000000

The service forgets inbox rows and Idempotency-Keys past their retention
(township_platform.retention); BRIN indexes on their timestamps let it find them without
reading the tables, at almost no cost per insert.
"""

from collections.abc import Sequence

from alembic import op

from township_platform.migrations import create_retention_indexes, drop_retention_indexes

revision: str = "b4e3f2a1c0d9"
down_revision: str | None = "084ce5245f82"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_retention_indexes(op.get_bind())


def downgrade() -> None:
    drop_retention_indexes(op.get_bind())
