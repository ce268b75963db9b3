"""The lean unit of work (``uow.driver`` only) keeps every promise of the ORM one:
commit or roll back as a whole, row-level security, the outbox hand-over, idempotency keys,
and a fresh connection after a lost one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import Column, MetaData, String, Table

from township_platform.db import Database, OutboxRow, platform_metadata
from township_platform.migrations import apply_row_level_security, ensure_database
from township_platform.principal import Principal
from township_testing.servers import PostgresServer

pytestmark = pytest.mark.service

ROLE = "township"
md = MetaData()
things = Table("things", md, Column("id", String(36)), Column("township_id", String(64)))


def _clerk(town: str) -> Principal:
    return Principal(sub=f"clerk-{town}", roles=("clerk",), township=town)


@pytest.fixture
async def db(postgres_server: PostgresServer) -> AsyncIterator[Database]:
    postgres_server.ensure_role(ROLE)
    url = postgres_server.url(f"lean_{uuid.uuid4().hex[:8]}", user=ROLE)
    await ensure_database(url)
    database = Database(url, pool_size=1, lean_pool_size=1)  # the same connection returns
    async with database.engine.begin() as conn:
        await conn.run_sync(md.create_all)
        await conn.run_sync(platform_metadata.create_all)
        await conn.run_sync(apply_row_level_security)
    yield database
    await database.dispose()


async def _ids(db: Database) -> list[str]:
    async with db.unit_of_work(lean=True) as uow:
        return sorted(r[0] for r in await uow.driver.fetch("SELECT id FROM things"))


async def test_commits_as_a_whole_or_not_at_all_and_hands_its_events_over(db: Database) -> None:
    handed: list[list[OutboxRow]] = []
    db.after_commit = handed.append
    async with db.unit_of_work(_clerk("zhaowan"), source="t", lean=True) as uow:
        await uow.driver.execute("INSERT INTO things VALUES ('a', 'zhaowan')")
        event_id = await uow.emit(
            StringValue(value="a"), township="zhaowan", entity="thing", verb="made"
        )
    with pytest.raises(RuntimeError, match="on purpose"):
        async with db.unit_of_work(_clerk("zhaowan"), source="t", lean=True) as uow:
            await uow.driver.execute("INSERT INTO things VALUES ('b', 'zhaowan')")
            await uow.emit(StringValue(value="b"), township="zhaowan", entity="thing", verb="made")
            raise RuntimeError("rolled back on purpose")
    with pytest.raises(asyncpg.UniqueViolationError):  # fails at the end, in its last statement
        async with db.unit_of_work(_clerk("zhaowan"), source="t", lean=True) as uow:
            await uow.driver.execute("INSERT INTO things VALUES ('c', 'zhaowan')")
            await uow.emit(
                StringValue(value="c"),
                township="zhaowan",
                entity="thing",
                verb="made",
                event_id=event_id,  # already in the outbox
            )
    assert await _ids(db) == ["a"]
    assert [[row[0] for row in rows] for rows in handed] == [[event_id]]
    async with db.unit_of_work(lean=True) as uow:
        assert await uow.driver.fetchval("SELECT count(*) FROM outbox") == 1


async def test_has_no_orm_session(db: Database) -> None:
    with pytest.raises(RuntimeError, match="lean unit of work has no ORM session"):
        async with db.unit_of_work(lean=True) as uow:
            _ = uow.session
    async with db.unit_of_work(lean=True) as uow:  # the connection went back healthy
        assert await uow.driver.fetchval("SELECT 1") == 1


async def test_is_scoped_to_its_town_by_row_level_security(db: Database) -> None:
    async with db.unit_of_work(lean=True) as uow:  # unscoped: a seed or a county-wide job
        for town in ("zhaowan", "bailiu"):
            await uow.driver.execute(f"INSERT INTO things VALUES ('{town}-1', '{town}')")
    async with db.unit_of_work(_clerk("bailiu"), lean=True) as uow:
        # deliberately no WHERE township_id = …
        assert [r[0] for r in await uow.driver.fetch("SELECT id FROM things")] == ["bailiu-1"]
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with db.unit_of_work(_clerk("bailiu"), lean=True) as uow:
            await uow.driver.execute("INSERT INTO things VALUES ('x', 'zhaowan')")
    # the setting was transaction-local: the same pooled connection is unscoped again
    assert await _ids(db) == ["bailiu-1", "zhaowan-1"]


async def test_finds_the_stored_response_of_an_idempotency_key(db: Database) -> None:
    key = ("zhaowan", f"key-{uuid.uuid4()}")
    async with db.unit_of_work(_clerk("zhaowan"), idempotency=key, lean=True) as uow:
        assert uow.seen is None
        uow.remember_idempotent(*key, "/M", "hash", b"response")
    async with db.unit_of_work(_clerk("zhaowan"), idempotency=key, lean=True) as uow:
        assert uow.seen == ("/M", "hash", b"response")
    with pytest.raises(asyncpg.UniqueViolationError):  # a concurrent twin stored it first
        async with db.unit_of_work(_clerk("zhaowan"), lean=True) as uow:
            uow.remember_idempotent(*key, "/M", "hash", b"other")


async def test_a_lost_connection_is_replaced(db: Database, postgres_server: PostgresServer) -> None:
    async with db.unit_of_work(lean=True) as uow:
        pid = await uow.driver.fetchval("SELECT pg_backend_pid()")
    admin = await asyncpg.connect(postgres_server.url(db.database).replace("+asyncpg", ""))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # the client has seen the server close it
    # the pool notices and connects afresh: not even the next unit of work fails
    async with db.unit_of_work(lean=True) as uow:
        assert await uow.driver.fetchval("SELECT pg_backend_pid()") != pid
    # a connection lost in the middle of a unit of work fails that one only
    admin = await asyncpg.connect(postgres_server.url(db.database).replace("+asyncpg", ""))
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the lost connection raises
            async with db.unit_of_work(lean=True) as uow:
                pid = await uow.driver.fetchval("SELECT pg_backend_pid()")
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                await uow.driver.fetchval("SELECT 1")
    finally:
        await admin.close()
    async with db.unit_of_work(lean=True) as uow:
        assert await uow.driver.fetchval("SELECT pg_backend_pid()") != pid


# single-statement units of work ------------------------------------------------------------
_THING = "made AS (INSERT INTO things VALUES ($1, $2))"


async def test_single_statement_writes_staged_rows_events_and_key_as_one(db: Database) -> None:
    handed: list[list[OutboxRow]] = []
    db.after_commit = handed.append
    key = ("zhaowan", f"key-{uuid.uuid4()}")
    clerk = _clerk("zhaowan")
    async with db.unit_of_work(clerk, source="t", idempotency=key, single_statement=True) as uow:
        assert uow.seen is None
        uow.stage(_THING, "a", "zhaowan")
        uow.stage("more AS (INSERT INTO things VALUES ($1, $2))", "a2", "zhaowan")  # renumbered
        event_id = await uow.emit(
            StringValue(value="a"), township="zhaowan", entity="thing", verb="made"
        )
        uow.remember_idempotent(*key, "/M", "hash", b"response")
    assert await _ids(db) == ["a", "a2"]
    assert [[row[0] for row in rows] for rows in handed] == [[event_id]]
    async with db.unit_of_work(clerk, source="t", idempotency=key, single_statement=True) as uow:
        assert uow.seen == ("/M", "hash", b"response")


async def test_single_statement_is_all_or_nothing(db: Database) -> None:
    clerk = _clerk("zhaowan")
    with pytest.raises(RuntimeError, match="on purpose"):
        async with db.unit_of_work(clerk, source="t", single_statement=True) as uow:
            uow.stage(_THING, "b", "zhaowan")
            await uow.emit(StringValue(value="b"), township="zhaowan", entity="thing", verb="made")
            raise RuntimeError("nothing written on purpose")
    async with db.unit_of_work(clerk, source="t", single_statement=True) as uow:
        uow.stage(_THING, "c", "zhaowan")
        event_id = await uow.emit(
            StringValue(value="c"), township="zhaowan", entity="thing", verb="made"
        )
    with pytest.raises(asyncpg.UniqueViolationError):  # the event fails: the row goes too
        async with db.unit_of_work(clerk, source="t", single_statement=True) as uow:
            uow.stage(_THING, "d", "zhaowan")
            await uow.emit(
                StringValue(value="d"),
                township="zhaowan",
                entity="thing",
                verb="made",
                event_id=event_id,
            )
    assert await _ids(db) == ["c"]
    async with db.unit_of_work(lean=True) as uow:
        assert await uow.driver.fetchval("SELECT count(*) FROM outbox") == 1


async def test_single_statement_reads_only_through_its_driver(db: Database) -> None:
    for statement in (
        "INSERT INTO things VALUES ('x', 'zhaowan')",
        "WITH w AS (DELETE FROM things RETURNING 1) SELECT count(*) FROM w",
        "SELECT id FROM things FOR UPDATE",
        "select id from things for share",
    ):
        with pytest.raises(RuntimeError, match=r"writes with uow\.stage"):
            async with db.unit_of_work(_clerk("zhaowan"), single_statement=True) as uow:
                await uow.driver.fetch(statement)
    assert await _ids(db) == []


async def test_single_statement_is_scoped_and_leaves_no_scope_behind(db: Database) -> None:
    async with db.unit_of_work(lean=True) as uow:
        for town in ("zhaowan", "bailiu"):
            await uow.driver.execute(f"INSERT INTO things VALUES ('{town}-1', '{town}')")
    async with db.unit_of_work(_clerk("bailiu"), single_statement=True) as uow:
        # deliberately no WHERE township_id = …
        assert [r[0] for r in await uow.driver.fetch("SELECT id FROM things")] == ["bailiu-1"]
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with db.unit_of_work(_clerk("bailiu"), single_statement=True) as uow:
            uow.stage(_THING, "x", "zhaowan")
    # The town was a session setting on the one pooled connection: county-wide work on it
    # afterwards (lean, ORM-less, no Idempotency-Key) is unscoped again, and so is the next
    # single-statement unit of work of a county user.
    assert await _ids(db) == ["bailiu-1", "zhaowan-1"]
    async with db.unit_of_work(_clerk("bailiu"), single_statement=True) as uow:
        await uow.driver.fetch("SELECT 1")
    async with db.unit_of_work(single_statement=True) as uow:
        assert len(await uow.driver.fetch("SELECT id FROM things")) == 2
        uow.stage(_THING, "county-1", "zhaowan")
    assert await _ids(db) == ["bailiu-1", "county-1", "zhaowan-1"]


async def test_single_statement_falls_back_to_a_transaction_behind_a_pooling_proxy(
    db: Database,
) -> None:
    db.reads.scope = "transaction"  # as DB_READ_SCOPE=transaction configures it
    async with db.unit_of_work(_clerk("zhaowan"), source="t", single_statement=True) as uow:
        assert not uow.single_statement
        assert await uow.driver.fetchval("SELECT count(*) FROM things") == 0
        uow.stage(_THING, "e", "zhaowan")
    assert await _ids(db) == ["e"]
