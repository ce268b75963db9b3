"""enforcement: integrated administrative law enforcement (综合行政执法)."""

from __future__ import annotations

from pathlib import Path

from township.enforcement.v1 import enforcement_pb2_grpc
from township_enforcement.config import EnforcementSettings
from township_enforcement.grpc_api import EnforcementServicer
from township_enforcement.seed import seed
from township_platform.entry import run_service
from township_platform.server import ServiceApp

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(app: ServiceApp) -> None:
    """Wire enforcement: its API and its outbox relay."""
    app.add_servicer(
        enforcement_pb2_grpc.add_EnforcementServiceServicer_to_server,
        EnforcementServicer(),
        "township.enforcement.v1.EnforcementService",
        public={"ListEntrustments"},
    )
    app.publishes_events()


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
