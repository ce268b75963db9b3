"""Token-bucket rate limits: per township, per client (token subject) and per public caller.

Limits are per gateway replica (buckets live in memory); with N replicas the effective limit
is N times the configured one, which the chart's values document. A refused request is a 429
problem with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request
from prometheus_client import Counter

from township_gateway.problems import Problem

RATE_LIMITED = Counter(
    "township_gateway_rate_limited", "Requests refused by a rate limit", ["township"]
)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Many token buckets keyed by string, bounded in number (least recently used evicted)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max = max_keys

    def take(self, key: str, rate: float, burst: int, now: float | None = None) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
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
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate


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
