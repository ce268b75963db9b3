"""`township replay`: a producer's time range re-published from its outbox, applied once;
`python -m township_<service> rewind`: a restored consumer re-reads its streams from the
restore point and applies what it lost, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
import uuid

from tests.e2e.conftest import TokenFactory, eventually, newborn_intake, points_of, service_sql
from township_platform.bus import connect_nats
from township_testing.stack import LocalStack


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


def _in_pod(
    system: LocalStack, service: str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m township_<service> ARGS`` with the service's own settings, as
    ``kubectl exec deploy/township-<service> -- …`` runs it in a cluster."""
    return subprocess.run(
        [sys.executable, "-m", f"township_{service}", *args],
        env=system.env(service),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _intake_credited(system: LocalStack, token: TokenFactory) -> tuple[str, str]:
    """A new clerk's newborn intake, once personnel has credited its two points entries."""
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    newborn_intake(system.gateway_url, tok)
    eventually(lambda: len(points_of(system.gateway_url, tok, clerk)) == 2)
    return tok, clerk


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
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    tok, clerk = _intake_credited(system, token)
    # only zhaowan's events, from a second before the intake until now
    stored = _stored(system.nats_url)
    done = _replay(system, "--since", since.isoformat(), "--township", "zhaowan")
    assert done.returncode == 0, done.stderr
    assert "replayed" in done.stderr
    count = int(done.stderr.split("replayed", 1)[1].split()[0])
    assert count >= 2, done.stderr  # the two applications' submitted events at least
    assert _stored(system.nats_url) >= stored + count, "each one published again"
    time.sleep(1.5)  # the copies reach personnel, whose inbox knows them
    assert len(points_of(system.gateway_url, tok, clerk)) == 2
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
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    tok, clerk = _intake_credited(system, token)
    stored = _stored(system.nats_url)
    done = _in_pod(
        system, "permits", "replay", "--since", since.isoformat(), "--township", "zhaowan"
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in (done.stdout + done.stderr).splitlines() if '"replayed"' in x)
    count = json.loads(line)["events"]
    assert count >= 2 and _stored(system.nats_url) >= stored + count
    time.sleep(1.5)
    assert len(points_of(system.gateway_url, tok, clerk)) == 2
    refused = _in_pod(
        system, "permits", "replay", "--since", "2026-11-28T10:00", "--until", "2026-11-28T09:00"
    )
    assert refused.returncode == 2 and "--until must be after --since" in refused.stderr


def test_a_restored_service_rewinds_its_consumers_from_the_restore_point(
    system: LocalStack, token: TokenFactory
) -> None:
    """In a cluster, after restoring personnel's database to a point in time:
    ``kubectl exec deploy/township-personnel -- python -m township_personnel rewind --since
    <restore point>``."""
    restore_point = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    tok, clerk = _intake_credited(system, token)
    entries = points_of(system.gateway_url, tok, clerk)
    sources = [e["source_event_id"] for e in entries]
    # the restore: what personnel did after the restore point is gone, inbox rows included
    service_sql(system, "personnel", "DELETE FROM points_entries WHERE person = $1", clerk)
    service_sql(system, "personnel", "DELETE FROM inbox WHERE event_id = ANY($1::text[])", sources)
    assert points_of(system.gateway_url, tok, clerk) == []
    since = restore_point.isoformat()
    done = _in_pod(system, "personnel", "rewind", "--since", since, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(x for x in (done.stdout + done.stderr).splitlines() if '"rewind done"' in x)
    assert sum(v for k, v in json.loads(line).items() if k.startswith("personnel-")) >= 2
    # applied again, once: the same two entries from the same events, none doubled
    again = points_of(system.gateway_url, tok, clerk)
    assert sorted(e["source_event_id"] for e in again) == sorted(sources)
    unknown = _in_pod(system, "personnel", "rewind", "--since", since, "--consumer", "nobody")
    assert unknown.returncode == 2 and "its consumers:" in unknown.stderr
    producer_only = _in_pod(system, "permits", "rewind", "--since", since)
    assert producer_only.returncode == 0, producer_only.stderr
    assert "nothing to rewind" in producer_only.stdout + producer_only.stderr
