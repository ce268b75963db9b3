"""The event backbone against a real PostgreSQL and a real nats-server.

Outbox → relay → JetStream → consumer with inbox: every committed event arrives, an
uncommitted one never does, redeliveries and re-publishes have one effect, a poison event is
dead-lettered after bounded deliveries and can be re-driven.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from township.common.v1 import common_pb2
from township_platform.bus import (
    EventConsumer,
    OutboxRelay,
    Subscription,
    ensure_stream,
    redrive,
    replay,
    rewind,
)
from township_platform.db import Database, UnitOfWork, inbox, outbox
from township_platform.messaging import connect_nats
from township_platform.metrics import ServiceMetrics
from township_platform.migrations import ensure_database
from township_platform.principal import Principal
from township_testing.servers import NatsServer, PostgresServer

pytestmark = pytest.mark.service

effects_md = MetaData()
effects = Table("effects", effects_md, Column("event_id", String(36)), Column("value", String(100)))
# an effect the handler cannot write twice: a second insert fails (no ON CONFLICT)
strict_effects = Table(
    "strict_effects", effects_md, Column("event_id", String(36), primary_key=True)
)

_metrics: ServiceMetrics | None = None


def metrics() -> ServiceMetrics:
    global _metrics
    if _metrics is None:
        _metrics = ServiceMetrics.create("bustest")
    return _metrics


@pytest.fixture
async def db(postgres_server: PostgresServer) -> AsyncIterator[Database]:
    name = f"bus_{uuid.uuid4().hex[:8]}"
    url = postgres_server.url(name)
    await ensure_database(url)
    database = Database(url, pool_size=5)
    from township_platform.db import platform_metadata

    async with database.engine.begin() as conn:
        await conn.run_sync(platform_metadata.create_all)
        await conn.run_sync(effects_md.create_all)
    yield database
    await database.dispose()


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[Any]:
    nc = await connect_nats(nats_server.url, "test")
    yield nc.jetstream()
    await nc.close()


async def _emit(db: Database, town: str, value: str, *, fail: bool = False) -> str:
    principal = Principal(sub="clerk-1", roles=("clerk",), township=town)
    async with db.unit_of_work(principal, source="bustest") as uow:
        event_id = await uow.emit(
            StringValue(value=value), township=town, entity="thing", verb="made"
        )
        if fail:
            raise RuntimeError("rolled back on purpose")
    return event_id


def _subscription(durable: str, town: str, handler: Any) -> Subscription:
    return Subscription(
        stream="BUSTEST",
        durable=durable,
        filter_subjects=[f"township.{town}.bustest.thing.made.v1"],
    ).on(StringValue, handler)


async def _count(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(effects)) or 0)


async def _until(predicate: Any, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def _stop(tasks: list[asyncio.Task[None]], relay: OutboxRelay) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await relay.close()


async def record(uow: UnitOfWork, env: common_pb2.EventEnvelope, payload: StringValue) -> None:
    await uow.session.execute(insert(effects).values(event_id=env.event_id, value=payload.value))


async def test_committed_events_arrive_once_and_rolled_back_ones_never(
    db: Database, js: Any
) -> None:
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2)
    town = f"t{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(db, js, metrics(), "bustest", _subscription(f"c-{town}", town, record))
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:
        ids = [await _emit(db, town, f"v{i}") for i in range(20)]
        with contextlib.suppress(RuntimeError):
            await _emit(db, town, "never", fail=True)

        async def all_arrived() -> bool:
            return await _count(db) >= 20

        await _until(all_arrived)
        # Re-publish every event (as a relay killed before mark-sent would): no new effect.
        async with db.engine.begin() as conn:
            await conn.execute(outbox.update().values(sent_at=None))
        relay.wake()

        async def republished() -> bool:
            async with db.engine.connect() as conn:
                left = await conn.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                )
            return left == 0

        await _until(republished)
        # Bypass the stream's dedup window too: the inbox still holds.
        async with db.engine.connect() as conn:
            row = (await conn.execute(select(outbox.c.subject, outbox.c.envelope).limit(1))).one()
        await js.publish(row.subject, row.envelope, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        await asyncio.sleep(1.0)
        assert await _count(db) == 20
        async with db.engine.connect() as conn:
            got = {r[0] for r in await conn.execute(select(effects.c.event_id))}
            values = {r[0] for r in await conn.execute(select(effects.c.value))}
        assert got == set(ids)
        assert "never" not in values
    finally:
        await _stop(tasks, relay)


async def test_poison_event_is_dead_lettered_then_redriven(db: Database, js: Any) -> None:
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    broken = {"on": True}

    async def fragile(uow: UnitOfWork, env: common_pb2.EventEnvelope, p: StringValue) -> None:
        if p.value == "poison" and broken["on"]:
            raise ValueError("cannot handle poison")
        await record(uow, env, p)

    town = f"t{uuid.uuid4().hex[:8]}"
    durable = f"p-{town}"
    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2)
    consumer = EventConsumer(
        db, js, metrics(), "bustest", _subscription(durable, town, fragile), max_deliver=3
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:
        await _emit(db, town, "before")
        await _emit(db, town, "poison")
        await _emit(db, town, "after")

        async def others_flowed() -> bool:
            return await _count(db) >= 2

        await _until(others_flowed)
        dead = metrics().events_dead_lettered.labels(durable)

        async def dead_lettered() -> bool:
            return dead._value.get() >= 1

        await _until(dead_lettered, within=15)
        assert await _count(db) == 2
        broken["on"] = False
        assert await redrive(js, "bustest", durable) == 1

        async def healed() -> bool:
            return await _count(db) == 3

        await _until(healed)
    finally:
        await _stop(tasks, relay)


async def test_a_backlog_is_applied_in_batches_and_a_poison_event_stays_alone(
    db: Database, js: Any
) -> None:
    """Events that queued up are applied many per transaction; one that fails is isolated."""
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    transactions: list[list[Any]] = []  # [unit of work, events applied in it]

    async def counted(uow: UnitOfWork, env: common_pb2.EventEnvelope, p: StringValue) -> None:
        if p.value == "poison":
            raise ValueError("cannot handle poison")
        for t in transactions:
            if t[0] is uow:
                t[1] += 1
                break
        else:
            transactions.append([uow, 1])
        await record(uow, env, p)

    town = f"t{uuid.uuid4().hex[:8]}"
    durable = f"b-{town}"
    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2)
    # the backlog is published before the consumer exists, so it arrives all at once
    values = [f"v{i}" for i in range(60)]
    values.insert(55, "poison")  # in the second batch: the first goes through whole
    for value in values:
        await _emit(db, town, value)
    relay_task = asyncio.create_task(relay.run())
    consumer = EventConsumer(
        db, js, metrics(), "bustest", _subscription(durable, town, counted), max_deliver=2
    )
    try:

        async def published() -> bool:
            async with db.engine.connect() as conn:
                left = await conn.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                )
            return left == 0

        await _until(published)
        consumer_task = asyncio.create_task(consumer.run())

        async def all_but_poison() -> bool:
            return await _count(db) >= 60

        await _until(all_but_poison, within=20)
        dead = metrics().events_dead_lettered.labels(durable)

        async def dead_lettered() -> bool:
            return dead._value.get() >= 1

        await _until(dead_lettered, within=15)
        async with db.engine.connect() as conn:
            rows = [r[0] for r in await conn.execute(select(effects.c.value))]
        assert sorted(rows) == sorted(v for v in values if v != "poison")  # each exactly once
        # the backlog went through in batches: some transaction applied many events
        assert max(n for _, n in transactions) >= 5
    finally:
        tasks = [relay_task]
        if "consumer_task" in locals():
            tasks.append(consumer_task)
        await _stop(tasks, relay)


async def test_a_redelivered_event_is_a_duplicate_even_when_its_handler_is_not_idempotent(
    db: Database, js: Any
) -> None:
    """The inbox row is written at the end of the transaction: a handler that fails on a
    second run (here a primary key) must not turn a redelivery into a dead letter."""
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])

    async def strict(uow: UnitOfWork, env: common_pb2.EventEnvelope, p: StringValue) -> None:
        await uow.session.execute(insert(strict_effects).values(event_id=env.event_id))

    town = f"t{uuid.uuid4().hex[:8]}"
    durable = f"s-{town}"
    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2)
    consumer = EventConsumer(
        db, js, metrics(), "bustest", _subscription(durable, town, strict), max_deliver=2
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    applied = metrics().events_consumed.labels(durable, "applied")
    duplicate = metrics().events_consumed.labels(durable, "duplicate")
    dead = metrics().events_dead_lettered.labels(durable)
    try:
        event_id = await _emit(db, town, "once")

        async def arrived() -> bool:
            return applied._value.get() == 1

        await _until(arrived)
        async with db.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(outbox.c.subject, outbox.c.envelope).where(outbox.c.event_id == event_id)
                )
            ).one()
        for _ in range(2):  # past the stream's dedup window: a redelivery of the same event
            await js.publish(row.subject, row.envelope, headers={"Nats-Msg-Id": str(uuid.uuid4())})

        async def recognised() -> bool:
            return duplicate._value.get() == 2

        await _until(recognised)
        assert dead._value.get() == 0
        assert applied._value.get() == 1
        async with db.engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(strict_effects)) == 1
    finally:
        await _stop(tasks, relay)


async def test_a_commit_is_published_at_once_and_the_scan_catches_what_was_missed(
    db: Database, js: Any, postgres_server: PostgresServer
) -> None:
    """The relay publishes a commit's events as it happens (no scan needed); rows committed
    by a process without a relay (one that died, a command-line tool) go out by the scan
    once they are older than the grace period."""
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    town = f"t{uuid.uuid4().hex[:8]}"
    # no scan for a minute: only the hand-over from the commit can publish
    relay = OutboxRelay(db, js, metrics(), poll_seconds=60, grace_seconds=60)
    consumer = EventConsumer(db, js, metrics(), "bustest", _subscription(f"e-{town}", town, record))
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    other = Database(db.url, pool_size=1)  # another process: nothing hands its rows over
    try:
        await asyncio.sleep(0.2)  # the relay's first scan is behind it
        for i in range(5):
            await _emit(db, town, f"eager{i}")

        async def eager_arrived() -> bool:
            return await _count(db) == 5

        await _until(eager_arrived, within=5)
        orphan = await _emit(other, town, "orphan")
        await asyncio.sleep(1.0)
        assert await _count(db) == 5  # not handed over, not old enough for a scan yet
        relay.grace_seconds = 0.5
        relay.wake()

        async def orphan_arrived() -> bool:
            return await _count(db) == 6

        await _until(orphan_arrived, within=5)
        async with db.engine.connect() as conn:
            unsent = await conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
            got = {r[0] for r in await conn.execute(select(effects.c.event_id))}
        assert unsent == 0
        assert orphan in got
    finally:
        await _stop(tasks, relay)
        await other.dispose()


async def test_after_a_nats_outage_events_still_leave_in_commit_order(
    db: Database, tmp_path: Any
) -> None:
    """Events committed while NATS is down go out before those committed after it is back:
    the relay catches up from the table before it hands commits over again."""
    nats_server = NatsServer(tmp_path / "nats", log_path=tmp_path / "nats.log").start()
    nc = await connect_nats(nats_server.url, "outage")
    js = nc.jetstream()
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    town = f"t{uuid.uuid4().hex[:8]}"
    arrived: list[str] = []

    async def in_order(uow: UnitOfWork, env: common_pb2.EventEnvelope, p: StringValue) -> None:
        arrived.append(p.value)
        await record(uow, env, p)

    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2, grace_seconds=60)
    consumer = EventConsumer(
        db, js, metrics(), "bustest", _subscription(f"o-{town}", town, in_order)
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:
        await _emit(db, town, "before")

        async def first() -> bool:
            return await _count(db) == 1

        await _until(first)
        nats_server.stop()
        for i in range(3):
            await _emit(db, town, f"during{i}")
        await asyncio.sleep(1.0)  # the relay's publishes fail meanwhile
        nats_server.start()
        await asyncio.sleep(0.5)
        for i in range(3):
            await _emit(db, town, f"after{i}")

        async def all_arrived() -> bool:
            return await _count(db) == 7

        await _until(all_arrived, within=30)
        assert arrived == ["before", "during0", "during1", "during2", "after0", "after1", "after2"]
    finally:
        await _stop(tasks, relay)
        await nc.close()
        nats_server.stop()


async def test_a_time_range_is_replayed_from_the_outbox_and_applied_once(
    db: Database, js: Any
) -> None:
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    town, other = f"t{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"
    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2)
    consumer = EventConsumer(db, js, metrics(), "bustest", _subscription(f"r-{town}", town, record))
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    raw = await asyncpg.connect(db.reads.dsn)
    try:
        before = await raw.fetchval("SELECT now()")
        ids = [await _emit(db, town, f"r{i}") for i in range(5)]
        await _emit(db, other, "elsewhere")  # another town's event in the same range
        after = await raw.fetchval("SELECT now()")
        late = await _emit(db, town, "after the range")

        async def applied() -> bool:
            return await _count(db) >= 6

        await _until(applied)
        # The consumer loses two effects (say, restored from an older backup).
        lost = ids[1:3]
        async with db.engine.begin() as conn:
            await conn.execute(effects.delete().where(effects.c.event_id.in_(lost)))
            await conn.execute(inbox.delete().where(inbox.c.event_id.in_(lost)))
        assert await _count(db) == 4
        assert await replay(raw, js, before, after, township=town) == 5
        assert await replay(raw, js, before, after, township=town, event_type="nothing") == 0

        async def restored() -> bool:
            return await _count(db) == 6

        await _until(restored)
        await asyncio.sleep(0.5)  # the three replayed copies still held must change nothing
        async with db.engine.connect() as conn:
            got = [r[0] for r in await conn.execute(select(effects.c.event_id))]
        assert sorted(got) == sorted([*ids, late]), "each event applied once, none doubled"
    finally:
        await raw.close()
        await _stop(tasks, relay)


async def test_a_restored_consumer_is_rewound_and_applies_each_event_once(
    db: Database, js: Any
) -> None:
    """A restore to a point in time loses the effects (and inbox rows) of what came after;
    rewinding from that point applies them again, once, while the live consumer runs on."""
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    town = f"t{uuid.uuid4().hex[:8]}"
    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2)
    sub = _subscription(f"w-{town}", town, record)
    live = EventConsumer(db, js, metrics(), "bustest", sub)
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(live.run())]
    raw = await asyncpg.connect(db.reads.dsn)
    try:
        early = [await _emit(db, town, f"w{i}") for i in range(3)]

        async def first_applied() -> bool:
            return await _count(db) == 3

        await _until(first_applied)
        restore_point = await raw.fetchval("SELECT now()")
        later = [await _emit(db, town, f"w{i}") for i in range(3, 6)]

        async def all_applied() -> bool:
            return await _count(db) == 6

        await _until(all_applied)
        # the database comes back from a backup taken at the restore point
        async with db.engine.begin() as conn:
            await conn.execute(effects.delete().where(effects.c.event_id.in_(later)))
            await conn.execute(inbox.delete().where(inbox.c.event_id.in_(later)))
        assert await _count(db) == 3
        # a minute early, to be safe: what was applied before is recognised by the inbox
        since = restore_point - timedelta(minutes=1)
        read = await rewind(db, js, metrics(), "bustest", [sub], since)
        assert read == {sub.durable: 6}
        async with db.engine.connect() as conn:
            got = [r[0] for r in await conn.execute(select(effects.c.event_id))]
        assert sorted(got) == sorted(early + later), "each event applied once, none doubled"
        # the temporary consumer is gone; the live one is still there and still applies
        names = [c.name for c in await js.consumers_info("BUSTEST")]
        assert sub.durable in names and not [n for n in names if "rewind" in n]
        newest = await _emit(db, town, "after the rewind")

        async def live_still_applies() -> bool:
            return await _count(db) == 7

        await _until(live_still_applies)
        assert newest in [r[0] for r in await raw.fetch("SELECT event_id FROM effects")]
    finally:
        await raw.close()
        await _stop(tasks, relay)


async def test_a_rewind_until_the_restore_point_skips_what_the_restore_undid(
    db: Database, js: Any
) -> None:
    """Every database restored to one point: events stored after it stand for writes the
    restore undid (not applied); one consumed after it but stored before is applied."""
    await ensure_stream(js, "BUSTEST", ["township.*.bustest.>"])
    town = f"t{uuid.uuid4().hex[:8]}"
    relay = OutboxRelay(db, js, metrics(), poll_seconds=0.2)
    sub = _subscription(f"u-{town}", town, record)
    tasks = [
        asyncio.create_task(relay.run()),
        asyncio.create_task(EventConsumer(db, js, metrics(), "bustest", sub).run()),
    ]
    raw = await asyncpg.connect(db.reads.dsn)
    try:
        early = [await _emit(db, town, f"u{i}") for i in range(3)]

        async def three() -> bool:
            return await _count(db) == 3

        await _until(three)
        restore_point = await raw.fetchval("SELECT now()")
        later = [await _emit(db, town, f"u{i}") for i in range(3, 5)]

        async def five() -> bool:
            return await _count(db) == 5

        await _until(five)
        # restored: the later effects are gone, and the last early one had not been applied
        # yet at the restore point (it was consumed just after it)
        lost = [early[2], *later]
        async with db.engine.begin() as conn:
            await conn.execute(effects.delete().where(effects.c.event_id.in_(lost)))
            await conn.execute(inbox.delete().where(inbox.c.event_id.in_(lost)))
        since = restore_point - timedelta(minutes=1)
        read = await rewind(db, js, metrics(), "bustest", [sub], since, restore_point)
        assert read == {sub.durable: 5}  # all five read, the two after the point skipped
        async with db.engine.connect() as conn:
            got = [r[0] for r in await conn.execute(select(effects.c.event_id))]
        assert sorted(got) == sorted(early)
    finally:
        await raw.close()
        await _stop(tasks, relay)
