"""enforcement: integrated administrative law enforcement (综合行政执法)."""

from __future__ import annotations

from pathlib import Path

from township.enforcement.v1 import enforcement_pb2_grpc
from township_enforcement.config import EnforcementSettings
from township_enforcement.grpc_api import EnforcementServicer
from township_enforcement.jobs import deadline_scan
from township_enforcement.seed import seed
from township_platform.calendar import load_calendar
from township_platform.entry import run_service
from township_platform.logging import get_logger
from township_platform.server import ServiceApp
from township_platform.towns import load_townships

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
log = get_logger(__name__)


PUBLIC = {
    "ListEntrustments",
    "ListItems",
    "SubmitComplaint",
    "ListComplaintServices",
    "GetComplaintService",
    "ListPublicRequests",
    "ListPublishedDecisions",
}


def build(app: ServiceApp) -> None:
    """Wire enforcement: its API, its outbox relay and the deadline scan."""
    settings = app.settings
    assert isinstance(settings, EnforcementSettings)
    # the same calendar as permits (the packaged file unless CALENDAR_FILE names one)
    calendar, provisional = load_calendar(
        settings.calendar_file, weekends_only_fallback=settings.calendar_weekends_only_fallback
    )
    if provisional:
        log.warning(
            "working-day calendar has provisional years; replace them with the official schedule",
            years=provisional,
        )
    towns = load_townships(settings.townships_file) if settings.townships_file else None
    app.add_servicer(
        enforcement_pb2_grpc.add_EnforcementServiceServicer_to_server,
        EnforcementServicer(calendar, towns),
        "township.enforcement.v1.EnforcementService",
        public=PUBLIC,
    )
    app.publishes_events()
    app.every(
        "enforcement-deadlines",
        settings.deadline_scan_seconds,
        deadline_scan(calendar, towns.slugs if towns else []),
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m township_enforcement [serve|migrate|seed]``."""
    settings = EnforcementSettings()
    run_service(
        "enforcement",
        settings,
        build=build,
        migrations_dir=MIGRATIONS,
        seed=seed,
        townships_file=settings.townships_file,
        argv=argv,
    )
