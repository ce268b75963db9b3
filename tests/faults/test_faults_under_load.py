"""Faults under a steady load, ending with a ledger check: nothing lost, nothing doubled.

A bounded load of mixed requests (newborn intakes with Idempotency-Keys, public lookups,
invalid bodies) runs while, in turn, each service and the gateway are SIGKILLed and
restarted, nats-server is restarted on the same store, and PostgreSQL is restarted.
Clients retry failed intakes with the same key, as a front-end would. At the end:

- every key got exactly one receipt, and every receipt shows exactly its two applications;
- every application produced exactly one points entry for the clerk who took it (so each
  ``application.submitted`` event had exactly one effect in personnel);
- every invalid request got a 4xx and left nothing (its clerk has no ledger).

Bounded: at most ``LOAD_SECONDS`` of load, at most ``MAX_INTAKES`` intakes, 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from township_testing.devkeys import mint_token
from township_testing.plugin import RELAXED_GATEWAY_LIMITS, _workdir, relaxed_townships
from township_testing.stack import SERVICES, LocalStack, StackConfig

pytestmark = pytest.mark.e2e

WORKERS = 3
LOAD_SECONDS = 90.0
MAX_INTAKES = 2000
PACE_SECONDS = 0.1
RETRY_FOR_SECONDS = 45.0


@dataclass
class Ledger:
    """What the clients saw."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    receipts: dict[str, str] = field(default_factory=dict)  # key → receipt
    keys_by_clerk: dict[str, list[str]] = field(default_factory=dict)
    unresolved: list[tuple[str, str]] = field(default_factory=list)  # (clerk, key)
    requests: int = 0
    errors_seen: int = 0
    invalid_sent: int = 0
    invalid_not_4xx: int = 0
    last_success: float = 0.0


def _body(i: int) -> dict[str, object]:
    return {
        "bundle": "newborn",
        "applicant": {"name": f"测试{i}", "phone": "13900000000"},
        "materials": [{"code": "birth-medical-certificate", "name": "出生医学证明"}],
    }


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    root = _workdir("township-faults-")
    s = LocalStack(
        StackConfig(
            root=root,
            townships_file=relaxed_townships(root),
            extra_env=dict(RELAXED_GATEWAY_LIMITS),
            trace_sampling_ratio=0.0,
        )
    )
    try:
        s.up()
        yield s
    finally:
        s.down()


def _submit(client: httpx.Client, tok: str, key: str, i: int, ledger: Ledger) -> str | None:
    """POST with retries on 5xx / connection errors, same key; the receipt or None."""
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while time.monotonic() < deadline:
        with ledger.lock:
            ledger.requests += 1
        try:
            r = client.post(
                "/api/v1/applications",
                json=_body(i),
                headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": key},
            )
        except httpx.TransportError:
            r = None
        if r is not None and r.status_code == 201:
            receipt: str = r.json()["receipt_code"]
            return receipt
        if r is not None and r.status_code < 500 and r.status_code != 429:
            raise AssertionError(f"unexpected {r.status_code}: {r.text}")
        with ledger.lock:
            ledger.errors_seen += 1
        time.sleep(0.3)
    return None


def _worker(base: str, private: Path, clerk: str, stop: threading.Event, ledger: Ledger) -> None:
    tok = mint_token(private, sub=clerk, roles=["clerk"], township="zhaowan")
    with httpx.Client(base_url=base, timeout=5) as client:
        i = 0
        while not stop.is_set():
            with ledger.lock:
                if len(ledger.receipts) + len(ledger.unresolved) >= MAX_INTAKES:
                    return
            key = f"fault-{clerk}-{i}"
            receipt = _submit(client, tok, key, i, ledger)
            with ledger.lock:
                ledger.keys_by_clerk.setdefault(clerk, []).append(key)
                if receipt is None:
                    ledger.unresolved.append((clerk, key))
                else:
                    ledger.receipts[key] = receipt
                    ledger.last_success = time.monotonic()
            i += 1
            time.sleep(PACE_SECONDS)
            try:
                client.get(f"/public/v1/applications/{receipt}" if receipt else "/healthz")
            except httpx.TransportError:
                pass


