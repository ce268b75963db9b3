"""The foundation slice: the newborn bundle from intake to points, through the gateway only."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually, newborn_body
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def _points(gateway: httpx.Client, tok: str, person: str) -> list[dict[str, object]]:
    r = gateway.get("/api/v1/personnel/points", params={"person": person}, headers=auth(tok))
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    entries: list[dict[str, object]] = r.json()["entries"]
    return entries


def test_newborn_bundle_end_to_end(gateway: httpx.Client, token: TokenFactory) -> None:
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    r = gateway.post(
        "/api/v1/applications",
        json=newborn_body(),
        headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    receipt = body["receipt_code"]
    apps = body["applications"]
    assert len(apps) == 2
    assert {a["department"] for a in apps} == {"public-security", "medical-insurance"}
    assert all(a["state"] == "SUBMITTED" for a in apps)

    one = gateway.get(f"/api/v1/applications/{apps[0]['id']}", headers=auth(tok))
    assert one.status_code == 200, one.text
    detail = one.json()
    assert detail["receipt_code"] == receipt
    assert detail["township"] == "zhaowan"
    assert detail["applicant"]["name"] == "张玉祥"
    assert detail["history"][0]["to_state"] == "SUBMITTED"
    assert detail["history"][0]["actor"] == clerk

    public = gateway.get(f"/public/v1/applications/{receipt}")
    assert public.status_code == 200, public.text
    status = public.json()
    assert status["status"] == "in_progress"
    assert sorted(p["item"] for p in status["parts"]) == sorted(a["item"] for a in apps)
    assert "张玉祥" not in public.text and "13912345678" not in public.text
    assert status["applicant"] == "张**"

    entries = eventually(lambda: (e := _points(gateway, tok, clerk)) and len(e) >= 2 and e)
    assert len(entries) == 2
    assert {e["rule"] for e in entries} == {"application-intake"}
    assert all(e["source_type"] == "permits.application.submitted.v1" for e in entries)
    total = gateway.get(
        "/api/v1/personnel/points", params={"person": clerk}, headers=auth(tok)
    ).json()["total"]
    assert float(total) == pytest.approx(1.0)


def test_same_idempotency_key_gives_same_receipt_and_one_set_of_effects(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    headers = {**auth(tok), "Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = gateway.post("/api/v1/applications", json=newborn_body(), headers=headers)
    second = gateway.post("/api/v1/applications", json=newborn_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    public = gateway.get(f"/public/v1/applications/{first.json()['receipt_code']}").json()
    assert len(public["parts"]) == 2
    eventually(lambda: len(_points(gateway, tok, clerk)) >= 2)
    time.sleep(1.0)  # give a duplicate every chance to arrive
    assert len(_points(gateway, tok, clerk)) == 2

    other = newborn_body(name="李四")
    reused = gateway.post("/api/v1/applications", json=other, headers=headers)
    assert reused.status_code == 422, reused.text
    assert reused.json()["type"].endswith("/idempotency-key-reused")


def test_points_arrive_exactly_once_after_personnel_is_killed(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    system.kill("personnel")
    try:
        r = gateway.post("/api/v1/applications", json=newborn_body(), headers=auth(tok))
        assert r.status_code == 201, r.text
        down = gateway.get("/api/v1/personnel/points", params={"person": clerk}, headers=auth(tok))
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert "Retry-After" in down.headers
    finally:
        system.start("personnel")
        system.wait_service("personnel")
    entries = eventually(lambda: (e := _points(gateway, tok, clerk)) and len(e) >= 2 and e)
    time.sleep(1.0)
    entries = _points(gateway, tok, clerk)
    assert len(entries) == 2
    assert len({e["source_event_id"] for e in entries}) == 2
