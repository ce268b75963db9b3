"""Every query of the stationed service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from township_stationed.domain.matrix import DEFAULT_MATRIX, Responsibility
from township_stationed.models import (
    AppraisalRow,
    AttendanceRow,
    BudgetLineRow,
    FundingEntryRow,
    MatrixRow,
    RedeploymentRow,
    StaffRow,
    StationedUnitRow,
    TrainingRow,
)


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


async def unit(session: AsyncSession, township: str, code: str) -> StationedUnitRow | None:
    """One unit."""
    return await session.get(StationedUnitRow, (township, code))


async def matrix(session: AsyncSession, township: str) -> dict[str, Responsibility]:
    """The township's responsibility matrix (defaults for functions it does not configure)."""
    rows = await session.scalars(select(MatrixRow).where(MatrixRow.township_id == township))
    result = dict(DEFAULT_MATRIX)
    for r in rows:
        result[r.function] = Responsibility(r.decides, r.advises, r.informed)
    return result


async def set_matrix_row(
    session: AsyncSession, township: str, function: str, row: Responsibility
) -> None:
    """Configure one function of a township's matrix."""
    values = {"decides": row.decides, "advises": row.advises, "informed": row.informed}
    await session.execute(
        pg_insert(MatrixRow)
        .values(township_id=township, function=function, **values)
        .on_conflict_do_update(index_elements=["township_id", "function"], set_=values)
    )


async def add(session: AsyncSession, row: object) -> None:
    """Insert a row."""
    session.add(row)
    await session.flush()


# staff -----------------------------------------------------------------------------------
async def staff(
    session: AsyncSession, township: str, person: str, *, lock: bool = False
) -> StaffRow | None:
    """One stationed person of a township."""
    query = select(StaffRow).where(StaffRow.township_id == township, StaffRow.person == person)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def staff_of_unit(session: AsyncSession, township: str, code: str) -> list[StaffRow]:
    """A unit's people."""
    return list(
        await session.scalars(
            select(StaffRow)
            .where(StaffRow.township_id == township, StaffRow.unit_code == code)
            .order_by(StaffRow.person)
        )
    )


# funding ---------------------------------------------------------------------------------
async def budget_line(
    session: AsyncSession, line_id: str, *, lock: bool = False
) -> BudgetLineRow | None:
    """A budget line; locked for a movement (serialises concurrent disbursements)."""
    query = select(BudgetLineRow).where(BudgetLineRow.id == line_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def budget_line_by_key(
    session: AsyncSession, township: str, unit_code: str, person: str, year: int, category: str
) -> BudgetLineRow | None:
    """The line for (unit, person, year, category), if opened."""
    return await session.scalar(
        select(BudgetLineRow).where(
            BudgetLineRow.township_id == township,
            BudgetLineRow.unit_code == unit_code,
            BudgetLineRow.person == person,
            BudgetLineRow.year == year,
            BudgetLineRow.category == category,
        )
    )


async def budget_lines(
    session: AsyncSession, township: str, unit_code: str, year: int
) -> list[BudgetLineRow]:
    """A unit's lines (of one year, or every year when ``year`` is 0)."""
    query = select(BudgetLineRow).where(
        BudgetLineRow.township_id == township, BudgetLineRow.unit_code == unit_code
    )
    if year:
        query = query.where(BudgetLineRow.year == year)
    return list(
        await session.scalars(
            query.order_by(BudgetLineRow.year, BudgetLineRow.person, BudgetLineRow.category)
        )
    )


async def movements(session: AsyncSession, line_id: str) -> list[FundingEntryRow]:
    """A line's ledger, oldest first."""
    return list(
        await session.scalars(
            select(FundingEntryRow)
            .where(FundingEntryRow.line_id == line_id)
            .order_by(FundingEntryRow.id)
        )
    )


async def funding_entry(session: AsyncSession, entry_id: str) -> FundingEntryRow | None:
    """One ledger entry."""
    return await session.get(FundingEntryRow, entry_id)


async def remaining(session: AsyncSession, line_id: str) -> Decimal:
    """What remains on a line."""
    return sum((m.amount for m in await movements(session, line_id)), Decimal("0.00"))


# attendance, appraisal, training ---------------------------------------------------------
async def attendance_between(
    session: AsyncSession, township: str, unit_code: str, start: date, end: date
) -> list[AttendanceRow]:
    """A unit's attendance records in a date range."""
    return list(
        await session.scalars(
            select(AttendanceRow).where(
                AttendanceRow.township_id == township,
                AttendanceRow.unit_code == unit_code,
                AttendanceRow.day >= start,
                AttendanceRow.day <= end,
            )
        )
    )


async def attendance_on(
    session: AsyncSession, township: str, person: str, day: date
) -> AttendanceRow | None:
    """A person's record for one day."""
    return await session.scalar(
        select(AttendanceRow).where(
            AttendanceRow.township_id == township,
            AttendanceRow.person == person,
            AttendanceRow.day == day,
        )
    )


async def appraisals(session: AsyncSession, township: str, unit_code: str) -> list[AppraisalRow]:
    """A unit's appraisals."""
    return list(
        await session.scalars(
            select(AppraisalRow)
            .where(AppraisalRow.township_id == township, AppraisalRow.unit_code == unit_code)
            .order_by(AppraisalRow.period, AppraisalRow.person)
        )
    )


async def appraisal(
    session: AsyncSession, township: str, person: str, period: str
) -> AppraisalRow | None:
    """A person's appraisal for a period."""
    return await session.scalar(
        select(AppraisalRow).where(
            AppraisalRow.township_id == township,
            AppraisalRow.person == person,
            AppraisalRow.period == period,
        )
    )


async def training(session: AsyncSession, township: str, unit_code: str) -> list[TrainingRow]:
    """A unit's training records."""
    return list(
        await session.scalars(
            select(TrainingRow)
            .where(TrainingRow.township_id == township, TrainingRow.unit_code == unit_code)
            .order_by(TrainingRow.day, TrainingRow.id)
        )
    )


# redeployments ---------------------------------------------------------------------------
async def redeployment(
    session: AsyncSession, redeployment_id: str, *, lock: bool = False
) -> RedeploymentRow | None:
    """One redeployment."""
    query = select(RedeploymentRow).where(RedeploymentRow.id == redeployment_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def open_redeployment(
    session: AsyncSession, township: str, person: str
) -> RedeploymentRow | None:
    """A person's redeployment still in progress."""
    return await session.scalar(
        select(RedeploymentRow).where(
            RedeploymentRow.township_id == township,
            RedeploymentRow.person == person,
            RedeploymentRow.state.in_(("PROPOSED", "AGREED", "OBJECTED", "COUNTY_DECISION")),
        )
    )


async def due_redeployments(session: AsyncSession, today: date) -> list[RedeploymentRow]:
    """Decided redeployments whose date has come, locked (skipping those another replica has)."""
    return list(
        await session.scalars(
            select(RedeploymentRow)
            .where(
                RedeploymentRow.state == "COUNTY_DECISION", RedeploymentRow.effective_on <= today
            )
            .with_for_update(skip_locked=True)
            .limit(100)
        )
    )
