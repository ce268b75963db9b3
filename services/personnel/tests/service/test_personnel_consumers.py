"""personnel's consumers against a real PostgreSQL and a real nats-server.

Events are produced the way the other services produce them: written to an outbox in a
unit of work (source permits, enforcement or stationed) and published by the platform's
relay to JetStream; personnel's own subscriptions consume them into its migrated database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import delete, select, update

from township.enforcement.events.v1 import events_pb2 as enforcement_events
from township.permits.events.v1 import events_pb2 as permits_events
from township.stationed.events.v1 import events_pb2 as stationed_events
from township_personnel import events
from township_personnel.models import AssignmentRow, PeriodRow, PersonRow, PointsEntryRow
from township_personnel.seed import seed
from township_platform import clock
from township_platform.bus import EventConsumer, OutboxRelay, Subscription
from township_platform.db import Database, inbox, outbox, platform_metadata
from township_platform.messaging import connect_nats
from township_platform.metrics import ServiceMetrics
from township_platform.migrations import ensure_database, upgrade
from township_platform.principal import Principal
from township_platform.towns import load_townships
from township_testing.servers import NatsServer, PostgresServer

pytestmark = pytest.mark.service

ROOT = Path(__file__).resolve().parents[4]
MIGRATIONS = ROOT / "services" / "personnel" / "migrations"
TOWN = "zhaowan"
_metrics: ServiceMetrics | None = None


def metrics() -> ServiceMetrics:
    global _metrics
    if _metrics is None:
        _metrics = ServiceMetrics.create("personneltest")
    return _metrics


@pytest.fixture
async def personnel_db(postgres_server: PostgresServer) -> AsyncIterator[Database]:
    url = postgres_server.url(f"personnel_{uuid.uuid4().hex[:8]}")
    await ensure_database(url)
    await upgrade(url, MIGRATIONS)
    db = Database(url, pool_size=5)
    await seed(db, load_townships(ROOT / "config" / "townships.json"))
    yield db
    await db.dispose()


@pytest.fixture
async def producer_db(postgres_server: PostgresServer) -> AsyncIterator[Database]:
    """Stands in for the other services' databases: only the outbox matters here."""
    url = postgres_server.url(f"producer_{uuid.uuid4().hex[:8]}")
    await ensure_database(url)
    db = Database(url, pool_size=5)
    async with db.engine.begin() as conn:
        await conn.run_sync(platform_metadata.create_all)
    yield db
    await db.dispose()


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[Any]:
    nc = await connect_nats(nats_server.url, "personnel-test")
    yield nc.jetstream()
    await nc.close()


async def emit(db: Database, source: str, payload: Message, entity: str, verb: str) -> str:
    actor = Principal(sub=f"{source}-actor", roles=("clerk",), township=TOWN)
    async with db.unit_of_work(actor, source=source) as uow:
        return await uow.emit(payload, township=TOWN, entity=entity, verb=verb)


def unique(sub: Subscription) -> Subscription:
    sub.durable = f"{sub.durable}-{uuid.uuid4().hex[:6]}"
    return sub


