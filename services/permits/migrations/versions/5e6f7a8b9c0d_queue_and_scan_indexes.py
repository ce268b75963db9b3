"""indexes for the town queue by state and for the periodic scans

Revision ID: 5e6f7a8b9c0d
Revises: 25853fab9e0c
Create Date: 2026-11-27 19:45:00.000000

At a million applications in a town, the deadline scan, the deemed-acceptance scan and a
town's queue filtered by state each read the table (or a long run of an index) every few
seconds. Partial indexes on the running applications' due dates and on submissions' correction
windows make the scans proportional to what they find; (township, state, id) makes a town's
queue page proportional to the page.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e6f7a8b9c0d"
down_revision: str | None = "25853fab9e0c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = "state IN ('SUBMITTED', 'ACCEPTED', 'IN_REVIEW')"


def upgrade() -> None:
    op.create_index(
        "ix_applications_town_state", "applications", ["township_id", "state", "id"]
    )
    op.execute(
        f"CREATE INDEX ix_applications_running_promised ON applications (promised_due) "
        f"WHERE {RUNNING}"
    )
    op.execute(
        f"CREATE INDEX ix_applications_running_statutory ON applications (statutory_due) "
        f"WHERE {RUNNING}"
    )
    op.execute(
        "CREATE INDEX ix_applications_submitted_window ON applications "
        "(correction_window_from) WHERE state = 'SUBMITTED'"
    )


def downgrade() -> None:
    for name in (
        "ix_applications_submitted_window",
        "ix_applications_running_statutory",
        "ix_applications_running_promised",
        "ix_applications_town_state",
    ):
        op.drop_index(name, table_name="applications")
