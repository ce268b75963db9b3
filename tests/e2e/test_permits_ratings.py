"""Ratings (好差评) and rectifications (整改), with time moved past the rectification's due date."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually
from tests.e2e.permits_support import china_date, headers, intake, metric, ok, walk
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

ITEM = "GG-00405-001"  # civil-affairs public service, promised 5 working days


def _rectifications(gateway: httpx.Client, tok: str, **params: str) -> list[dict[str, object]]:
    return walk(gateway, tok, "/api/v1/rectifications", params, "rectifications")


def test_a_bad_public_rating_opens_a_rectification_that_goes_overdue_when_its_deadline_passes(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    """Rated 1 on Monday 2026-06-01: the rectification is due 15 working days later,
    Tuesday 06-23 (the Dragon Boat Festival on Friday 06-19 does not count). On 06-23 it is
    not yet overdue; on Wednesday 06-24 the scan marks it overdue (and emits
    rectification.overdue once)."""
    clerk_sub = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    clerk = token("zhaowan", "clerk", sub=clerk_sub)
    ratings_before = metric(system, "township_permits_ratings_total", township="zhaowan", level="1")
    with china_date(system, dt.date(2026, 6, 1)) as move:
        receipt = intake(gateway, clerk, item=ITEM)["receipt_code"]
        unknown = gateway.post(
            "/public/v1/ratings", json={"receipt_code": "ZW260601XXXXXXXX", "level": 1}
        )
        assert unknown.status_code == 404
        bad_level = gateway.post("/public/v1/ratings", json={"receipt_code": receipt, "level": 6})
        assert bad_level.status_code == 422
        r = gateway.post(
            "/public/v1/ratings",
            json={"receipt_code": receipt, "level": 1, "comment": "等了很久"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["rectification_opened"] is True
        assert clerk_sub not in r.text and "王小明" not in r.text

        [rect] = _rectifications(gateway, clerk, responsible=clerk_sub)
        assert rect["state"] == "OPEN"
        assert rect["due_date"] == "2026-06-23"
        assert rect["remaining_working_days"] == 15
        assert rect["rating_level"] == 1
        assert (
            metric(system, "township_permits_ratings_total", township="zhaowan", level="1")
            == ratings_before + 1
        )
        bad = walk(
            gateway,
            clerk,
            "/api/v1/ratings",
            {"responsible": clerk_sub, "max_level": 2},
            "ratings",
        )
        assert [(b["level"], b["rectification_id"]) for b in bad] == [(1, rect["id"])]
        # the department concerned sees it too; another department does not
        civil = token(None, "approver", department="civil-affairs")
        assert [x["id"] for x in _rectifications(gateway, civil, responsible=clerk_sub)] == [
            rect["id"]
        ]
        forestry = token(None, "approver", department="forestry")
        assert _rectifications(gateway, forestry, responsible=clerk_sub) == []

        move(dt.date(2026, 6, 23))
        import time

        time.sleep(6)
        assert not _rectifications(gateway, clerk, responsible=clerk_sub, overdue="true")
        move(dt.date(2026, 6, 24))
        late = eventually(
            lambda: _rectifications(gateway, clerk, responsible=clerk_sub, overdue="true"),
            timeout=30,
        )
        assert [x["id"] for x in late] == [rect["id"]]
        assert late[0]["overdue"] is True
        assert late[0]["remaining_working_days"] == -1
        eventually(
            lambda: (
                metric(
                    system,
                    "township_permits_events_published_total",
                    type="permits.rectification.overdue.v1",
                )
                >= 1
            ),
            timeout=20,
        )


def test_rectification_steps_appeal_and_follow_up_rating(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    clerk_sub = f"clerk-bl-{uuid.uuid4().hex[:6]}"
    clerk = token("bailiu", "clerk", sub=clerk_sub)
    admin = token("bailiu", "township_admin")
    receipt = intake(gateway, clerk, item=ITEM)["receipt_code"]
    device = gateway.post(
        "/api/v1/ratings", json={"receipt_code": receipt, "level": 2}, headers=headers(clerk)
    )
    assert device.status_code == 201, device.text
    other_town = gateway.post(
        "/api/v1/ratings",
        json={"receipt_code": receipt, "level": 5},
        headers=headers(token("zhaowan", "clerk")),
    )
    assert other_town.status_code == 404
    [rect] = _rectifications(gateway, clerk, responsible=clerk_sub)
    base = f"/api/v1/rectifications/{rect['id']}"

    def step(tok: str, action: str, note: str = "已处理") -> httpx.Response:
        return gateway.post(f"{base}/{action}", json={"note": note}, headers=headers(tok))

    assert step(clerk, "fix").status_code == 409  # the return visit comes first
    assert step(clerk, "uphold-appeal").status_code == 409
    assert ok(step(clerk, "appeal", "申请人材料不全导致延误"))["state"] == "APPEALED"
    assert step(clerk, "uphold-appeal").status_code == 403  # not for the appellant
    assert ok(step(admin, "reject-appeal", "理由不成立"))["state"] == "VISITED"
    assert gateway.post(f"{base}/fix", json={"note": ""}, headers=auth(clerk)).status_code == 422
    closed = ok(step(clerk, "fix", "已电话回访并当场办结"))
    assert (closed["state"], closed["outcome"]) == ("CLOSED", "fixed")

    public = ok(gateway.get(f"/public/v1/applications/{receipt}"))
    assert public["rated"] is True and public["follow_up_rating_open"] is True
    follow = gateway.post("/public/v1/ratings", json={"receipt_code": receipt, "level": 4})
    assert follow.status_code == 201, follow.text
    assert follow.json()["follow_up"] is True
    assert follow.json()["rectification_opened"] is False
    again = gateway.post("/public/v1/ratings", json={"receipt_code": receipt, "level": 5})
    assert again.status_code == 409
    assert ok(gateway.get(f"{base}", headers=auth(clerk)))["follow_up_level"] == 4