async def until(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def entries(db: Database, *people: str) -> list[PointsEntryRow]:
    async with db.unit_of_work() as uow:
        rows = await uow.session.scalars(
            select(PointsEntryRow)
            .where(PointsEntryRow.person.in_(people))
            .order_by(PointsEntryRow.id)
        )
        return list(rows)


@pytest.fixture
async def running(
    personnel_db: Database, producer_db: Database, js: Any
) -> AsyncIterator[tuple[Database, Database, OutboxRelay]]:
    relay = OutboxRelay(producer_db, js, metrics(), poll_seconds=0.2)
    consumers = [
        EventConsumer(personnel_db, js, metrics(), "personnel", unique(sub))
        for sub in (
            events.permits_subscription(),
            events.enforcement_subscription(),
            events.stationed_subscription(),
        )
    ]
    tasks = [asyncio.create_task(relay.run())] + [asyncio.create_task(c.run()) for c in consumers]
    try:
        yield personnel_db, producer_db, relay
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await relay.close()


async def test_automatic_points_from_real_events_exactly_once(
    running: tuple[Database, Database, OutboxRelay], js: Any
) -> None:
    personnel_db, producer_db, relay = running
    clerk, o1, o2 = (f"{p}-{uuid.uuid4().hex[:6]}" for p in ("clerk", "officer", "officer"))
    await emit(
        producer_db,
        "permits",
        permits_events.ApplicationClosed(
            application_id="a1", intake_by=clerk, within_promised_limit=True, outcome="issued"
        ),
        "application",
        "closed",
    )
    await emit(
        producer_db,
        "permits",
        permits_events.ApplicationClosed(
            application_id="a2", intake_by=clerk, within_promised_limit=False, outcome="issued"
        ),
        "application",
        "closed",
    )
    await emit(
        producer_db,
        "permits",
        permits_events.RatingSubmitted(rating_id="r1", level=1, responsible=clerk),
        "rating",
        "submitted",
    )
    await emit(
        producer_db,
        "permits",
        permits_events.RatingSubmitted(rating_id="r2", level=4, responsible=clerk),
        "rating",
        "submitted",
    )
    await emit(
        producer_db,
        "permits",
        permits_events.RectificationOverdue(rectification_id="x1", responsible=clerk),
        "rectification",
        "overdue",
    )
    await emit(
        producer_db,
        "enforcement",
        enforcement_events.CaseClosed(case_id="c1", officers=[o1, o2, o1]),
        "case",
        "closed",
    )

    async def arrived() -> bool:
        return len(await entries(personnel_db, clerk, o1, o2)) >= 5

    await until(arrived)
    rows = await entries(personnel_db, clerk, o1, o2)
    got = sorted((r.person, r.rule_code, str(r.points), r.state) for r in rows)
    assert got == sorted(
        [
            (clerk, "on-time-completion", "1.00", "AUTO"),
            (clerk, "bad-rating", "-2.00", "AUTO"),
            (clerk, "rectification-overdue", "-3.00", "AUTO"),
            (o1, "case-closed", "2.00", "AUTO"),
            (o2, "case-closed", "2.00", "AUTO"),
        ]
    )
    assert {r.source_type for r in rows} >= {
        "permits.application.closed.v1",
        "enforcement.case.closed.v1",
    }

    # Redeliver everything: the relay re-publishes, then a copy bypasses JetStream's dedup,
    # then the inbox is wiped and it all comes again: the unique key still holds.
    async with producer_db.engine.begin() as conn:
        await conn.execute(update(outbox).values(sent_at=None))
        published = list(await conn.execute(select(outbox.c.subject, outbox.c.envelope)))
    relay.wake()
    for subject, envelope in published:
        await js.publish(subject, envelope, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    async with personnel_db.engine.begin() as conn:
        await conn.execute(delete(inbox))
    for subject, envelope in published:
        await js.publish(subject, envelope, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    await asyncio.sleep(2.0)
    assert len(await entries(personnel_db, clerk, o1, o2)) == 5


async def test_event_after_the_period_is_final_is_kept_but_never_counts(
    running: tuple[Database, Database, OutboxRelay],
) -> None:
    personnel_db, producer_db, _ = running
    officer = f"officer-{uuid.uuid4().hex[:6]}"
    year = clock.today().year
    async with personnel_db.unit_of_work() as uow:
        existing = await uow.session.get(PeriodRow, (TOWN, year))
        if existing is None:
            uow.session.add(PeriodRow(township_id=TOWN, year=year, state="FINAL", history=[]))
        else:
            existing.state = "FINAL"
    await emit(
        producer_db,
        "enforcement",
        enforcement_events.CaseClosed(case_id="c-late", officers=[officer]),
        "case",
        "closed",
    )

    async def arrived() -> bool:
        return len(await entries(personnel_db, officer)) == 1

    await until(arrived)
    (row,) = await entries(personnel_db, officer)
    assert row.state == "LATE"
    assert "final" in row.note


async def test_seconded_staff_become_stationed_people_and_redeployment_ends_their_post(
    running: tuple[Database, Database, OutboxRelay],
) -> None:
    personnel_db, producer_db, _ = running
    person = f"fin-{uuid.uuid4().hex[:6]}"
    await emit(
        producer_db,
        "stationed",
        stationed_events.StaffSeconded(
            person=person,
            name="何晓东",
            unit_code="finance-office",
            department="finance",
            post="civil-affairs",
            starts_on="2026-03-01",
        ),
        "staff",
        "seconded",
    )

    async def assigned() -> bool:
        async with personnel_db.unit_of_work() as uow:
            row = await uow.session.scalar(
                select(AssignmentRow).where(AssignmentRow.person == person)
            )
            return row is not None

    await until(assigned)
    async with personnel_db.unit_of_work() as uow:
        who = await uow.session.get(PersonRow, (TOWN, person))
        assert who is not None and who.status == "stationed" and who.name == "何晓东"
    await emit(
        producer_db,
        "stationed",
        stationed_events.StaffRedeployed(
            person=person,
            from_unit="finance-office",
            effective_on="2026-09-30",
            redeployment_id="r",
        ),
        "staff",
        "redeployed",
    )

    async def ended() -> bool:
        async with personnel_db.unit_of_work() as uow:
            row = await uow.session.scalar(
                select(AssignmentRow).where(AssignmentRow.person == person)
            )
            return row is not None and row.ends_on is not None

    await until(ended)
    async with personnel_db.unit_of_work() as uow:
        row = await uow.session.scalar(select(AssignmentRow).where(AssignmentRow.person == person))
        assert row is not None and str(row.ends_on) == "2026-09-30"
        assert "redeployed" in row.end_reason


async def test_rule_totals_follow_every_change_of_the_ledger(personnel_db: Database) -> None:
    """The trigger-kept totals equal the ledger's sum of counting entries after any change."""
    person = f"clerk-{uuid.uuid4().hex[:6]}"
    counted = ("AUTO", "APPROVED", "CLAIMED", "APPEALED")

    async def check() -> None:
        async with personnel_db.unit_of_work() as uow:
            kept = {
                (r["rule_code"], r["period"]): r["total"]
                for r in await uow.driver.fetch(
                    "SELECT rule_code, period, total FROM points_rule_totals WHERE person = $1",
                    person,
                )
            }
            summed = {
                (r["rule_code"], r["period"]): r["total"]
                for r in await uow.driver.fetch(
                    "SELECT rule_code, period, sum(points) AS total FROM points_entries "
                    "WHERE person = $1 AND state = ANY($2::text[]) GROUP BY 1, 2",
                    person,
                    list(counted),
                )
            }
        assert {k: v for k, v in kept.items() if v != 0} == summed

    async def run(sql: str, *args: object) -> None:
        async with personnel_db.unit_of_work() as uow:
            await uow.driver.execute(sql, *args)

    insert = (
        "INSERT INTO points_entries (id, township_id, person, rule_code, points, state, "
        "source_type, note, period, evidence) VALUES ($1, $2, $3, $4, $5, $6, '', '', $7, '[]')"
    )
    ids = [uuid.uuid4().hex for _ in range(6)]
    await run(insert, ids[0], TOWN, person, "application-intake", 0.5, "AUTO", 2026)
    await run(insert, ids[1], TOWN, person, "application-intake", 0.5, "AUTO", 2026)
    await run(insert, ids[2], TOWN, person, "liaison-work", 2, "CLAIMED", 2026)
    await run(insert, ids[3], TOWN, person, "liaison-work", 2, "CLAIMED", 2027)
    await run(insert, ids[4], TOWN, person, "discipline", -5, "LATE", 2026)  # does not count
    await check()
    await run("UPDATE points_entries SET state = 'APPROVED' WHERE id = $1", ids[2])
    await run("UPDATE points_entries SET state = 'REJECTED' WHERE id = $1", ids[3])
    await check()
    await run(
        "UPDATE points_entries SET state = 'APPEALED', appealed_from = 'REJECTED' WHERE id = $1",
        ids[3],
    )
    await run("UPDATE points_entries SET points = 3 WHERE id = $1", ids[2])
    await check()
    await run("DELETE FROM points_entries WHERE id = $1", ids[0])
    await check()
    # a failed transaction leaves the totals as they were
    with pytest.raises(RuntimeError):
        async with personnel_db.unit_of_work() as uow:
            await uow.driver.execute(insert, ids[5], TOWN, person, "liaison-work", 2, "AUTO", 2026)
            raise RuntimeError("rolled back")
    await check()
