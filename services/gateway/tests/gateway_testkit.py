"""Helpers for gateway tests without backends: settings and an in-process client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from township_gateway.app import create_app
from township_gateway.config import GatewaySettings

REPO = Path(__file__).resolve().parents[3]
TOWNS = REPO / "config" / "townships.json"


def make_settings(**overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "dev_mode": True,
        "townships_file": str(TOWNS),
        "permits_addr": "127.0.0.1:9",  # nothing listens: a valid token reaches a 503
        "enforcement_addr": "127.0.0.1:9",
        "personnel_addr": "127.0.0.1:9",
        "stationed_addr": "127.0.0.1:9",
        "rpc_timeout_seconds": 1.0,
    }
    values.update(overrides)
    return GatewaySettings(**values)


async def get(settings: GatewaySettings, token: str | None, path: str) -> httpx.Response:
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client,
    ):
        return await client.get(path, headers=headers)
