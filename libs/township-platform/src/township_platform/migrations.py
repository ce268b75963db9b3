"""Alembic per service: programmatic upgrade, the shared env.py body, and database creation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from township_platform.db import async_url, platform_metadata


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    """An Alembic config for one service's ``migrations/`` folder."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return cfg


async def ensure_database(database_url: str) -> None:
    """Create the database named in ``database_url`` if it does not exist (dev and tests)."""
    url = make_url(async_url(database_url))
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        await admin.dispose()


async def upgrade(database_url: str, migrations_dir: Path, revision: str = "head") -> None:
    """Run ``alembic upgrade`` on an async engine from inside a running event loop."""
    engine = create_async_engine(async_url(database_url))
    cfg = alembic_config(migrations_dir, database_url)

    def _run(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        apply_row_level_security(connection)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py`` (online mode only)."""
    config = context.config
    metadata: list[MetaData] = [platform_metadata, target_metadata]

    def _migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()

    connection: Any = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return

    async def _main() -> None:
        engine = create_async_engine(str(config.get_main_option("sqlalchemy.url")))
        async with engine.begin() as conn:
            await conn.run_sync(_migrate)
        await engine.dispose()

    asyncio.run(_main())


TENANT_COLUMN = "township_id"
RLS_SETTING = "township.current"
RLS_POLICY = "township_isolation"


def apply_row_level_security(connection: Connection) -> list[str]:
    """Force row-level security on every table with a ``township_id`` column (idempotent).

    Run after every migration, so a table added later cannot be forgotten. A transaction whose
    ``township.current`` setting names a town sees and writes only that town's rows; an empty
    setting (county-wide users, event consumers scoped by the event's town, periodic jobs,
    seeds) is not restricted by this wall — their queries filter as the domain requires.
    FORCE makes it apply to the tables' owner too; PostgreSQL superusers always bypass RLS,
    so services must connect as an ordinary role (the local stack and the chart do).
    """
    tables = [
        row[0]
        for row in connection.execute(
            text(
                "SELECT c.table_name FROM information_schema.columns c "
                "JOIN information_schema.tables t USING (table_schema, table_name) "
                "WHERE c.table_schema = current_schema() AND c.column_name = :col "
                "AND t.table_type = 'BASE TABLE' ORDER BY 1"
            ),
            {"col": TENANT_COLUMN},
        )
    ]
    scoped = (
        f"coalesce(current_setting('{RLS_SETTING}', true), '') = '' "
        f"OR {TENANT_COLUMN} = current_setting('{RLS_SETTING}', true)"
    )
    for table in tables:
        connection.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
        connection.execute(text(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'))
        connection.execute(text(f'DROP POLICY IF EXISTS {RLS_POLICY} ON "{table}"'))
        connection.execute(
            text(f'CREATE POLICY {RLS_POLICY} ON "{table}" USING ({scoped}) WITH CHECK ({scoped})')
        )
    return tables


def create_platform_tables(connection: Connection) -> None:
    """Outbox, inbox and idempotency tables (called by each service's first migration)."""
    platform_metadata.create_all(connection)


def drop_platform_tables(connection: Connection) -> None:
    """Inverse of :func:`create_platform_tables`."""
    platform_metadata.drop_all(connection)


# BRIN indexes: the rows arrive in time order, so a few pages of summary per table let the
# retention sweep find old rows without a full scan, at almost no cost per insert (a B-tree
# on these columns would be one more index to write on every request and event).
_RETENTION_INDEXES = (
    ("ix_inbox_processed_brin", "inbox", "processed_at"),
    ("ix_idempotency_keys_created_brin", "idempotency_keys", "created_at"),
    ("ix_outbox_created_brin", "outbox", "created_at"),
)


def create_retention_indexes(connection: Connection) -> None:
    """The indexes the retention sweep reads (``township_platform.retention``); idempotent."""
    for name, table, column in _RETENTION_INDEXES:
        connection.execute(
            text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING brin ({column})")
        )


def drop_retention_indexes(connection: Connection) -> None:
    """Inverse of :func:`create_retention_indexes`."""
    for name, _, _ in _RETENTION_INDEXES:
        connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
