"""Every query of the stationed service."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from township_stationed.models import StationedUnitRow


async def units(
    session: AsyncSession, township: str | None, department: str | None
) -> list[StationedUnitRow]:
    """Units of a township, or (for a county department) its units in every township."""
    query = select(StationedUnitRow).order_by(StationedUnitRow.township_id, StationedUnitRow.code)
    if township:
        query = query.where(StationedUnitRow.township_id == township)
    if department:
        query = query.where(StationedUnitRow.department == department)
    return list(await session.scalars(query))
