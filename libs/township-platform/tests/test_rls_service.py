"""Row-level security: the second wall behind every query's township filter."""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import DBAPIError

from township_platform.db import Database
from township_platform.migrations import apply_row_level_security, ensure_database, upgrade
from township_platform.principal import Principal
from township_testing.servers import PostgresServer

pytestmark = pytest.mark.service

ROLE = "township"
REPO = Path(__file__).resolve().parents[3]

md = MetaData()
things = Table("things", md, Column("id", String(36)), Column("township_id", String(64)))


def _clerk(town: str) -> Principal:
    return Principal(sub=f"clerk-{town}", roles=("clerk",), township=town)


async def test_a_query_without_its_township_filter_still_sees_only_its_town(
    postgres_server: PostgresServer,
) -> None:
    postgres_server.ensure_role(ROLE)
    url = postgres_server.url(f"rls_{uuid.uuid4().hex[:8]}", user=ROLE)
    await ensure_database(url)
    db = Database(url, pool_size=2)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(md.create_all)
            assert await conn.run_sync(apply_row_level_security) == ["things"]
        async with db.unit_of_work() as uow:  # unscoped: a seed or a county-wide job
            for town in ("zhaowan", "bailiu"):
                for n in range(3):
                    await uow.session.execute(
                        insert(things).values(id=f"{town}-{n}", township_id=town)
                    )
        async with db.unit_of_work(_clerk("bailiu")) as uow:
            # deliberately no WHERE township_id = …
            rows = (await uow.session.execute(select(things.c.id))).scalars().all()
        assert sorted(rows) == ["bailiu-0", "bailiu-1", "bailiu-2"]
        with pytest.raises(DBAPIError, match="row-level security"):
            async with db.unit_of_work(_clerk("bailiu")) as uow:
                await uow.session.execute(insert(things).values(id="x", township_id="zhaowan"))
        async with db.unit_of_work(_clerk("bailiu")) as uow:
            changed = await uow.session.execute(
                text("UPDATE things SET id = id || '-hacked' WHERE township_id = 'zhaowan'")
            )
            assert changed.rowcount == 0
        async with db.unit_of_work() as uow:
            everything = (await uow.session.execute(select(things.c.id))).scalars().all()
        assert len(everything) == 6 and not any(i.endswith("hacked") for i in everything)
    finally:
        await db.dispose()


@pytest.mark.parametrize("service", ["permits", "enforcement", "personnel", "stationed"])
async def test_every_tenant_table_of_every_service_forces_rls(
    postgres_server: PostgresServer, service: str
) -> None:
    importlib.import_module(f"township_{service}.models")
    postgres_server.ensure_role(ROLE)
    url = postgres_server.url(f"{service}_{uuid.uuid4().hex[:6]}", user=ROLE)
    await ensure_database(url)
    await upgrade(url, REPO / "services" / service / "migrations")
    db = Database(url, pool_size=1)
    try:
        async with db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity "
                        "FROM pg_class c JOIN information_schema.columns col "
                        "ON col.table_name = c.relname AND col.column_name = 'township_id' "
                        "AND col.table_schema = current_schema() "
                        "WHERE c.relkind = 'r'"
                    )
                )
            ).all()
    finally:
        await db.dispose()
    assert rows, f"{service} has no tenant tables?"
    unprotected = [r[0] for r in rows if not (r[1] and r[2])]
    assert unprotected == []


@pytest.mark.parametrize("scope", ["session", "transaction"])
async def test_the_read_pool_scopes_every_read_to_its_callers_township(
    postgres_server: PostgresServer, scope: str
) -> None:
    """Raw hot-path reads keep the setting per connection (or per read, behind a transaction
    pooler) and switch it per caller."""
    postgres_server.ensure_role(ROLE)
    url = postgres_server.url(f"rls_{uuid.uuid4().hex[:8]}", user=ROLE)
    await ensure_database(url)
    # one connection: every switch shows
    db = Database(url, pool_size=1, read_pool_size=1, read_scope=scope)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(md.create_all)
            await conn.run_sync(apply_row_level_security)
        async with db.unit_of_work() as uow:
            for town in ("zhaowan", "bailiu"):
                for n in range(2):
                    await uow.session.execute(
                        insert(things).values(id=f"{town}-{n}", township_id=town)
                    )
        query = "SELECT id FROM things ORDER BY id"  # deliberately unfiltered
        for town in ("bailiu", "zhaowan", "zhaowan", "bailiu"):
            rows = await db.reads.fetch(town, query)
            assert [r["id"] for r in rows] == [f"{town}-0", f"{town}-1"]
        assert len(await db.reads.fetch(None, query)) == 4  # county users: unscoped
        # a failed statement does not leave a connection with a stale scope behind
        with pytest.raises(Exception, match="division by zero"):
            await db.reads.fetchrow("bailiu", "SELECT 1 / 0")
        rows = await db.reads.fetch("zhaowan", query)
        assert [r["id"] for r in rows] == ["zhaowan-0", "zhaowan-1"]
        # a connection lost under the pool (a PostgreSQL restart) is replaced, the read retried
        async with db.reads.connection("zhaowan") as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        database = url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(postgres_server.url(database).replace("+asyncpg", ""))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        rows = await db.reads.fetch("bailiu", query)
        assert [r["id"] for r in rows] == ["bailiu-0", "bailiu-1"]
    finally:
        await db.dispose()


async def test_a_connection_lost_under_a_unit_of_work_is_replaced(
    postgres_server: PostgresServer,
) -> None:
    """After a server-side disconnect, the next unit of work gets a fresh connection.

    The unit of work's own statements run on the driver connection, outside SQLAlchemy's
    error handling; without the invalidation the pool kept handing out the dead connection
    to busy services (it is pinged only after a second idle) and no request succeeded after
    a PostgreSQL restart under load.
    """
    postgres_server.ensure_role(ROLE)
    url = postgres_server.url(f"rls_{uuid.uuid4().hex[:8]}", user=ROLE)
    await ensure_database(url)
    db = Database(url, pool_size=1, max_overflow=0)  # one connection: the same one returns
    database = url.rsplit("/", 1)[1]
    try:
        async with db.unit_of_work(_clerk("zhaowan")) as uow:
            pid = await uow.driver.fetchval("SELECT pg_backend_pid()")
        admin = await asyncpg.connect(postgres_server.url(database).replace("+asyncpg", ""))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        with pytest.raises(Exception):  # noqa: B017 - whatever the lost connection raises
            async with db.unit_of_work(_clerk("zhaowan")) as uow:
                await uow.driver.fetchval("SELECT 1")
        async with db.unit_of_work(_clerk("zhaowan")) as uow:
            assert await uow.driver.fetchval("SELECT pg_backend_pid()") != pid
    finally:
        await db.dispose()
