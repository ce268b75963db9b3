"""e2e helpers: an HTTP client for the gateway and dev tokens for any role."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from township_testing.devkeys import mint_token
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def gateway(system: LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client pointed at the running gateway."""
    with httpx.Client(base_url=system.gateway_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def token(system: LocalStack) -> TokenFactory:
    """Mint a dev token: token('zhaowan', 'clerk', sub='...')."""

    def _mint(township: str | None, *roles: str, sub: str | None = None, **claims: Any) -> str:
        return mint_token(
            system.private_key,
            sub=sub or f"user-{uuid.uuid4().hex[:8]}",
            roles=list(roles),
            township=township,
            **claims,
        )

    return _mint


def auth(tok: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {tok}"}


def eventually(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Retry ``check`` until it returns a truthy value or raise its last AssertionError."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except AssertionError as e:
            last = e
        time.sleep(interval)
    if last:
        raise last
    raise AssertionError("condition not met in time")


def newborn_body(name: str = "张玉祥") -> dict[str, Any]:
    """The newborn one-visit bundle as a clerk submits it."""
    return {
        "bundle": "newborn",
        "applicant": {"name": name, "id_number": "", "phone": "13912345678"},
        "materials": [
            {"code": "birth-certificate", "name": "出生医学证明"},
            {"code": "household-register", "name": "父母户口簿"},
        ],
        "channel": "window",
    }


def points_of(gateway_url: str, tok: str, person: str) -> list[dict[str, Any]]:
    """The person's points entries as ``tok`` sees them (none yet: an empty list)."""
    r = httpx.get(
        f"{gateway_url}/api/v1/personnel/points",
        params={"person": person},
        headers=auth(tok),
        timeout=10,
    )
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries


def newborn_intake(gateway_url: str, tok: str, key: str | None = None) -> dict[str, Any]:
    """Submit the newborn bundle with ``key`` (or a fresh Idempotency-Key); the 201 answer."""
    r = httpx.post(
        f"{gateway_url}/api/v1/applications",
        json=newborn_body(),
        headers={**auth(tok), "Idempotency-Key": key or str(uuid.uuid4())},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def service_sql(system: LocalStack, service: str, statement: str, *args: object) -> list[Any]:
    """Run one statement in a service's own database (what an operator or a restore does
    behind the services' backs); its rows."""
    dsn = system.database_url(service).replace("postgresql+asyncpg://", "postgresql://")

    async def run() -> list[Any]:
        conn = await asyncpg.connect(dsn)
        try:
            return list(await conn.fetch(statement, *args))
        finally:
            await conn.close()

    return asyncio.run(run())
