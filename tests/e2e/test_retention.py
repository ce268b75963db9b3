"""A running service forgets what is past its retention: an Idempotency-Key older than
IDEMPOTENCY_RETENTION_HOURS is gone (a retry with it is new), a younger one still answers."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, newborn_intake, service_sql
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def _purged(system: LocalStack) -> float:
    text = httpx.get(f"http://127.0.0.1:{system.metrics_ports['permits']}/metrics").text
    for line in text.splitlines():
        if line.startswith(
            'township_permits_retention_deleted_rows_total{table="idempotency_keys"}'
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_service_forgets_idempotency_keys_past_their_retention(
    system: LocalStack, token: TokenFactory
) -> None:
    clerk = token("zhaowan", "clerk", sub=f"clerk-ret-{uuid.uuid4().hex[:6]}")
    old_key, young_key = f"ret-old-{uuid.uuid4()}", f"ret-young-{uuid.uuid4()}"
    old = newborn_intake(system.gateway_url, clerk, key=old_key)
    young = newborn_intake(system.gateway_url, clerk, key=young_key)
    # the first key was used eight days ago (the default retention is seven)
    service_sql(
        system,
        "permits",
        "UPDATE idempotency_keys SET created_at = now() - interval '8 days' WHERE key = $1",
        old_key,
    )
    try:
        system.start("permits", env={"TOWNSHIP_PERMITS_RETENTION_SWEEP_SECONDS": "0.5"})
        system.wait_service("permits")
        deadline = time.monotonic() + 30
        while service_sql(
            system, "permits", "SELECT 1 FROM idempotency_keys WHERE key = $1", old_key
        ):
            assert time.monotonic() < deadline, "the old key was not swept"
            time.sleep(0.2)
        assert _purged(system) >= 1
        # the young key still answers with its first result; the old one is new again
        assert (
            newborn_intake(system.gateway_url, clerk, key=young_key)["receipt_code"]
            == young["receipt_code"]
        )
        again = newborn_intake(system.gateway_url, clerk, key=old_key)
        assert again["receipt_code"] != old["receipt_code"]
    finally:
        system.start("permits")
        system.wait_service("permits")
