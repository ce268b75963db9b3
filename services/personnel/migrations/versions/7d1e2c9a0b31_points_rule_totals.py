"""points rule totals, kept by a trigger (O(1) cap checks)

Revision ID: 7d1e2c9a0b31
Revises: 45b0dd2f9b06
Create Date: 2026-11-27 19:30:00.000000

A capped rule needs the person's running total for the period before every automatic entry.
Summing the ledger costs a scan of every entry of the person (a clerk files thousands of
intakes a year); this table holds the total of the entries that count towards caps (AUTO,
APPROVED, and claims or appeals still pending), maintained in the same transaction by a
trigger on every insert, update and delete of an entry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d1e2c9a0b31"
down_revision: str | None = "45b0dd2f9b06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = "('AUTO', 'APPROVED', 'CLAIMED', 'APPEALED')"


def upgrade() -> None:
    op.create_table(
        "points_rule_totals",
        sa.Column("township_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=128), nullable=False),
        sa.Column("rule_code", sa.String(length=64), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("township_id", "person", "rule_code", "period"),
    )
    op.execute(
        f"""
        CREATE FUNCTION points_rule_totals_apply() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state IN {COUNTED} THEN
            UPDATE points_rule_totals SET total = total - OLD.points
             WHERE township_id = OLD.township_id AND person = OLD.person
               AND rule_code = OLD.rule_code AND period = OLD.period;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state IN {COUNTED} THEN
            INSERT INTO points_rule_totals AS t (township_id, person, rule_code, period, total)
            VALUES (NEW.township_id, NEW.person, NEW.rule_code, NEW.period, NEW.points)
            ON CONFLICT (township_id, person, rule_code, period)
            DO UPDATE SET total = t.total + EXCLUDED.total;
          END IF;
          RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER points_rule_totals AFTER INSERT OR UPDATE OR DELETE ON points_entries "
        "FOR EACH ROW EXECUTE FUNCTION points_rule_totals_apply()"
    )
    op.execute(
        "INSERT INTO points_rule_totals (township_id, person, rule_code, period, total) "
        "SELECT township_id, person, rule_code, period, sum(points) FROM points_entries "
        f"WHERE state IN {COUNTED} GROUP BY township_id, person, rule_code, period"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS points_rule_totals ON points_entries")
    op.execute("DROP FUNCTION IF EXISTS points_rule_totals_apply()")
    op.drop_table("points_rule_totals")
