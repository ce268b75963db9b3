"""hearing schedule: when, where, who presides, public or closed (第六十四条)

Revision ID: 3a9c1e7d5b20
Revises: f5ccdf1bd502
Create Date: 2026-11-28 02:30:00.000000

A requested hearing is now scheduled before it is held: the party is told its time and place
7 working days ahead, it is public unless a secret or privacy is at stake, and someone who did
not investigate the case presides. Existing cases get an empty schedule.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3a9c1e7d5b20"
down_revision: str | None = "f5ccdf1bd502"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column(
            "hearing",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )


def downgrade() -> None:
    op.drop_column("cases", "hearing")
