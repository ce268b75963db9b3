"""Every query of the personnel service."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from township_personnel.models import (
    AssignmentRow,
    DistributionRow,
    OrgUnitRow,
    PeriodRow,
    PersonRow,
    PointsEntryRow,
    PointsRuleRow,
    PointsRuleTotalRow,
    PostRow,
)


def _counting() -> ColumnElement[bool]:
    """SQL twin of domain.ledger.counts()."""
    return or_(
        PointsEntryRow.state.in_(("AUTO", "APPROVED")),
        and_(
            PointsEntryRow.state == "APPEALED",
            PointsEntryRow.appealed_from.in_(("AUTO", "APPROVED")),
        ),
    )


# rules -----------------------------------------------------------------------------------
async def rule(session: AsyncSession, code: str) -> PointsRuleRow | None:
    """A points rule by code."""
    return await session.get(PointsRuleRow, code)


async def rules(session: AsyncSession) -> list[PointsRuleRow]:
    """Every points rule, by code."""
    return list(await session.scalars(select(PointsRuleRow).order_by(PointsRuleRow.code)))


# entries ---------------------------------------------------------------------------------
async def add_entry(session: AsyncSession, entry: PointsEntryRow) -> PointsEntryRow:
    """Insert a claimed entry and return it as stored."""
    session.add(entry)
    await session.flush()
    await session.refresh(entry)
    return entry


async def entry_for_update(
    session: AsyncSession, township: str, entry_id: str
) -> PointsEntryRow | None:
    """An entry of the township, locked for a decision."""
    return await session.scalar(
        select(PointsEntryRow)
        .where(PointsEntryRow.township_id == township, PointsEntryRow.id == entry_id)
        .with_for_update()
    )


async def entry(session: AsyncSession, township: str, entry_id: str) -> PointsEntryRow | None:
    """An entry of the township."""
    return await session.scalar(
        select(PointsEntryRow).where(
            PointsEntryRow.township_id == township, PointsEntryRow.id == entry_id
        )
    )


async def rule_total(
    session: AsyncSession, township: str, person: str, rule_code: str, period: int
) -> Decimal:
    """Points of one rule for one person and period, counted or still pending (for caps).

    Read from the running totals the database keeps (trigger ``points_rule_totals``); the
    states it counts are ``_counting()`` plus claims and appeals still pending.
    """
    total = await session.scalar(
        select(PointsRuleTotalRow.total).where(
            PointsRuleTotalRow.township_id == township,
            PointsRuleTotalRow.person == person,
            PointsRuleTotalRow.rule_code == rule_code,
            PointsRuleTotalRow.period == period,
        )
    )
    return Decimal(total or 0)


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


async def entries_page(
    session: AsyncSession,
    township: str,
    *,
    state: str,
    period: int,
    person: str,
    after: str,
    limit: int,
) -> list[PointsEntryRow]:
    """A page of the township's entries, filtered, in recording order (keyset on id)."""
    query = (
        select(PointsEntryRow)
        .where(PointsEntryRow.township_id == township)
        .order_by(PointsEntryRow.id)
        .limit(limit)
    )
    if state:
        query = query.where(PointsEntryRow.state == state)
    if period:
        query = query.where(PointsEntryRow.period == period)
    if person:
        query = query.where(PointsEntryRow.person == person)
    if after:
        query = query.where(PointsEntryRow.id > after)
    return list(await session.scalars(query))


async def person_for_update(session: AsyncSession, township: str, sub: str) -> PersonRow | None:
    """A member of staff, locked (serialises their claims against the caps)."""
    return await session.scalar(
        select(PersonRow)
        .where(PersonRow.township_id == township, PersonRow.sub == sub)
        .with_for_update()
    )


async def points_total(session: AsyncSession, township: str, person: str) -> Decimal:
    """Sum of a person's counting points in one township."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntryRow.points), 0)).where(
            PointsEntryRow.township_id == township,
            PointsEntryRow.person == person,
            _counting(),
        )
    )
    return Decimal(total or 0)


async def pending_count(session: AsyncSession, township: str, period: int) -> int:
    """Claims and appeals still waiting for a decision in a period."""
    return int(
        await session.scalar(
            select(func.count()).where(
                PointsEntryRow.township_id == township,
                PointsEntryRow.period == period,
                PointsEntryRow.state.in_(("CLAIMED", "APPEALED")),
            )
        )
        or 0
    )


async def points_by_rule(
    session: AsyncSession, township: str, period: int, people: list[str]
) -> dict[str, dict[str, Decimal]]:
    """Counting points of each person for the period, by rule."""
    result: dict[str, dict[str, Decimal]] = defaultdict(dict)
    if not people:
        return result
    rows = await session.execute(
        select(PointsEntryRow.person, PointsEntryRow.rule_code, func.sum(PointsEntryRow.points))
        .where(
            PointsEntryRow.township_id == township,
            PointsEntryRow.period == period,
            PointsEntryRow.person.in_(people),
            _counting(),
        )
        .group_by(PointsEntryRow.person, PointsEntryRow.rule_code)
    )
    for person, rule_code, total in rows:
        result[person][rule_code] = Decimal(total)
    return result


# org units and posts ---------------------------------------------------------------------
async def org_units(session: AsyncSession, township: str) -> list[OrgUnitRow]:
    """A township's bodies, by code."""
    return list(
        await session.scalars(
            select(OrgUnitRow).where(OrgUnitRow.township_id == township).order_by(OrgUnitRow.code)
        )
    )


