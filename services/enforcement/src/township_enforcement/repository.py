"""Every query of the enforcement service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from township_enforcement.models import (
    CaseCounterRow,
    CaseRecordRow,
    CaseRow,
    ComplaintRow,
    DeadlineBreachRow,
    EnforcementItemRow,
    EntrustmentRow,
    InspectionRow,
    OfficerRow,
)


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


async def own_and_market_items(session: AsyncSession) -> list[EnforcementItemRow]:
    """Items every town acts on without an entrustment (its own; market supervision, jointly)."""
    rows = await session.scalars(
        select(EnforcementItemRow)
        .where(EnforcementItemRow.category.in_(["statutory_township", "market_supervision"]))
        .order_by(EnforcementItemRow.code)
    )
    return list(rows)


async def item(session: AsyncSession, code: str) -> EnforcementItemRow | None:
    """One catalogue item."""
    return await session.get(EnforcementItemRow, code)


async def items(session: AsyncSession, codes: Sequence[str]) -> dict[str, EnforcementItemRow]:
    """Catalogue items by code."""
    rows = await session.scalars(
        select(EnforcementItemRow).where(EnforcementItemRow.code.in_(list(codes)))
    )
    return {r.code: r for r in rows}


async def entrustments_of(session: AsyncSession, township: str, code: str) -> list[EntrustmentRow]:
    """Every entrustment (valid or not) of one item to one township."""
    rows = await session.scalars(
        select(EntrustmentRow).where(
            EntrustmentRow.township_id == township, EntrustmentRow.item_code == code
        )
    )
    return list(rows)


async def remember_officer(
    session: AsyncSession, township: str, sub: str, certificate: str, name: str, at: datetime
) -> None:
    """Upsert a certified officer seen in a verified token."""
    values = {"certificate": certificate, "name": name, "seen_at": at}
    await session.execute(
        pg_insert(OfficerRow)
        .values(township_id=township, sub=sub, **values)
        .on_conflict_do_update(index_elements=["township_id", "sub"], set_=values)
    )


async def certified_officers(
    session: AsyncSession, township: str, subs: Sequence[str]
) -> dict[str, str]:
    """sub → certificate of the known certified officers among ``subs``."""
    rows = await session.execute(
        select(OfficerRow.sub, OfficerRow.certificate).where(
            OfficerRow.township_id == township, OfficerRow.sub.in_(list(subs))
        )
    )
    return dict(rows.tuples().all())


async def officer_names(
    session: AsyncSession, township: str, subs: Sequence[str]
) -> dict[str, str]:
    """sub → name of the known officers among ``subs`` (those with a name on their token)."""
    rows = await session.execute(
        select(OfficerRow.sub, OfficerRow.name).where(
            OfficerRow.township_id == township,
            OfficerRow.sub.in_(list(subs)),
            OfficerRow.name != "",
        )
    )
    return dict(rows.tuples().all())


async def officers(session: AsyncSession, township: str) -> list[OfficerRow]:
    """The certified officers known to a township, by sub."""
    rows = await session.scalars(
        select(OfficerRow).where(OfficerRow.township_id == township).order_by(OfficerRow.sub)
    )
    return list(rows)


def add(session: AsyncSession, *rows: object) -> None:
    """Stage new rows in the unit of work."""
    session.add_all(rows)


async def complaint(
    session: AsyncSession, township: str, complaint_id: str, *, lock: bool = False
) -> ComplaintRow | None:
    """A complaint of one township."""
    query = select(ComplaintRow).where(
        ComplaintRow.id == complaint_id, ComplaintRow.township_id == township
    )
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def list_complaints(
    session: AsyncSession, township: str, *, state: str = "", before: str = "", limit: int = 50
) -> list[ComplaintRow]:
    """A township's complaints, newest first (ids are time-ordered UUIDv7)."""
    query = (
        select(ComplaintRow)
        .where(ComplaintRow.township_id == township)
        .order_by(ComplaintRow.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(ComplaintRow.state == state)
    if before:
        query = query.where(ComplaintRow.id < before)
    return list(await session.scalars(query))


async def public_complaints(
    session: AsyncSession,
    township: str,
    *,
    ids: Sequence[str] = (),
    token: str = "",
    service_code: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
) -> list[tuple[ComplaintRow, CaseRow | None]]:
    """Complaints of a township with their case, newest first (Open311 filters)."""
    query = (
        select(ComplaintRow, CaseRow)
        .outerjoin(CaseRow, CaseRow.id == ComplaintRow.case_id)
        .where(ComplaintRow.township_id == township)
        .order_by(ComplaintRow.received_at.desc())
        .limit(limit)
    )
    if ids:
        query = query.where(ComplaintRow.id.in_(list(ids)))
    elif token:
        query = query.where(ComplaintRow.token == token)
    else:
        if service_code:
            query = query.where(ComplaintRow.service_code == service_code)
        if start is not None:
            query = query.where(ComplaintRow.received_at >= start)
        if end is not None:
            query = query.where(ComplaintRow.received_at <= end)
    return [(c, s) for c, s in (await session.execute(query)).tuples()]


async def complaints_awaiting_decision(session: AsyncSession) -> list[ComplaintRow]:
    """Received complaints not yet accepted or rejected (every township; for the scan)."""
    rows = await session.scalars(select(ComplaintRow).where(ComplaintRow.state == "RECEIVED"))
    return list(rows)


async def next_case_no(session: AsyncSession, township: str, year: int) -> int:
    """Allocate the next case number of a township for ``year`` (atomic)."""
    result = await session.execute(
        pg_insert(CaseCounterRow)
        .values(township_id=township, year=year, last=1)
        .on_conflict_do_update(
            index_elements=["township_id", "year"], set_={"last": CaseCounterRow.last + 1}
        )
        .returning(CaseCounterRow.last)
    )
    return int(result.scalar_one())


async def case_for_update(session: AsyncSession, township: str, case_id: str) -> CaseRow | None:
    """A case of one township, locked for the step being recorded."""
    return (
        await session.scalars(
            select(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.township_id == township)
            .with_for_update()
        )
    ).first()


async def case_visible(
    session: AsyncSession, case_id: str, township: str | None, department: str | None
) -> CaseRow | None:
    """A case the caller may see: its township's, or a joint one of its department."""
    query = select(CaseRow).where(CaseRow.id == case_id)
    query = _scope(query, CaseRow, township, department)
    return (await session.scalars(query)).first()


_S = TypeVar("_S", bound=Select[Any])
COUNTY_WIDE = "*"
"""Department value of county-wide readers (county_admin, auditor): every town's objects."""


def _scope(
    query: _S,
    table: type[CaseRow] | type[InspectionRow],
    township: str | None,
    department: str | None,
) -> _S:
    """Tenancy: the caller's township, or a county department's joint objects (any town)."""
    if township:
        return query.where(table.township_id == township)
    if department == COUNTY_WIDE:
        return query
    if department:
        return query.where(table.departments.contains([department]))
    return query.where(text("false"))


async def list_cases(
    session: AsyncSession,
    township: str | None,
    department: str | None,
    *,
    state: str = "",
    after: str = "",
    limit: int = 50,
) -> list[CaseRow]:
    """Cases the caller may see, by id (time order), from the cursor on."""
    query = select(CaseRow).order_by(CaseRow.id).limit(limit)
    query = _scope(query, CaseRow, township, department)
    if state:
        query = query.where(CaseRow.state == state)
    if after:
        query = query.where(CaseRow.id > after)
    return list(await session.scalars(query))


async def record(session: AsyncSession, case_id: str) -> list[CaseRecordRow]:
    """The full-process record of a case, oldest first."""
    rows = await session.scalars(
        select(CaseRecordRow).where(CaseRecordRow.case_id == case_id).order_by(CaseRecordRow.seq)
    )
    return list(rows)


async def next_record_seq(session: AsyncSession, case_id: str) -> int:
    """The next sequence number of a case's record (the case row is locked by the caller)."""
    last = await session.scalar(
        select(func.max(CaseRecordRow.seq)).where(CaseRecordRow.case_id == case_id)
    )
    return int(last or 0) + 1


async def open_cases(session: AsyncSession) -> list[CaseRow]:
    """Cases not closed or dropped (every township; for the deadline scan)."""
    rows = await session.scalars(select(CaseRow).where(CaseRow.state.not_in(["CLOSED", "DROPPED"])))
    return list(rows)


async def published_cases_to_watch(session: AsyncSession) -> list[CaseRow]:
    """Closed cases whose publication is still due or being retracted (deadline scan)."""
    rows = await session.scalars(
        select(CaseRow).where(
            CaseRow.state == "CLOSED",
            CaseRow.decided_on.is_not(None),
            or_(
                CaseRow.publication == "",
                (CaseRow.publication == "PUBLISHED") & CaseRow.decision.has_key("revoked_on"),
            ),
        )
    )
    return list(rows)


async def breaches(session: AsyncSession, subject_id: str) -> set[str]:
    """Kinds of limits already breached for a subject."""
    rows = await session.scalars(
        select(DeadlineBreachRow.kind).where(DeadlineBreachRow.subject_id == subject_id)
    )
    return set(rows)


async def record_breach(
    session: AsyncSession, subject_id: str, kind: str, township: str, due: str, at: datetime
) -> bool:
    """Record a breach once; False when it was already recorded."""
    result = await session.execute(
        pg_insert(DeadlineBreachRow)
        .values(subject_id=subject_id, kind=kind, township_id=township, due=due, breached_at=at)
        .on_conflict_do_nothing()
        .returning(DeadlineBreachRow.kind)
    )
    return result.first() is not None


async def published_decisions(
    session: AsyncSession, township: str, *, after: str = "", limit: int = 50
) -> list[tuple[CaseRow, EnforcementItemRow]]:
    """Published (not retracted) decisions of a township, by case id."""
    query = (
        select(CaseRow, EnforcementItemRow)
        .join(EnforcementItemRow, EnforcementItemRow.code == CaseRow.item_code)
        .where(CaseRow.township_id == township, CaseRow.publication == "PUBLISHED")
        .order_by(CaseRow.id)
        .limit(limit)
    )
    if after:
        query = query.where(CaseRow.id > after)
    return [(c, i) for c, i in (await session.execute(query)).tuples()]


async def inspection(
    session: AsyncSession,
    inspection_id: str,
    township: str | None,
    department: str | None,
    *,
    lock: bool = False,
) -> InspectionRow | None:
    """An inspection the caller may see."""
    query = _scope(
        select(InspectionRow).where(InspectionRow.id == inspection_id),
        InspectionRow,
        township,
        department,
    )
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def list_inspections(
    session: AsyncSession,
    township: str | None,
    department: str | None,
    *,
    after: str = "",
    limit: int = 50,
) -> list[InspectionRow]:
    """Inspections the caller may see, by id."""
    query = _scope(
        select(InspectionRow).order_by(InspectionRow.id).limit(limit),
        InspectionRow,
        township,
        department,
    )
    if after:
        query = query.where(InspectionRow.id > after)
    return list(await session.scalars(query))


async def case_gauges(session: AsyncSession, today: date) -> list[tuple[str, int, int, int]]:
    """(township, open cases, open cases filed over 90 days ago, transfers pending)."""
    rows = await session.execute(
        text(
            """
            SELECT township_id,
                   count(*) FILTER (WHERE state NOT IN ('CLOSED', 'DROPPED')),
                   count(*) FILTER (WHERE state NOT IN ('CLOSED', 'DROPPED', 'DECIDED',
                                    'SERVED', 'EXECUTING')
                                    AND filed_on IS NOT NULL AND filed_on < :cutoff),
                   count(*) FILTER (WHERE state = 'TRANSFERRED'
                                    AND transfer->>'stage' IN ('proposed', 'head_approved',
                                    'sent', 'received', 'reconsideration'))
            FROM cases GROUP BY township_id
            """
        ),
        {"cutoff": date.fromordinal(today.toordinal() - 90)},
    )
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
