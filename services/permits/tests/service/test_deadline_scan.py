"""The deadline scan against a real PostgreSQL: idempotent, and safe on two replicas at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from township_permits import jobs
from township_permits.main import MIGRATIONS
from township_permits.models import ApplicationRow, ReceiptRow
from township_permits.seed import seed
from township_permits.workflow import Runtime
from township_platform.calendar import load_calendar
from township_platform.db import Database, outbox
from township_platform.migrations import ensure_database, upgrade
from township_platform.towns import load_townships
from township_testing.servers import PostgresServer

pytestmark = pytest.mark.service

TOWNS = Path(__file__).resolve().parents[4] / "config" / "townships.json"
RUNTIME = Runtime(calendar=load_calendar(None)[0], towns={"zhaowan", "bailiu"})


@pytest.fixture
async def db(postgres_server: PostgresServer) -> AsyncIterator[Database]:
    url = postgres_server.url(f"permits_{uuid.uuid4().hex[:8]}")
    await ensure_database(url)
    await upgrade(url, MIGRATIONS)
    database = Database(url, pool_size=5)
    await seed(database, load_townships(TOWNS))
    yield database
    await database.dispose()


async def _application(db: Database, item: str, received: dt.date, state: str) -> str:
    app_id = str(uuid.uuid4())
    receipt = f"ZW{uuid.uuid4().hex[:10].upper()}"
    async with db.unit_of_work(source="permits") as uow:
        at = dt.datetime(received.year, received.month, received.day, 2, tzinfo=dt.UTC)
        uow.session.add(ReceiptRow(receipt_code=receipt, township_id="zhaowan", submitted_at=at))
        await uow.session.flush()
        uow.session.add(
            ApplicationRow(
                id=app_id,
                township_id="zhaowan",
                receipt_code=receipt,
                bundle="",
                item_code=item,
                department="forestry",
                state=state,
                channel="window",
                village="",
                applicant={"name": "测试", "id_number": "", "phone": "", "kind": "person"},
                materials=[],
                submitted_by="clerk-1",
                submitted_at=at,
                received_on=received,
                correction_window_from=received,
                pauses=[],
                extension_days=0,
                missing_materials=[],
                promised_due=received,  # stale on purpose: the scan recomputes
                statutory_due=received,
            )
        )
    return app_id


async def _events(db: Database, type_: str) -> int:
    async with db.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).where(outbox.c.type == type_))).scalar_one()
        )


async def test_breaches_are_emitted_once_even_with_two_replicas_scanning(db: Database) -> None:
    """XK-00802-001 (promised 2, statutory 20 working days) received 2026-06-01 and still in
    review on 2026-07-15: both limits are breached; four scans, two at a time, emit two
    breach events in all."""
    await _application(db, "XK-00802-001", dt.date(2026, 6, 1), "IN_REVIEW")
    other = Database(db.url, pool_size=5)
    try:
        today = dt.date(2026, 7, 15)
        for _ in range(2):
            await asyncio.gather(
                jobs.deadline_events(db, RUNTIME, today),
                jobs.deadline_events(other, RUNTIME, today),
            )
    finally:
        await other.dispose()
    assert await _events(db, "permits.deadline.breached.v1") == 2


async def test_deemed_acceptance_happens_once(db: Database) -> None:
    app_id = await _application(db, "XK-00802-001", dt.date(2026, 6, 1), "SUBMITTED")
    other = Database(db.url, pool_size=5)
    try:
        before = dt.date(2026, 6, 8)
        assert await jobs.deemed_acceptance(db, RUNTIME, before) == 0
        today = dt.date(2026, 6, 9)
        done = await asyncio.gather(
            jobs.deemed_acceptance(db, RUNTIME, today),
            jobs.deemed_acceptance(other, RUNTIME, today),
        )
        assert sum(done) == 1
        assert await jobs.deemed_acceptance(db, RUNTIME, today) == 0
    finally:
        await other.dispose()
    async with db.unit_of_work(source="permits") as uow:
        app = await uow.session.get(ApplicationRow, app_id)
        assert app is not None and app.state == "ACCEPTED"
    assert await _events(db, "permits.application.accepted.v1") == 1
