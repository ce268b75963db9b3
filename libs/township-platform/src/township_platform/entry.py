"""The command line every domain service shares: ``serve`` (default), ``migrate``, ``seed``,
``replay`` (re-publish this producer's events) and ``rewind`` (re-apply what it consumed)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from township_platform import clock
from township_platform.bus import Subscription
from township_platform.clock import parse_instant
from township_platform.config import ServiceSettings
from township_platform.db import Database
from township_platform.logging import configure_logging, get_logger
from township_platform.server import ServiceApp
from township_platform.towns import TownshipsConfig, load_townships

Seeder = Callable[[Database, TownshipsConfig], Awaitable[dict[str, int]]]


def run_service(
    service: str,
    settings: ServiceSettings,
    *,
    build: Callable[[ServiceApp], None],
    migrations_dir: Path,
    seed: Seeder,
    townships_file: str | None,
    argv: list[str] | None = None,
) -> None:
    """Parse the command line and run the service, its migrations or its seed."""
    parser = argparse.ArgumentParser(prog=f"township-{service}")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "migrate", "seed", "replay", "rewind"],
    )
    parser.add_argument("--townships", default=townships_file, help="townships.json to seed")
    parser.add_argument(
        "--create-database", action="store_true", help="create the database first (dev)"
    )
    replaying = parser.add_argument_group("replay (re-publish this service's events of a range)")
    replaying.add_argument("--since", help="from (ISO 8601; China time without an offset)")
    replaying.add_argument("--until", help="until, excluded (default: now)")
    replaying.add_argument("--township", default="", help="only this town's events")
    replaying.add_argument("--type", default="", help="only this event type")
    rewinding = parser.add_argument_group(
        "rewind (apply again what this service's consumers received since a point in time, "
        "after its database was restored from a backup; --since is the restore point)"
    )
    rewinding.add_argument("--consumer", default="", help="only this durable consumer")
    # --since and --until are shared with replay: for rewind, --until (stream time) skips
    # events stored after it (every database restored to the same point)
    args = parser.parse_args(argv)
    if args.command == "serve":
        app = ServiceApp(service, settings)
        build(app)
        asyncio.run(app.run())
        return
    configure_logging(service, settings.log_level)
    log = get_logger(service)
    if args.command == "migrate":
        # Imported here: Alembic costs ~11 MiB that a serving process never needs.
        from township_platform.migrations import ensure_database, upgrade

        async def _migrate() -> None:
            if args.create_database:
                await ensure_database(settings.database_url)
            await upgrade(settings.database_url, migrations_dir)

        asyncio.run(_migrate())
        log.info("migrated", service=service)
        return
    if args.command == "replay":
        from township_platform.bus import replay_range

        try:
            since = parse_instant(args.since or "")
            until = parse_instant(args.until) if args.until else clock.now()
        except ValueError:
            parser.error("replay needs --since (and an optional --until) as ISO 8601")
        if until <= since:
            parser.error("--until must be after --since")
        count = asyncio.run(
            replay_range(
                settings.database_url,
                settings.nats_url,
                since,
                until,
                township=args.township,
                event_type=args.type,
            )
        )
        log.info(
            "replayed",
            service=service,
            events=count,
            since=since.isoformat(),
            until=until.isoformat(),
            township=args.township or None,
            type=args.type or None,
        )
        return
    if args.command == "rewind":
        try:
            since = parse_instant(args.since or "")
        except ValueError:
            parser.error("rewind needs --since (the restore point) as ISO 8601")
        app = ServiceApp(service, settings)
        build(app)
        subs = [s for s in app.subscriptions if args.consumer in ("", s.durable)]
        if not app.subscriptions and not args.consumer:
            log.info("nothing to rewind: the service consumes no events", service=service)
            return
        if not subs:
            known = ", ".join(s.durable for s in app.subscriptions) or "none"
            parser.error(f"no consumer {args.consumer!r} in {service} (its consumers: {known})")
        try:
            upto = parse_instant(args.until) if args.until else None
        except ValueError:
            parser.error("--until is ISO 8601")
        if upto is not None and upto <= since:
            parser.error("--until must be after --since")
        read = asyncio.run(_rewind(app, subs, since, upto))
        log.info("rewind done", service=service, since=since.isoformat(), **read)
        return
    if not args.townships:
        parser.error("seed needs --townships FILE (or the TOWNSHIPS_FILE setting)")
    towns = load_townships(args.townships)

    async def _seed() -> dict[str, int]:
        db = Database(settings.database_url, pool_size=2)
        try:
            return await seed(db, towns)
        finally:
            await db.dispose()

    counts = asyncio.run(_seed())
    log.info("seeded", service=service, townships=towns.slugs, **counts)


async def _rewind(
    app: ServiceApp, subs: list[Subscription], since: datetime, until: datetime | None
) -> dict[str, int]:
    """:func:`township_platform.bus.rewind` with the service's own database and NATS."""
    from township_platform.bus import rewind
    from township_platform.messaging import connect_nats

    nc = await connect_nats(app.settings.nats_url, f"township-{app.service}-rewind")
    try:
        return await rewind(app.db, nc.jetstream(), app.metrics, app.service, subs, since, until)
    finally:
        await nc.drain()
        await app.db.dispose()
