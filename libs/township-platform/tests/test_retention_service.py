"""Retention: the inbox and the Idempotency-Keys forget what is past its time, in batches, and
nothing younger; streams keep events for the producer's age limit (real PostgreSQL and NATS)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import nats
import pytest
from pydantic import ValidationError

from township_platform.bus import ensure_stream
from township_platform.config import ServiceSettings
from township_platform.db import Database, platform_metadata
from township_platform.migrations import create_retention_indexes, ensure_database
from township_platform.retention import Retention
from township_testing.servers import NatsServer, PostgresServer

pytestmark = pytest.mark.service

ROLE = "township"
HOUR = 3600.0


@pytest.fixture
async def conn(postgres_server: PostgresServer) -> AsyncIterator[asyncpg.Connection]:
    postgres_server.ensure_role(ROLE)
    url = postgres_server.url(f"retention_{uuid.uuid4().hex[:8]}", user=ROLE)
    await ensure_database(url)
    database = Database(url, pool_size=1, lean_pool_size=1)
    async with database.engine.begin() as c:
        await c.run_sync(platform_metadata.create_all)
        await c.run_sync(create_retention_indexes)
        await c.run_sync(create_retention_indexes)  # idempotent: a re-run migration is fine
    await database.dispose()
    connection = await asyncpg.connect(database.lean.dsn)
    yield connection
    await connection.close()


async def _age(conn: asyncpg.Connection, hours_ago: list[float]) -> None:
    """Inbox rows and Idempotency-Keys that were written ``hours_ago``."""
    for i, hours in enumerate(hours_ago):
        await conn.execute(
            "INSERT INTO inbox (consumer, event_id, type, processed_at) "
            "VALUES ('points', $1, 't', now() - make_interval(secs => $2))",
            f"e{i}",
            hours * HOUR,
        )
        await conn.execute(
            "INSERT INTO idempotency_keys (scope, key, method, request_hash, response, "
            "created_at) VALUES ('zhaowan', $1, 'm', 'h', '\\x00', "
            "now() - make_interval(secs => $2))",
            f"k{i}",
            hours * HOUR,
        )


async def _outbox(conn: asyncpg.Connection, rows: list[tuple[str, float, bool]]) -> None:
    """Outbox events written ``hours`` ago, sent or not."""
    for event_id, hours, sent in rows:
        await conn.execute(
            "INSERT INTO outbox (event_id, subject, type, township_id, envelope, headers, "
            "created_at, sent_at) VALUES ($1, 's', 't', 'zhaowan', '\\x00', '{}', "
            "now() - make_interval(secs => $2), "
            "CASE WHEN $3 THEN now() - make_interval(secs => $2) END)",
            event_id,
            hours * HOUR,
            sent,
        )


async def test_old_rows_go_in_batches_and_younger_ones_stay(conn: asyncpg.Connection) -> None:
    await _age(conn, [400, 350, 340, 300, 200, 100, 1])
    await _outbox(conn, [("sent-old", 30, True), ("unsent-old", 30, False), ("sent", 2, True)])
    retention = Retention(
        inbox_seconds=336 * HOUR, idempotency_seconds=168 * HOUR, outbox_seconds=24 * HOUR, batch=2
    )
    assert await retention.sweep(conn) == {"inbox": 3, "idempotency_keys": 5, "outbox": 1}
    inbox = await conn.fetch("SELECT event_id FROM inbox ORDER BY event_id")
    keys = await conn.fetch("SELECT key FROM idempotency_keys ORDER BY key")
    outbox = await conn.fetch("SELECT event_id FROM outbox ORDER BY event_id")
    assert [r[0] for r in inbox] == ["e3", "e4", "e5", "e6"]  # 300 h and younger
    assert [r[0] for r in keys] == ["k5", "k6"]  # 100 h and younger
    # an unsent event waits for NATS however old it is
    assert [r[0] for r in outbox] == ["sent", "unsent-old"]
    assert await retention.sweep(conn) == {"inbox": 0, "idempotency_keys": 0, "outbox": 0}


async def test_the_sweep_reads_the_brin_indexes(conn: asyncpg.Connection) -> None:
    names = {
        r[0]
        for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING brin%'"
        )
    }
    assert names == {
        "ix_inbox_processed_brin",
        "ix_idempotency_keys_created_brin",
        "ix_outbox_created_brin",
    }


def test_an_inbox_shorter_than_an_event_can_arrive_is_refused() -> None:
    with pytest.raises(ValidationError, match="INBOX_RETENTION_HOURS"):
        ServiceSettings(inbox_retention_hours=100, stream_max_age_hours=96)  # + 24 h outbox
    with pytest.raises(ValidationError, match="STREAM_MAX_AGE_HOURS"):
        ServiceSettings(inbox_retention_hours=200, outbox_retention_hours=48)
    ok = ServiceSettings(inbox_retention_hours=200, stream_max_age_hours=96)
    assert ok.inbox_retention_hours == 200


async def test_the_producer_sets_its_stream_s_age_and_a_consumer_leaves_it(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    name = f"AGE{uuid.uuid4().hex[:6].upper()}"
    subjects = [f"township.*.{name.lower()}.>"]
    try:
        await ensure_stream(js, name, subjects)  # a consumer first: no limit of its own
        assert not (await js.stream_info(name)).config.max_age
        await ensure_stream(js, name, subjects, max_age=timedelta(hours=168))
        assert (await js.stream_info(name)).config.max_age == 168 * HOUR
        await ensure_stream(js, name, subjects)  # a consumer again: the limit stays
        assert (await js.stream_info(name)).config.max_age == 168 * HOUR
        await ensure_stream(js, name, subjects, max_age=timedelta(hours=72))  # changed
        assert (await js.stream_info(name)).config.max_age == 72 * HOUR
    finally:
        await js.delete_stream(name)
        await nc.close()
