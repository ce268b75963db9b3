"""The NATS connection every process opens the same way (light: no database imports).

The gateway imports it without the event backbone of ``township_platform.bus`` (which pulls
in the database layer and would cost the gateway ~25 MiB of memory for nothing).
"""

from __future__ import annotations

import time
from typing import Any

import nats
from nats.aio.client import Client as NatsClient

from township_platform.logging import get_logger

__all__ = ["NATS_ERROR_LOG_SECONDS", "NatsClient", "connect_nats"]

log = get_logger(__name__)

NATS_ERROR_LOG_SECONDS = 30.0
"""How often one and the same NATS error is logged while it lasts."""


async def connect_nats(url: str, name: str) -> NatsClient:
    """Connect with unbounded reconnects (a restarted nats-server is picked up again)."""

    last: dict[str, Any] = {"text": "", "at": 0.0, "suppressed": 0}

    async def _error(e: Exception) -> None:
        # While NATS is away every reconnect attempt fails the same way (twice a second):
        # the same error is logged again only after NATS_ERROR_LOG_SECONDS.
        text, now = str(e), time.monotonic()
        if text == last["text"] and now - last["at"] < NATS_ERROR_LOG_SECONDS:
            last["suppressed"] += 1
            return
        extra = {"not_logged_since": last["suppressed"]} if last["suppressed"] else {}
        log.warning("nats error", error=text, **extra)
        last.update(text=text, at=now, suppressed=0)

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        error_cb=_error,
        allow_reconnect=True,
        drain_timeout=5,
    )