async def org_unit(session: AsyncSession, township: str, code: str) -> OrgUnitRow | None:
    """One body of a township."""
    return await session.get(OrgUnitRow, (township, code))


async def lock_org_units(session: AsyncSession, township: str) -> int:
    """Lock the township's bodies (serialises creations against the cap); active count."""
    rows = await session.scalars(
        select(OrgUnitRow).where(OrgUnitRow.township_id == township).with_for_update()
    )
    return sum(1 for r in rows if r.active)


async def posts(session: AsyncSession, township: str) -> list[PostRow]:
    """A township's post catalogue."""
    return list(
        await session.scalars(
            select(PostRow).where(PostRow.township_id == township).order_by(PostRow.code)
        )
    )


async def post(session: AsyncSession, township: str, code: str) -> PostRow | None:
    """One post of a township."""
    return await session.get(PostRow, (township, code))


# people and assignments ------------------------------------------------------------------
async def person(session: AsyncSession, township: str, sub: str) -> PersonRow | None:
    """One member of staff."""
    return await session.get(PersonRow, (township, sub))


async def upsert_person(
    session: AsyncSession, township: str, sub: str, name: str, status: str
) -> None:
    """Register a person, or update their name and status."""
    await session.execute(
        pg_insert(PersonRow)
        .values(township_id=township, sub=sub, name=name, status=status)
        .on_conflict_do_update(
            index_elements=["township_id", "sub"], set_={"name": name, "status": status}
        )
    )


async def people_page(
    session: AsyncSession, township: str, after: str, limit: int
) -> list[PersonRow]:
    """A page of a township's staff, by sub."""
    query = (
        select(PersonRow)
        .where(PersonRow.township_id == township)
        .order_by(PersonRow.sub)
        .limit(limit)
    )
    if after:
        query = query.where(PersonRow.sub > after)
    return list(await session.scalars(query))


async def assignments_of(
    session: AsyncSession, township: str, people: list[str]
) -> dict[str, list[AssignmentRow]]:
    """Assignments of some people, oldest first."""
    result: dict[str, list[AssignmentRow]] = defaultdict(list)
    if not people:
        return result
    rows = await session.scalars(
        select(AssignmentRow)
        .where(AssignmentRow.township_id == township, AssignmentRow.person.in_(people))
        .order_by(AssignmentRow.starts_on, AssignmentRow.id)
    )
    for row in rows:
        result[row.person].append(row)
    return result


async def current_assignment(
    session: AsyncSession, township: str, sub: str
) -> AssignmentRow | None:
    """The person's open assignment, locked."""
    return await session.scalar(
        select(AssignmentRow)
        .where(
            AssignmentRow.township_id == township,
            AssignmentRow.person == sub,
            AssignmentRow.ends_on.is_(None),
        )
        .with_for_update()
    )


async def assignment_for_update(
    session: AsyncSession, township: str, assignment_id: str
) -> AssignmentRow | None:
    """One assignment of the township, locked."""
    return await session.scalar(
        select(AssignmentRow)
        .where(AssignmentRow.township_id == township, AssignmentRow.id == assignment_id)
        .with_for_update()
    )


async def add(session: AsyncSession, row: object) -> None:
    """Insert a row."""
    session.add(row)
    await session.flush()


async def assignments_in_year(
    session: AsyncSession, township: str, year: int
) -> list[AssignmentRow]:
    """Assignments overlapping a calendar year, oldest first."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    return list(
        await session.scalars(
            select(AssignmentRow)
            .where(
                AssignmentRow.township_id == township,
                AssignmentRow.starts_on <= end,
                or_(AssignmentRow.ends_on.is_(None), AssignmentRow.ends_on >= start),
            )
            .order_by(AssignmentRow.person, AssignmentRow.starts_on, AssignmentRow.id)
        )
    )


# periods and distributions ---------------------------------------------------------------
async def period(
    session: AsyncSession, township: str, year: int, *, lock: bool = False
) -> PeriodRow | None:
    """A township's appraisal period of ``year``."""
    query = select(PeriodRow).where(PeriodRow.township_id == township, PeriodRow.year == year)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def period_state(session: AsyncSession, township: str, year: int) -> str | None:
    """The state of a period (None when it was never opened), share-locked against finalising."""
    return await session.scalar(
        select(PeriodRow.state)
        .where(PeriodRow.township_id == township, PeriodRow.year == year)
        .with_for_update(read=True)
    )


async def distribution(
    session: AsyncSession, township: str, distribution_id: str
) -> DistributionRow | None:
    """A computed distribution of the township."""
    return await session.scalar(
        select(DistributionRow).where(
            DistributionRow.township_id == township, DistributionRow.id == distribution_id
        )
    )


async def distribution_of(
    session: AsyncSession, township: str, year: int, kind: str
) -> DistributionRow | None:
    """The distribution of one pool kind for a period."""
    return await session.scalar(
        select(DistributionRow).where(
            DistributionRow.township_id == township,
            DistributionRow.year == year,
            DistributionRow.kind == kind,
        )
    )


async def distributions_count(session: AsyncSession, township: str, year: int) -> int:
    """How many distributions a period has."""
    return int(
        await session.scalar(
            select(func.count()).where(
                DistributionRow.township_id == township, DistributionRow.year == year
            )
        )
        or 0
    )
