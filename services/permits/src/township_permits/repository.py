"""Every query of the permits service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from township_permits.models import (
    ApplicationRow,
    DeadlineNoticeRow,
    DelegationRow,
    HistoryRow,
    RatingRow,
    ReceiptRow,
    RectificationRow,
    ServiceItemRow,
)


async def items_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, ServiceItemRow]:
    """Catalogue items by code."""
    rows = await session.scalars(select(ServiceItemRow).where(ServiceItemRow.code.in_(codes)))
    return {r.code: r for r in rows}


async def catalogue(
    session: AsyncSession, township: str, village_only: bool
) -> list[tuple[ServiceItemRow, str]]:
    """Items delegated to a township with their level, ordered by code."""
    query = (
        select(ServiceItemRow, DelegationRow.level)
        .join(DelegationRow, DelegationRow.item_code == ServiceItemRow.code)
        .where(DelegationRow.township_id == township)
        .order_by(ServiceItemRow.code)
    )
    if village_only:
        query = query.where(DelegationRow.level == "village")
    return [(item, level) for item, level in (await session.execute(query)).tuples()]


def add(session: AsyncSession, *rows: object) -> None:
    """Stage new rows in the unit of work."""
    session.add_all(rows)


async def application(session: AsyncSession, app_id: str) -> ApplicationRow | None:
    """One application by id (callers check tenancy)."""
    return await session.get(ApplicationRow, app_id)


async def history(session: AsyncSession, app_id: str) -> list[HistoryRow]:
    """An application's history, oldest first."""
    rows = await session.scalars(
        select(HistoryRow).where(HistoryRow.application_id == app_id).order_by(HistoryRow.id)
    )
    return list(rows)


async def receipt_with_parts(
    session: AsyncSession, code: str
) -> tuple[ReceiptRow, list[ApplicationRow]] | None:
    """A receipt and the applications it opened."""
    receipt = await session.get(ReceiptRow, code)
    if receipt is None:
        return None
    parts = await session.scalars(
        select(ApplicationRow)
        .where(ApplicationRow.receipt_code == code)
        .order_by(ApplicationRow.item_code)
    )
    return receipt, list(parts)


# applications: locking, queues, counts ------------------------------------------------


async def application_for_update(session: AsyncSession, app_id: str) -> ApplicationRow | None:
    """One application, locked for the rest of the unit of work."""
    rows = await session.scalars(
        select(ApplicationRow).where(ApplicationRow.id == app_id).with_for_update()
    )
    return rows.first()


async def item(session: AsyncSession, code: str) -> ServiceItemRow | None:
    """One catalogue item."""
    return await session.get(ServiceItemRow, code)


@dataclass(frozen=True)
class ApplicationFilter:
    """What a queue shows: the caller's scope plus the filters asked for."""

    township: str | None = None
    department: str | None = None
    village: str | None = None
    states: Sequence[str] = ()
    item_code: str | None = None
    channel: str | None = None
    intake_by: str | None = None
    receipt_code: str | None = None
    overdue_on: date | None = None


RUNNING_STATES = ("SUBMITTED", "ACCEPTED", "IN_REVIEW")
"""States in which the decision clock runs (not paused, not decided)."""


async def last_reviewer(session: AsyncSession, app_id: str) -> str:
    """Who started the review of an application ("" before review)."""
    row = await session.scalars(
        select(HistoryRow.actor_sub)
        .where(HistoryRow.application_id == app_id, HistoryRow.action == "start_review")
        .order_by(HistoryRow.id.desc())
        .limit(1)
    )
    return row.first() or ""