def _invalid_worker(base: str, private: Path, stop: threading.Event, ledger: Ledger) -> None:
    tok = mint_token(private, sub="fault-invalid-clerk", roles=["clerk"], township="zhaowan")
    with httpx.Client(base_url=base, timeout=5) as client:
        while not stop.is_set():
            bad = {"bundle": "newborn", "applicant": {"name": "", "phone": "1"}}
            try:
                r = client.post(
                    "/api/v1/applications",
                    json=bad,
                    headers={
                        "Authorization": f"Bearer {tok}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                )
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            with ledger.lock:
                ledger.invalid_sent += 1
                if not 400 <= r.status_code < 500:
                    ledger.invalid_not_4xx += 1
            time.sleep(0.5)


def _points(client: httpx.Client, tok: str, person: str) -> list[dict[str, object]]:
    r = client.get(
        "/api/v1/personnel/points",
        params={"person": person, "page_size": 200},
        headers={"Authorization": f"Bearer {tok}"},
    )
    if r.status_code == 404:
        return []
    r.raise_for_status()
    entries: list[dict[str, object]] = []
    body = r.json()
    entries.extend(body["entries"])
    while body["next_cursor"]:
        body = client.get(
            "/api/v1/personnel/points",
            params={"person": person, "page_size": 200, "cursor": body["next_cursor"]},
            headers={"Authorization": f"Bearer {tok}"},
        ).json()
        entries.extend(body["entries"])
    return entries


def test_nothing_lost_nothing_doubled_under_faults(stack: LocalStack) -> None:
    ledger = Ledger()
    stop = threading.Event()
    clerks = [f"fault-clerk-{n}-{uuid.uuid4().hex[:4]}" for n in range(WORKERS)]
    threads = [
        threading.Thread(
            target=_worker, args=(stack.gateway_url, stack.private_key, c, stop, ledger)
        )
        for c in clerks
    ]
    threads.append(
        threading.Thread(
            target=_invalid_worker, args=(stack.gateway_url, stack.private_key, stop, ledger)
        )
    )
    started = time.monotonic()
    for t in threads:
        t.start()
    faults: list[str] = []
    try:
        time.sleep(2)
        for name in (*SERVICES, "gateway"):
            stack.kill(name)
            faults.append(f"SIGKILL {name}")
            time.sleep(1.0)
            stack.start(name)
            stack.wait_service(name, timeout=60)
            time.sleep(1.5)
        stack.restart_nats()
        faults.append("restart nats-server")
        time.sleep(2)
        stack.restart_postgres()
        faults.append("restart PostgreSQL")
        last_fault = time.monotonic()
        time.sleep(3)
        stack.wait_service("gateway", timeout=60)
        while time.monotonic() - started < 25:
            time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=RETRY_FOR_SECONDS + 15)
    assert time.monotonic() - started < LOAD_SECONDS + RETRY_FOR_SECONDS + 30

    # Resolve what the clients gave up on: the same key must now answer (first or replay).
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        for clerk, key in ledger.unresolved:
            tok = mint_token(stack.private_key, sub=clerk, roles=["clerk"], township="zhaowan")
            i = int(key.rsplit("-", 1)[1])
            receipt = _submit(client, tok, key, i, ledger)
            assert receipt is not None, f"{key} never succeeded"
            ledger.receipts[key] = receipt

        keys = [k for ks in ledger.keys_by_clerk.values() for k in ks]
        assert len(keys) == len(set(keys)) == len(ledger.receipts)
        receipts = list(ledger.receipts.values())
        duplicated_receipts = len(receipts) - len(set(receipts))
        lost = 0
        for receipt in receipts:
            r = client.get(f"/public/v1/applications/{receipt}")
            if r.status_code != 200 or len(r.json()["parts"]) != 2:
                lost += 1

        # Every application's submitted event had exactly one effect in personnel.
        expected = {clerk: 2 * len(ks) for clerk, ks in ledger.keys_by_clerk.items()}
        deadline = time.monotonic() + 60
        seen: dict[str, list[dict[str, object]]] = {}
        while time.monotonic() < deadline:
            for clerk in expected:
                tok = mint_token(stack.private_key, sub=clerk, roles=["clerk"], township="zhaowan")
                seen[clerk] = _points(client, tok, clerk)
            if all(len(seen[c]) >= n for c, n in expected.items()):
                break
            time.sleep(0.5)
        time.sleep(2)  # any late duplicate gets its chance to show
        for clerk in expected:
            tok = mint_token(stack.private_key, sub=clerk, roles=["clerk"], township="zhaowan")
            seen[clerk] = _points(client, tok, clerk)
        events = sum(expected.values())
        effects = sum(len(v) for v in seen.values())
        distinct_sources = {str(e["source_event_id"]) for v in seen.values() for e in v}
        invalid_tok = mint_token(
            stack.private_key, sub="fault-invalid-clerk", roles=["clerk"], township="zhaowan"
        )
        invalid_traces = len(_points(client, invalid_tok, "fault-invalid-clerk"))

    report = {
        "requests": ledger.requests + ledger.invalid_sent,
        "intakes": len(keys),
        "events": events,
        "faults": faults,
        "client_errors_retried": ledger.errors_seen,
        "invalid_requests": ledger.invalid_sent,
        "lost": lost + max(0, events - len(distinct_sources)),
        "duplicated": duplicated_receipts + max(0, effects - len(distinct_sources)),
        "invalid_left_traces": invalid_traces,
    }
    print("\nfault-test ledger: " + json.dumps(report, ensure_ascii=False))
    assert len(keys) >= 20, "the load did not run"
    assert ledger.last_success > last_fault, "the load must still run after the last fault"
    assert ledger.invalid_sent > 0 and ledger.invalid_not_4xx == 0
    assert report["lost"] == 0
    assert report["duplicated"] == 0
    assert effects == events == len(distinct_sources)
    assert invalid_traces == 0
