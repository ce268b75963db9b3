"""Every query of the enforcement service."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from township_enforcement.models import EnforcementItemRow, EntrustmentRow


async def entrustments_valid_on(
    session: AsyncSession, township: str, day: date
) -> list[tuple[EntrustmentRow, EnforcementItemRow]]:
    """Entrustments of a township valid on ``day``, with their items."""
    rows = await session.execute(
        select(EntrustmentRow, EnforcementItemRow)
        .join(EnforcementItemRow, EnforcementItemRow.code == EntrustmentRow.item_code)
        .where(
            EntrustmentRow.township_id == township,
            EntrustmentRow.valid_from <= day,
            EntrustmentRow.valid_to >= day,
        )
        .order_by(EntrustmentRow.item_code)
    )
    return [(e, i) for e, i in rows.tuples()]
