"""Token-bucket rate limits: per township, per client (token subject) and per public caller.

Buckets live in each gateway replica's memory. With ``NATS_URL`` set, the replicas share what
they grant (``RateShare``): every replica publishes, a few times a second, the tokens it took
from each bucket since its last message, and every other replica takes them from its own
copy of that bucket. So a limit holds for the whole deployment, whichever replica a client's
connection lands on, within what the replicas grant during one interval (the replicas' copies
may go below zero then, and refuse until the overdraft has refilled). Without NATS (not set,
or away) each replica limits alone: N replicas allow up to N times the configured rate.

A refused request is a 429 problem with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from prometheus_client import Counter, Gauge

from township_gateway.problems import Problem
from township_platform.logging import get_logger
from township_platform.messaging import connect_nats

log = get_logger(__name__)

RATE_LIMITED = Counter(
    "township_gateway_rate_limited", "Requests refused by a rate limit", ["township"]
)


RATE_LIMIT_PEERS = Gauge(
    "township_gateway_rate_limit_peer_replicas",
    "Other gateway replicas heard from in the last 10 s (rate limits shared with them)",
)
RATE_LIMIT_SHARING = Gauge(
    "township_gateway_rate_limit_nats_connections",
    "1 while this replica shares its rate-limit buckets over NATS, 0 while it limits alone",
)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Many token buckets keyed by string, bounded in number (least recently used evicted).

    While ``sharing`` is on, every granted token is also counted in ``taken`` (key → count,
    rate, burst) until ``drain`` hands the counts to the replicas' exchange.
    """

    def __init__(self, max_keys: int = 50_000) -> None:
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max = max_keys
        self.sharing = False
        self.taken: dict[str, list[Any]] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._buckets

    def _refilled(self, key: str, rate: float, burst: int, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(burst), updated=now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        return bucket

    def take(self, key: str, rate: float, burst: int, now: float | None = None) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        bucket = self._refilled(key, rate, burst, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            if self.sharing:
                counted = self.taken.get(key)
                if counted is None:
                    self.taken[key] = [1, rate, burst]
                else:
                    counted[0] += 1
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def charge(
        self, key: str, count: int, rate: float, burst: int, now: float | None = None
    ) -> None:
        """Take ``count`` tokens another replica granted (down to one burst of overdraft)."""
        now = time.monotonic() if now is None else now
        bucket = self._refilled(key, rate, burst, now)
        bucket.tokens = max(-float(burst), bucket.tokens - count)

    def drain(self) -> dict[str, list[Any]]:
        """The tokens granted since the last drain, by key (and forget them)."""
        taken, self.taken = self.taken, {}
        return taken


SHARE_SUBJECT = "township.gateway.ratelimit.v1"
"""Core NATS subject (no stream binds it) where gateway replicas tell what they granted."""

PEER_SECONDS = 10.0
HEARTBEAT_SECONDS = 2.0  # an idle replica still says it is there (the peers gauge)
MAX_SHARED_KEYS = 10_000  # per message; a replica granting more in one interval sends the top


class RateShare:
    """Shares one replica's granted tokens with the other replicas over core NATS.

    Best effort by design: a lost message lets a few more requests through, never fewer, and
    the gateway does not depend on NATS to serve (it connects in the background, and limits
    alone while NATS is away).
    """

    def __init__(self, buckets: TokenBuckets, url: str, interval: float = 0.2) -> None:
        self.buckets = buckets
        self.url = url
        self.interval = interval
        self.replica = uuid.uuid4().hex
        self.peers: dict[str, float] = {}
        self.refused_messages = 0
        self._nc: Any = None

    async def run(self) -> None:
        """Connect (retried until NATS answers), then publish every ``interval``; never fails."""
        while True:
            try:
                await self._share()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("rate-limit sharing stopped; limiting alone", error=str(e))
                await asyncio.sleep(5)
            finally:
                self.buckets.sharing = False
                RATE_LIMIT_SHARING.set(0)

    async def _share(self) -> None:
        if self._nc is None:
            self._nc = await connect_nats(self.url, "township-gateway")
            await self._nc.subscribe(SHARE_SUBJECT, cb=self._received)
            log.info("rate limits shared over NATS", replica=self.replica)
        sent = 0.0
        while True:
            await asyncio.sleep(self.interval)
            connected = bool(self._nc.is_connected)
            self.buckets.sharing = connected
            RATE_LIMIT_SHARING.set(1 if connected else 0)
            taken = self.buckets.drain()
            now = time.monotonic()
            if connected and (taken or now - sent >= HEARTBEAT_SECONDS):
                await self.publish(taken)
                sent = now
            for peer, seen in list(self.peers.items()):
                if now - seen > PEER_SECONDS:
                    del self.peers[peer]
            RATE_LIMIT_PEERS.set(len(self.peers))

    async def publish(self, taken: dict[str, list[Any]]) -> None:
        """Tell the other replicas what this one granted."""
        if len(taken) > MAX_SHARED_KEYS:
            top = sorted(taken.items(), key=lambda kv: kv[1][0], reverse=True)
            taken = dict(top[:MAX_SHARED_KEYS])
        body = orjson.dumps({"replica": self.replica, "taken": taken})
        try:
            await self._nc.publish(SHARE_SUBJECT, body)
        except Exception as e:  # NATS went away between the check and the publish
            log.info("rate-limit share not sent", error=str(e))

    async def _received(self, msg: Any) -> None:
        self.apply(msg.data)

    def apply(self, data: bytes) -> None:
        """Take what another replica granted from this replica's buckets."""
        try:
            message = orjson.loads(data)
            replica, taken = message["replica"], message["taken"]
            if not isinstance(replica, str) or not isinstance(taken, dict):
                raise TypeError("replica is a string, taken an object")
        except Exception as e:
            self.refused_messages += 1
            log.warning("malformed rate-limit share ignored", error=str(e))
            return
        if replica == self.replica:
            return
        now = time.monotonic()
        self.peers[replica] = now
        for key, entry in taken.items():
            match entry:
                case [int(count), int() | float() as rate, int(burst)] if (
                    count > 0 and rate > 0 and burst > 0
                ):
                    self.buckets.charge(key, count, float(rate), burst, now)
                case _:
                    self.refused_messages += 1

    async def close(self) -> None:
        """Stop sharing and close the connection."""
        self.buckets.sharing = False
        if self._nc is not None:
            try:
                await asyncio.wait_for(self._nc.close(), 2)
            except Exception as e:
                log.info("nats close failed", error=str(e))


def refuse(label: str, wait: float, what: str) -> Problem:
    """The 429 problem for a refused request."""
    RATE_LIMITED.labels(label).inc()
    return Problem(
        429,
        "too-many-requests",
        f"rate limit of {what} exceeded; retry later",
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


async def limit_public(request: Request) -> None:
    """Dependency of the public routers: a bucket per client address."""
    limits: RateLimits = request.app.state.rate_limits
    client = request.client.host if request.client else "unknown"
    wait = limits.buckets.take(f"ip:{client}", limits.public_rate, limits.public_burst)
    if wait:
        raise refuse("public", wait, "this client")


@dataclass
class RateLimits:
    """The configured limits and their buckets."""

    buckets: TokenBuckets
    townships: dict[str, tuple[float, int]]
    client_rate: float
    client_burst: int
    public_rate: float
    public_burst: int

    def check_principal(self, township: str | None, sub: str) -> None:
        """Raise a 429 Problem when the township's or the client's bucket is empty."""
        if township and township in self.townships:
            rate, burst = self.townships[township]
            wait = self.buckets.take(f"town:{township}", rate, burst)
            if wait:
                raise refuse(township, wait, f"township {township}")
        wait = self.buckets.take(f"sub:{sub}", self.client_rate, self.client_burst)
        if wait:
            raise refuse(township or "county", wait, "this client")
