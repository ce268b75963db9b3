"""`township replay`: a producer's time range re-published from its outbox, applied once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
import uuid

import httpx

from tests.e2e.conftest import TokenFactory, auth, eventually, newborn_body
from township_platform.bus import connect_nats
from township_testing.stack import LocalStack


def _points(gateway_url: str, tok: str, person: str) -> list[dict[str, object]]:
    r = httpx.get(
        f"{gateway_url}/api/v1/personnel/points",
        params={"person": person},
        headers=auth(tok),
        timeout=10,
    )
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    entries: list[dict[str, object]] = r.json()["entries"]
    return entries


def _stored(nats_url: str) -> int:
    """Messages the PERMITS stream holds."""

    async def count() -> int:
        nc = await connect_nats(nats_url, "test")
        try:
            info = await nc.jetstream().stream_info("PERMITS")
            return int(info.state.messages)
        finally:
            await nc.close()

    return asyncio.run(count())


def _replay(system: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "township_cli.main",
            "replay",
            "--service",
            "permits",
            "--database-url",
            system.database_url("permits"),
            "--nats-url",
            system.nats_url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_replaying_a_time_range_changes_nothing_already_applied(
    system: LocalStack, token: TokenFactory
) -> None:
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    r = httpx.post(
        f"{system.gateway_url}/api/v1/applications",
        json=newborn_body(),
        headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    eventually(lambda: len(_points(system.gateway_url, tok, clerk)) == 2)
    # only zhaowan's events, from a second before the intake until now
    stored = _stored(system.nats_url)
    done = _replay(system, "--since", since.isoformat(), "--township", "zhaowan")
    assert done.returncode == 0, done.stderr
    assert "replayed" in done.stderr
    count = int(done.stderr.split("replayed", 1)[1].split()[0])
    assert count >= 2, done.stderr  # the two applications' submitted events at least
    assert _stored(system.nats_url) >= stored + count, "each one published again"
    time.sleep(1.5)  # the copies reach personnel, whose inbox knows them
    assert len(_points(system.gateway_url, tok, clerk)) == 2
    # a town with no events in the range replays nothing; bad input is a clear refusal
    none = _replay(system, "--since", since.isoformat(), "--township", "no-such-town")
    assert none.returncode == 0 and "replayed 0 " in none.stderr, none.stderr
    bad = _replay(system, "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_a_service_replays_its_own_range_in_its_pod(
    system: LocalStack, token: TokenFactory
) -> None:
    """In a cluster: ``kubectl exec deploy/township-permits -- python -m township_permits
    replay --since …`` (the service's own settings name its database and NATS)."""
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    r = httpx.post(
        f"{system.gateway_url}/api/v1/applications",
        json=newborn_body(),
        headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    eventually(lambda: len(_points(system.gateway_url, tok, clerk)) == 2)
    stored = _stored(system.nats_url)
    command = [sys.executable, "-m", "township_permits", "replay"]
    done = subprocess.run(
        [*command, "--since", since.isoformat(), "--township", "zhaowan"],
        env=system.env("permits"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in (done.stdout + done.stderr).splitlines() if '"replayed"' in x)
    count = json.loads(line)["events"]
    assert count >= 2 and _stored(system.nats_url) >= stored + count
    time.sleep(1.5)
    assert len(_points(system.gateway_url, tok, clerk)) == 2
    refused = subprocess.run(
        [*command, "--since", "2026-11-28T10:00", "--until", "2026-11-28T09:00"],
        env=system.env("permits"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2 and "--until must be after --since" in refused.stderr
