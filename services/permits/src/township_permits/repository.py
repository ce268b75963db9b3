"""Every query of the permits service."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from township_permits.models import (
    ApplicationRow,
    BundleRow,
    DelegationRow,
    HistoryRow,
    ReceiptRow,
    ServiceItemRow,
)


async def bundle_items(session: AsyncSession, code: str) -> list[str] | None:
    """Item codes of a bundle, or None when the bundle does not exist."""
    row = await session.get(BundleRow, code)
    return list(row.item_codes) if row else None


async def delegated_levels(session: AsyncSession, township: str) -> dict[str, str]:
    """Item code → delegation level for one township."""
    rows = await session.execute(
        select(DelegationRow.item_code, DelegationRow.level).where(
            DelegationRow.township_id == township
        )
    )
    return dict(rows.tuples().all())


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