async def deemed_acceptance_candidates(session: AsyncSession, before: date) -> list[ApplicationRow]:
    """SUBMITTED applications whose correction window started before ``before`` (locked)."""
    rows = await session.scalars(
        select(ApplicationRow)
        .where(
            ApplicationRow.state == "SUBMITTED",
            ApplicationRow.correction_window_from < before,
        )
        .order_by(ApplicationRow.id)
        .limit(500)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


async def deadline_candidates(
    session: AsyncSession, due_before: date, today: date
) -> list[ApplicationRow]:
    """Running applications with a due date before ``due_before``, except those whose
    statutory limit is already reported breached (nothing more can happen to them).

    An on-the-spot limit (即办, zero days) never warns, so its application is a candidate
    only once that limit is past (``today``): most items of a service hall are on-the-spot,
    and every one of them is otherwise "due" from the day it is filed.
    """
    done = (
        select(DeadlineNoticeRow.subject_id)
        .where(
            DeadlineNoticeRow.subject_id == ApplicationRow.id,
            DeadlineNoticeRow.limit_kind == "statutory",
            DeadlineNoticeRow.event_kind == "breached",
        )
        .exists()
    )
    rows = await session.scalars(
        select(ApplicationRow)
        .join(ServiceItemRow, ServiceItemRow.code == ApplicationRow.item_code)
        .where(
            ApplicationRow.state.in_(RUNNING_STATES),
            or_(
                and_(
                    ApplicationRow.promised_due < due_before,
                    or_(ServiceItemRow.promised_amount > 0, ApplicationRow.promised_due < today),
                ),
                and_(
                    ApplicationRow.statutory_due < due_before,
                    or_(ServiceItemRow.statutory_amount > 0, ApplicationRow.statutory_due < today),
                ),
            ),
            ~done,
        )
        .order_by(ApplicationRow.id)
        .limit(2000)
    )
    return list(rows)


async def record_notice(
    session: AsyncSession,
    subject_id: str,
    limit_kind: str,
    event_kind: str,
    township: str,
    due: date,
) -> bool:
    """Record a deadline event; False when it was already recorded (then emit nothing)."""
    result = await session.execute(
        pg_insert(DeadlineNoticeRow)
        .values(
            subject_id=subject_id,
            limit_kind=limit_kind,
            event_kind=event_kind,
            township_id=township,
            due_date=due,
        )
        .on_conflict_do_nothing()
        .returning(DeadlineNoticeRow.subject_id)
    )
    return result.first() is not None


async def application_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(township, state) → number of applications."""
    rows = await session.execute(
        select(ApplicationRow.township_id, ApplicationRow.state, func.count()).group_by(
            ApplicationRow.township_id, ApplicationRow.state
        )
    )
    return {(t, s): int(n) for t, s, n in rows.tuples()}


async def overdue_counts(session: AsyncSession, today: date) -> dict[str, int]:
    """township → running applications past their promised due date."""
    rows = await session.execute(
        select(ApplicationRow.township_id, func.count())
        .where(ApplicationRow.state.in_(RUNNING_STATES), ApplicationRow.promised_due < today)
        .group_by(ApplicationRow.township_id)
    )
    return {t: int(n) for t, n in rows.tuples()}


# ratings and rectifications -----------------------------------------------------------


async def receipt_for_update(session: AsyncSession, code: str) -> ReceiptRow | None:
    """A receipt, locked (serialises ratings of one intake)."""
    rows = await session.scalars(
        select(ReceiptRow).where(ReceiptRow.receipt_code == code).with_for_update()
    )
    return rows.first()


async def ratings_of_receipt(session: AsyncSession, code: str) -> list[RatingRow]:
    """The ratings of one intake (first, then follow-up)."""
    rows = await session.scalars(
        select(RatingRow).where(RatingRow.receipt_code == code).order_by(RatingRow.follow_up)
    )
    return list(rows)


async def rectification_of_rating(session: AsyncSession, rating_id: str) -> RectificationRow | None:
    """The rectification a rating opened, if any."""
    rows = await session.scalars(
        select(RectificationRow).where(RectificationRow.rating_id == rating_id)
    )
    return rows.first()


async def rectifications_of_ratings(
    session: AsyncSession, rating_ids: Sequence[str]
) -> dict[str, str]:
    """rating id → id of the rectification it opened."""
    if not rating_ids:
        return {}
    rows = await session.execute(
        select(RectificationRow.rating_id, RectificationRow.id).where(
            RectificationRow.rating_id.in_(list(rating_ids))
        )
    )
    return dict(rows.tuples().all())


async def rectification_for_update(session: AsyncSession, rect_id: str) -> RectificationRow | None:
    """One rectification, locked."""
    rows = await session.scalars(
        select(RectificationRow).where(RectificationRow.id == rect_id).with_for_update()
    )
    return rows.first()


async def list_ratings(
    session: AsyncSession,
    *,
    township: str | None,
    department: str | None,
    responsible: str | None,
    max_level: int,
    page_size: int,
    after: str,
) -> list[RatingRow]:
    """A page of ratings in id order."""
    query = select(RatingRow).order_by(RatingRow.id).limit(page_size)
    if after:
        query = query.where(RatingRow.id > after)
    if township:
        query = query.where(RatingRow.township_id == township)
    if department:
        query = query.where(RatingRow.departments.contains([department]))
    if responsible:
        query = query.where(RatingRow.responsible == responsible)
    if max_level:
        query = query.where(RatingRow.level <= max_level)
    return list(await session.scalars(query))


async def list_rectifications(
    session: AsyncSession,
    *,
    township: str | None,
    department: str | None,
    responsible: str | None,
    state: str | None,
    overdue_only: bool,
    page_size: int,
    after: str,
) -> list[RectificationRow]:
    """A page of rectifications in id order."""
    query = select(RectificationRow).order_by(RectificationRow.id).limit(page_size)
    if after:
        query = query.where(RectificationRow.id > after)
    if township:
        query = query.where(RectificationRow.township_id == township)
    if department:
        query = query.where(RectificationRow.departments.contains([department]))
    if responsible:
        query = query.where(RectificationRow.responsible == responsible)
    if state:
        query = query.where(RectificationRow.state == state)
    if overdue_only:
        query = query.where(RectificationRow.overdue.is_(True))
    return list(await session.scalars(query))


async def overdue_rectifications(session: AsyncSession, today: date) -> list[RectificationRow]:
    """Rectifications still open after their due date (locked, skipping busy rows)."""
    rows = await session.scalars(
        select(RectificationRow)
        .where(RectificationRow.state != "CLOSED", RectificationRow.due_date < today)
        .order_by(RectificationRow.id)
        .limit(500)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


# catalogue administration -------------------------------------------------------------


async def upsert_item(session: AsyncSession, code: str, values: dict[str, Any]) -> None:
    """Create or replace a catalogue item (marked as edited through the API)."""
    values = {**values, "source": "admin"}
    await session.execute(
        pg_insert(ServiceItemRow)
        .values(code=code, **values)
        .on_conflict_do_update(index_elements=["code"], set_=values)
    )


async def delegation(session: AsyncSession, township: str, code: str) -> DelegationRow | None:
    """One delegation."""
    return await session.get(DelegationRow, (township, code))


async def put_delegation(
    session: AsyncSession, township: str, code: str, values: dict[str, Any]
) -> None:
    """Create or replace a delegation (marked as edited through the API)."""
    values = {**values, "source": "admin"}
    await session.execute(
        pg_insert(DelegationRow)
        .values(township_id=township, item_code=code, **values)
        .on_conflict_do_update(index_elements=["township_id", "item_code"], set_=values)
    )


async def remove_delegation(session: AsyncSession, township: str, code: str) -> bool:
    """Delete a delegation; False when there was none."""
    result = await session.execute(
        delete(DelegationRow)
        .where(DelegationRow.township_id == township, DelegationRow.item_code == code)
        .returning(DelegationRow.item_code)
    )
    return result.first() is not None


async def list_delegations(
    session: AsyncSession, township: str | None, code: str | None
) -> list[DelegationRow]:
    """Delegations, by township then item."""
    query = select(DelegationRow).order_by(DelegationRow.township_id, DelegationRow.item_code)
    if township:
        query = query.where(DelegationRow.township_id == township)
    if code:
        query = query.where(DelegationRow.item_code == code)
    return list(await session.scalars(query))


async def service_items(
    session: AsyncSession, department: str | None, type_: str | None
) -> list[ServiceItemRow]:
    """The county catalogue, by code."""
    query = select(ServiceItemRow).order_by(ServiceItemRow.code)
    if department:
        query = query.where(ServiceItemRow.department == department)
    if type_:
        query = query.where(ServiceItemRow.type == type_)
    return list(await session.scalars(query))
