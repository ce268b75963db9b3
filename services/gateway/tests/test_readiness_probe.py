"""The gateway's readiness asks every backing service at once, within the probe's timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gateway_testkit import make_settings
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from township_gateway.clients import Services


class _Stuck(health_pb2_grpc.HealthServicer):
    """A service whose event loop is stuck: it takes the call and never answers in time."""

    async def Check(self, request: Any, context: Any) -> Any:
        await asyncio.sleep(30)
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture
async def stuck_ports() -> AsyncIterator[list[int]]:
    """Four gRPC servers that answer no health check within a second."""
    servers, ports = [], []
    for _ in range(4):
        server = aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(_Stuck(), server)
        ports.append(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        servers.append(server)
    try:
        yield ports
    finally:
        for server in servers:
            await server.stop(0)


async def test_hung_services_cost_the_probe_one_timeout_not_one_each(
    stuck_ports: list[int], keys: tuple[Path, Path]
) -> None:
    addrs = [f"127.0.0.1:{port}" for port in stuck_ports]
    services = Services(
        make_settings(
            jwt_public_key_file=str(keys[1]),
            permits_addr=addrs[0],
            enforcement_addr=addrs[1],
            personnel_addr=addrs[2],
            stationed_addr=addrs[3],
        )
    )
    try:
        started = time.monotonic()
        health = await asyncio.wait_for(services.health(), 10)
        took = time.monotonic() - started
    finally:
        await services.close()
    assert health == dict.fromkeys(["permits", "enforcement", "personnel", "stationed"], False)
    # four checks of 1 s each, asked together: well inside the chart's 2 s probe timeout
    # (one after the other they took 4 s)
    assert took < 2.0, took
