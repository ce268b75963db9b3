"""gateway: the one HTTP entrance (FastAPI on uvicorn)."""

from __future__ import annotations

import uvicorn

from township_gateway.app import create_app
from township_gateway.config import GatewaySettings
from township_platform.logging import configure_logging
from township_platform.telemetry import setup_telemetry


def main() -> None:
    """Entry point: ``python -m township_gateway``."""
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    setup_telemetry(
        service="gateway",
        version=settings.version,
        environment=settings.environment,
        otlp_endpoint=settings.otlp_endpoint,
        sampling_ratio=settings.trace_sampling_ratio,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
