"""permits: delegated licensing and public services (政务服务)."""

from __future__ import annotations

from pathlib import Path

from township.permits.v1 import permits_pb2_grpc
from township_permits.config import PermitsSettings
from township_permits.grpc_api import PermitsServicer
from township_permits.seed import seed
from township_platform.entry import run_service
from township_platform.server import ServiceApp

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(app: ServiceApp) -> None:
    """Wire the permits service: its API and its outbox relay."""
    app.add_servicer(
        permits_pb2_grpc.add_PermitsServiceServicer_to_server,
        PermitsServicer(),
        "township.permits.v1.PermitsService",
        public={"GetPublicStatus", "ListCatalogue"},
    )
    app.publishes_events()


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
