"""Autogenerate an Alembic revision for one service against a scratch PostgreSQL.

Usage: python scripts/new_migration.py permits "add ratings"
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from township_platform.migrations import alembic_config, ensure_database, upgrade
from township_testing.servers import PostgresServer

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Start PostgreSQL, migrate to head, autogenerate the difference to the models."""
    service, message = sys.argv[1], sys.argv[2]
    importlib.import_module(f"township_{service}.models")
    migrations = ROOT / "services" / service / "migrations"
    tmp = Path(tempfile.mkdtemp(prefix="township-mig-"))
    tmp.chmod(0o755)
    pg = PostgresServer(tmp / "pg").start()
    try:
        url = pg.url(service)
        asyncio.run(ensure_database(url))
        asyncio.run(upgrade(url, migrations))
        cfg = alembic_config(migrations, url)

        async def _gen() -> None:
            engine = create_async_engine(url)
            async with engine.begin() as conn:

                def _run(connection: object) -> None:
                    cfg.attributes["connection"] = connection
                    command.revision(cfg, message=message, autogenerate=True)

                await conn.run_sync(_run)
            await engine.dispose()

        asyncio.run(_gen())
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
