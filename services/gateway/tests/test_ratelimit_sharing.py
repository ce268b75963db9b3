"""Rate limits shared between gateway replicas over a real NATS: a limit holds for the
deployment, whichever replica a client reaches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import orjson
from gateway_testkit import make_settings

from township_gateway.app import create_app
from township_gateway.ratelimit import RateShare, TokenBuckets
from township_testing.devkeys import mint_token
from township_testing.servers import NatsServer, free_port

PATH = "/api/v1/applications/01a21ded-1055-7a85-92b2-c3d25b5ede76"


def test_tokens_another_replica_granted_are_taken_here() -> None:
    buckets = TokenBuckets()
    buckets.charge("k", 3, rate=1, burst=4, now=0.0)
    assert buckets.take("k", rate=1, burst=4, now=0.0) == 0  # the fourth token
    assert buckets.take("k", rate=1, burst=4, now=0.0) == 1.0
    # a peer's overdraft (it granted what was gone here) refuses until it has refilled,
    # at most one burst deep
    buckets.charge("k", 100, rate=1, burst=4, now=0.0)
    assert buckets.take("k", rate=1, burst=4, now=0.0) == 5.0
    assert buckets.take("k", rate=1, burst=4, now=5.0) == 0


def test_only_granted_tokens_are_shared_and_only_while_sharing() -> None:
    buckets = TokenBuckets()
    buckets.take("alone", rate=1, burst=1, now=0.0)
    assert buckets.drain() == {}
    buckets.sharing = True
    for _ in range(3):
        buckets.take("k", rate=1, burst=2, now=0.0)  # two granted, one refused
    assert buckets.drain() == {"k": [2, 1, 2]}
    assert buckets.drain() == {}


def test_a_replica_ignores_its_own_and_malformed_messages() -> None:
    buckets = TokenBuckets()
    share = RateShare(buckets, "nats://127.0.0.1:9")
    share.apply(orjson.dumps({"replica": share.replica, "taken": {"k": [1, 1, 1]}}))
    assert buckets.take("k", rate=1, burst=1, now=time.monotonic()) == 0  # own: not charged
    for bad in (
        b"not json",
        b"[]",
        orjson.dumps({"replica": 7, "taken": {}}),
        orjson.dumps({"replica": "b", "taken": {"j": ["1", 1, 1]}}),
        orjson.dumps({"replica": "b", "taken": {"j": [1, 0, 1]}}),
        orjson.dumps({"replica": "b", "taken": {"j": [-5, 1, 1]}}),
    ):
        share.apply(bad)
    assert share.refused_messages == 6
    assert buckets.take("j", rate=1, burst=1) == 0  # nothing malformed was charged
    share.apply(orjson.dumps({"replica": "b", "taken": {"m": [1, 1, 1]}}))
    assert buckets.take("m", rate=1, burst=1) > 0
    assert set(share.peers) == {"b"}


@asynccontextmanager
async def _replica(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**overrides))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c,
    ):
        c.app = app  # type: ignore[attr-defined]
        yield c


async def _until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the replicas did not hear from each other"
        await asyncio.sleep(0.02)


async def _codes(client: httpx.AsyncClient, n: int, token: str) -> list[int]:
    return [
        (await client.get(PATH, headers={"Authorization": f"Bearer {token}"})).status_code
        for _ in range(n)
    ]


async def _two_replicas(
    keys: tuple[Path, Path],
    nats_url: str | None,
    then: Callable[[httpx.AsyncClient, httpx.AsyncClient, str], Awaitable[None]],
) -> None:
    private, public = keys
    limits = {
        "jwt_public_key_file": str(public),
        "client_rate_per_second": 0.01,
        "client_burst": 5,
        "nats_url": nats_url,
        "rate_limit_share_seconds": 0.05,
    }
    token = mint_token(private, sub="one-clerk", roles=["clerk"], township="zhaowan")
    async with _replica(**limits) as a, _replica(**limits) as b:
        await then(a, b, token)


async def test_a_client_s_limit_holds_across_replicas(
    keys: tuple[Path, Path], nats_server: NatsServer
) -> None:
    async def then(a: httpx.AsyncClient, b: httpx.AsyncClient, token: str) -> None:
        share_a: RateShare = a.app.state.rate_share  # type: ignore[attr-defined]
        share_b: RateShare = b.app.state.rate_share  # type: ignore[attr-defined]
        await _until(lambda: share_a.replica in share_b.peers and share_b.replica in share_a.peers)
        assert await _codes(a, 5, token) == [503] * 5  # granted (no backend behind them)
        # B learns of them within a few intervals and refuses the same client
        await _until(lambda: "sub:one-clerk" in b.app.state.rate_limits.buckets)  # type: ignore[attr-defined]
        assert await _codes(b, 3, token) == [429] * 3
        # the other way round too: nothing left on A either
        assert await _codes(a, 1, token) == [429]

    await _two_replicas(keys, nats_server.url, then)


async def test_without_nats_each_replica_limits_alone_and_still_serves(
    keys: tuple[Path, Path],
) -> None:
    nowhere = f"nats://127.0.0.1:{free_port()}"  # nothing listens there

    async def then(a: httpx.AsyncClient, b: httpx.AsyncClient, token: str) -> None:
        started = time.monotonic()
        assert await _codes(a, 6, token) == [503] * 5 + [429]
        assert await _codes(b, 6, token) == [503] * 5 + [429]  # N replicas, N bursts
        assert time.monotonic() - started < 10  # NATS away costs no request anything

    await _two_replicas(keys, nowhere, then)
