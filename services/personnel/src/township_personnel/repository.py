"""Every query of the personnel service."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from township_personnel.models import OrgUnitRow, PersonRow, PointsEntryRow, PointsRuleRow


async def rule(session: AsyncSession, code: str) -> PointsRuleRow | None:
    """A points rule by code."""
    return await session.get(PointsRuleRow, code)


async def record_entry(session: AsyncSession, entry: PointsEntryRow) -> bool:
    """Insert an automatic entry; False when the same event already produced it."""
    values = {c.name: getattr(entry, c.name) for c in PointsEntryRow.__table__.columns}
    values = {k: v for k, v in values.items() if v is not None or k == "source_event_id"}
    values.pop("recorded_at", None)
    result = await session.execute(
        pg_insert(PointsEntryRow)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_points_event_rule")
        .returning(PointsEntryRow.id)
    )
    return result.first() is not None


async def person_known(session: AsyncSession, township: str, person: str) -> bool:
    """True when ``person`` is staff of ``township`` or has ledger entries there."""
    if await session.get(PersonRow, (township, person)):
        return True
    found = await session.scalar(
        select(PointsEntryRow.id)
        .where(PointsEntryRow.township_id == township, PointsEntryRow.person == person)
        .limit(1)
    )
    return found is not None


async def points_page(
    session: AsyncSession, township: str, person: str, after: str, limit: int
) -> list[PointsEntryRow]:
    """A page of a person's entries in one township, in recording order (keyset on id)."""
    query = (
        select(PointsEntryRow)
        .where(PointsEntryRow.township_id == township, PointsEntryRow.person == person)
        .order_by(PointsEntryRow.id)
        .limit(limit)
    )
    if after:
        query = query.where(PointsEntryRow.id > after)
    return list(await session.scalars(query))


async def points_total(session: AsyncSession, township: str, person: str) -> Decimal:
    """Sum of a person's non-rejected points in one township."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntryRow.points), 0)).where(
            PointsEntryRow.township_id == township,
            PointsEntryRow.person == person,
            PointsEntryRow.state.in_(("AUTO", "APPROVED")),
        )
    )
    return Decimal(total or 0)


async def org_units(session: AsyncSession, township: str) -> list[OrgUnitRow]:
    """A township's bodies, by code."""
    return list(
        await session.scalars(
            select(OrgUnitRow).where(OrgUnitRow.township_id == township).order_by(OrgUnitRow.code)
        )
    )
