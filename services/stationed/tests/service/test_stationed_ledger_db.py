"""The funding ledger is append-only in the database itself (real PostgreSQL, migrated)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from township_platform.db import Database
from township_platform.migrations import ensure_database, upgrade
from township_stationed.models import FundingEntryRow
from township_testing.servers import PostgresServer

pytestmark = pytest.mark.service

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def test_ledger_entries_cannot_be_edited_or_deleted(postgres_server: PostgresServer) -> None:
    url = postgres_server.url(f"stationed_{uuid.uuid4().hex[:8]}")
    await ensure_database(url)
    await upgrade(url, MIGRATIONS)
    db = Database(url, pool_size=2)
    try:
        entry_id = str(uuid.uuid4())
        async with db.unit_of_work() as uow:
            uow.session.add(
                FundingEntryRow(
                    id=entry_id,
                    line_id="l1",
                    township_id="zhaowan",
                    kind="allocation",
                    amount=Decimal("100.00"),
                    note="",
                    corrects="",
                    actor="finance",
                    at=datetime.now(UTC),
                )
            )
        for statement in (
            update(FundingEntryRow).values(amount=Decimal("1.00")),
            delete(FundingEntryRow),
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.unit_of_work() as uow:
                    await uow.session.execute(statement)
        async with db.unit_of_work() as uow:
            amount = await uow.session.scalar(select(FundingEntryRow.amount))
        assert amount == Decimal("100.00")
    finally:
        await db.dispose()
