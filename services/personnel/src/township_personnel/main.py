"""personnel: post-based appraisal (岗位管理, 系数+积分) and the points ledger."""

from __future__ import annotations

from pathlib import Path

from township.personnel.v1 import personnel_pb2_grpc
from township_personnel.config import PersonnelSettings
from township_personnel.events import (
    enforcement_subscription,
    permits_subscription,
    stationed_subscription,
)
from township_personnel.grpc_api import PersonnelServicer
from township_personnel.seed import seed
from township_platform.entry import run_service
from township_platform.server import ServiceApp
from township_platform.towns import load_townships

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(app: ServiceApp) -> None:
    """Wire personnel: its API, its outbox relay and its consumers."""
    file = getattr(app.settings, "townships_file", None)
    app.add_servicer(
        personnel_pb2_grpc.add_PersonnelServiceServicer_to_server,
        PersonnelServicer(load_townships(file) if file else None),
        "township.personnel.v1.PersonnelService",
    )
    app.publishes_events()
    app.consume(permits_subscription())
    app.consume(enforcement_subscription())
    app.consume(stationed_subscription())


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m township_personnel [serve|migrate|seed]``."""
    settings = PersonnelSettings()
    run_service(
        "personnel",
        settings,
        build=build,
        migrations_dir=MIGRATIONS,
        seed=seed,
        townships_file=settings.townships_file,
        argv=argv,
    )
