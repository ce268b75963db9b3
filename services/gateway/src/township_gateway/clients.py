"""gRPC clients of the four services: one channel per target, reused; every call bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from township.enforcement.v1 import enforcement_pb2_grpc
from township.permits.v1 import permits_pb2_grpc
from township.personnel.v1 import personnel_pb2_grpc
from township.stationed.v1 import stationed_pb2_grpc
from township_gateway.config import GatewaySettings
from township_gateway.problems import from_rpc_error
from township_platform.principal import (
    IDEMPOTENCY_KEY,
    PRINCIPAL_KEY,
    PRINCIPAL_SIGNATURE_KEY,
    Principal,
    load_signing_key,
    sign_principal,
)
from township_platform.telemetry import inject_trace_headers

T = TypeVar("T")

_CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    # A restarted service is found again within a second (the default backoff grows to 120 s).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 1),
    (
        "grpc.service_config",
        '{"methodConfig": [{"name": [{}], "retryPolicy": {"maxAttempts": 3,'
        ' "initialBackoff": "0.05s", "maxBackoff": "0.5s", "backoffMultiplier": 2,'
        ' "retryableStatusCodes": ["UNAVAILABLE"]}}]}',
    ),
]


_PRINCIPAL_METADATA_MAX = 10_000


class PrincipalMetadata:
    """The principal's metadata entries (JSON, and its signature when a key is set).

    Computed once per principal object: principals come from the token cache, so the same
    objects recur on every request, and ``json.dumps`` plus an HMAC on each call were a
    visible share of the gateway's CPU. Keyed by identity (a Principal holds a dict, so it
    is not hashable); the entry keeps the object alive, so its id cannot be reused while
    cached.
    """

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self._cache: dict[int, tuple[Principal, tuple[tuple[str, str], ...]]] = {}

    def __call__(self, principal: Principal) -> tuple[tuple[str, str], ...]:
        hit = self._cache.get(id(principal))
        if hit is not None and hit[0] is principal:
            return hit[1]
        raw = principal.to_json()
        entries: tuple[tuple[str, str], ...] = ((PRINCIPAL_KEY, raw),)
        if self.key is not None:
            entries += ((PRINCIPAL_SIGNATURE_KEY, sign_principal(raw, self.key)),)
        if len(self._cache) >= _PRINCIPAL_METADATA_MAX:
            self._cache.clear()
        self._cache[id(principal)] = (principal, entries)
        return entries


class Services:
    """Stubs for every backing service, over long-lived channels."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.timeout = settings.rpc_timeout_seconds
        self.principal_metadata = PrincipalMetadata(load_signing_key(settings.principal_key_file))
        self.channels: dict[str, aio.Channel] = {
            "permits": aio.insecure_channel(settings.permits_addr, options=_CHANNEL_OPTIONS),
            "enforcement": aio.insecure_channel(
                settings.enforcement_addr, options=_CHANNEL_OPTIONS
            ),
            "personnel": aio.insecure_channel(settings.personnel_addr, options=_CHANNEL_OPTIONS),
            "stationed": aio.insecure_channel(settings.stationed_addr, options=_CHANNEL_OPTIONS),
        }
        self.permits = permits_pb2_grpc.PermitsServiceStub(self.channels["permits"])
        self.enforcement = enforcement_pb2_grpc.EnforcementServiceStub(self.channels["enforcement"])
        self.personnel = personnel_pb2_grpc.PersonnelServiceStub(self.channels["personnel"])
        self.stationed = stationed_pb2_grpc.StationedServiceStub(self.channels["stationed"])

    async def call(
        self,
        method: Callable[..., Awaitable[T]],
        request: Any,
        principal: Principal | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> T:
        """Call ``method`` with the principal, trace context and a deadline; map errors."""
        metadata: list[tuple[str, str]] = []
        if principal is not None:
            metadata.extend(self.principal_metadata(principal))
        if idempotency_key:
            metadata.append((IDEMPOTENCY_KEY, idempotency_key))
        carrier: dict[str, str] = {}
        inject_trace_headers(carrier)
        metadata.extend(carrier.items())
        try:
            return await method(request, metadata=tuple(metadata), timeout=self.timeout)
        except aio.AioRpcError as e:
            raise from_rpc_error(e) from e

    async def health(self) -> dict[str, bool]:
        """Whether each service answers SERVING to the standard health check."""

        async def serving(channel: aio.Channel) -> bool:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
            except grpc.RpcError:
                return False
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

        # asked together: one hung service costs the probe 1 s, not 1 s per service
        names = list(self.channels)
        answers = await asyncio.gather(*(serving(self.channels[n]) for n in names))
        return dict(zip(names, answers, strict=True))

    async def close(self) -> None:
        """Close every channel."""
        for channel in self.channels.values():
            await channel.close(None)
