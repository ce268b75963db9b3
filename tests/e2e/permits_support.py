"""Helpers of the permits e2e tests: pinned dates, actions, queues, metrics."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.conftest import TokenFactory, auth
from township_testing.stack import LocalStack

CHINA = ZoneInfo("Asia/Shanghai")


def offset_to(day: dt.date, hour: int = 10) -> float:
    """Seconds to add to the real clock so that it is ``day`` at ``hour`` in China."""
    target = dt.datetime(day.year, day.month, day.day, hour, tzinfo=CHINA)
    return (target - dt.datetime.now(dt.UTC)).total_seconds()


@contextmanager
def china_date(system: LocalStack, day: dt.date) -> Iterator[Any]:
    """Run the block with every process's clock on ``day`` (10:00 in China); reset after."""

    def move(to: dt.date) -> None:
        system.shift_clock(offset_to(to))
        import time

        time.sleep(0.5)  # processes re-read the clock file every 0.2 s

    try:
        move(day)
        yield move
    finally:
        system.shift_clock(0)


def headers(tok: str) -> dict[str, str]:
    """Authorization plus a fresh Idempotency-Key."""
    return {**auth(tok), "Idempotency-Key": str(uuid.uuid4())}


def intake(
    gateway: httpx.Client,
    tok: str,
    item: str | None = None,
    bundle: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Submit an intake and return its response body (asserting 201)."""
    body: dict[str, Any] = {
        "applicant": {"name": "王小明", "phone": "13800001111"},
        "materials": [{"code": "id-card", "name": "居民身份证"}],
        **extra,
    }
    if item:
        body["item_code"] = item
    if bundle:
        body["bundle"] = bundle
    r = gateway.post("/api/v1/applications", json=body, headers=headers(tok))
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def act(
    gateway: httpx.Client, tok: str, app_id: str, action: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    """POST one step of an application."""
    return gateway.post(
        f"/api/v1/applications/{app_id}/{action}", json=body or {}, headers=headers(tok)
    )


def ok(r: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 2xx response."""
    assert r.is_success, r.text
    data: dict[str, Any] = r.json()
    return data


def get_app(gateway: httpx.Client, tok: str, app_id: str) -> dict[str, Any]:
    """One application."""
    return ok(gateway.get(f"/api/v1/applications/{app_id}", headers=auth(tok)))


def approver(token: TokenFactory, department: str, sub: str | None = None) -> str:
    """A county department's approver token (no township: they see their queue county-wide)."""
    return token(None, "approver", department=department, sub=sub)


def walk(
    gateway: httpx.Client, tok: str, path: str, params: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    """Every row of a cursor-paginated list."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(1000):
        r = gateway.get(path, params={**params, "cursor": cursor}, headers=auth(tok))
        page = ok(r)
        rows.extend(page[key])
        cursor = page["next_cursor"] or ""
        if not cursor:
            return rows
    raise AssertionError("pagination did not end")


def metric(system: LocalStack, name: str, **labels: str) -> float:
    """The value of one sample on the permits /metrics endpoint (0 when absent)."""
    text = httpx.get(f"http://127.0.0.1:{system.metrics_ports['permits']}/metrics").text
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            head, _, value = line.rpartition(" ")
            inner = head[len(name) + 1 : -1]
            parts = ",".join(sorted(inner.split(",")))
            if parts == want:
                return float(value)
    return 0.0
