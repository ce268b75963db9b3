"""stationed: county offices stationed in townships (驻镇单位: 县上人、镇上用)."""

from __future__ import annotations

from pathlib import Path

from township.stationed.v1 import stationed_pb2_grpc
from township_platform.entry import run_service
from township_platform.server import ServiceApp
from township_stationed.config import StationedSettings
from township_stationed.events import apply_due_redeployments, personnel_subscription
from township_stationed.grpc_api import StationedServicer
from township_stationed.seed import seed

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(app: ServiceApp) -> None:
    """Wire stationed: its API, its outbox relay, its consumer and the redeployment job."""
    app.add_servicer(
        stationed_pb2_grpc.add_StationedServiceServicer_to_server,
        StationedServicer(),
        "township.stationed.v1.StationedService",
    )
    app.publishes_events()
    app.consume(personnel_subscription())
    app.every("redeployments-take-effect", 5.0, apply_due_redeployments)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m township_stationed [serve|migrate|seed]``."""
    settings = StationedSettings()
    run_service(
        "stationed",
        settings,
        build=build,
        migrations_dir=MIGRATIONS,
        seed=seed,
        townships_file=settings.townships_file,
        argv=argv,
    )
