"""gateway: the one HTTP entrance (FastAPI on uvicorn)."""

from __future__ import annotations

import asyncio
import signal
from types import FrameType

import uvicorn
from fastapi import FastAPI

from township_gateway.app import create_app
from township_gateway.config import GatewaySettings
from township_platform.logging import configure_logging, get_logger
from township_platform.telemetry import setup_telemetry

log = get_logger(__name__)


class DrainingServer(uvicorn.Server):
    """uvicorn that, on SIGTERM, first reports not-ready for ``drain_seconds``, then stops.

    During the drain window requests are still served, so a load balancer that notices the
    failing readiness probe moves traffic away before connections are refused; then uvicorn's
    own graceful shutdown finishes in-flight requests within the grace period.
    """

    def __init__(self, config: uvicorn.Config, app: FastAPI, drain_seconds: float) -> None:
        super().__init__(config)
        self.fastapi_app = app
        self.drain_seconds = drain_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """First SIGTERM: start draining; anything else: uvicorn's usual behaviour."""
        state = self.fastapi_app.state
        if sig != signal.SIGTERM or state.draining or self.drain_seconds <= 0:
            state.draining = True
            super().handle_exit(sig, frame)
            return
        state.draining = True
        log.info("draining before shutdown", seconds=self.drain_seconds)
        loop = asyncio.get_event_loop()
        loop.call_soon_threadsafe(
            loop.call_later, self.drain_seconds, super().handle_exit, sig, frame
        )


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
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    DrainingServer(config, app, settings.shutdown_drain_seconds).run()
