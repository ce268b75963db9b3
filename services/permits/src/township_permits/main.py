"""permits: delegated licensing and public services (政务服务)."""

from __future__ import annotations

from pathlib import Path

from township.permits.v1 import permits_pb2_grpc
from township_permits import metrics
from township_permits.config import PermitsSettings
from township_permits.grpc_api import PermitsServicer
from township_permits.jobs import deadline_scan
from township_permits.seed import seed
from township_permits.workflow import Runtime
from township_platform.calendar import load_calendar
from township_platform.entry import run_service
from township_platform.logging import get_logger
from township_platform.server import ServiceApp
from township_platform.towns import load_townships

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
READONLY_RPCS = {"GetApplication", "ListApplications"}
"""Methods that only read, through the raw read pool (no unit of work)."""

SINGLE_STATEMENT_RPCS = {"SubmitIntake"}
"""Methods written as plain SQL whose writes are one statement (``uow.stage``): no ORM
session, no BEGIN/COMMIT (see ``Database.unit_of_work``)."""

PUBLIC_RPCS = {
    "GetPublicStatus",
    "ListCatalogue",
    "GetServiceGuide",
    "ListServiceItems",
    "SubmitRating",
}

log = get_logger(__name__)


def runtime_from(settings: PermitsSettings) -> Runtime:
    """Calendar, policy and configured towns, from the settings."""
    calendar, provisional = load_calendar(settings.calendar_file)
    config = load_townships(settings.townships_file) if settings.townships_file else None
    towns = set(config.slugs) if config else None
    villages = {t.slug: {v.code for v in t.villages} for t in config.townships} if config else {}
    return Runtime(
        villages=villages,
        calendar=calendar,
        warning_days=settings.warning_days,
        rectification_days=settings.rectification_days,
        towns=towns,
        provisional_years=provisional,
    )


def build(app: ServiceApp) -> None:
    """Wire the permits service: its API, outbox relay, deadline scan and metrics."""
    assert isinstance(app.settings, PermitsSettings)
    runtime = runtime_from(app.settings)
    if runtime.provisional_years:
        log.warning(
            "working-day calendar has provisional years; replace them with the official schedule",
            years=runtime.provisional_years,
        )
    metrics.init(runtime.towns or ())
    app.add_servicer(
        permits_pb2_grpc.add_PermitsServiceServicer_to_server,
        PermitsServicer(runtime),
        "township.permits.v1.PermitsService",
        public=PUBLIC_RPCS,
        readonly=READONLY_RPCS,
        single_statement=SINGLE_STATEMENT_RPCS,
    )
    app.publishes_events()
    app.every(
        "permits-deadline-scan",
        app.settings.deadline_scan_seconds,
        deadline_scan(runtime, gauges_every=app.settings.gauges_seconds),
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m township_permits [serve|migrate|seed]``."""
    settings = PermitsSettings()
    run_service(
        "permits",
        settings,
        build=build,
        migrations_dir=MIGRATIONS,
        seed=seed,
        townships_file=settings.townships_file,
        argv=argv,
    )
