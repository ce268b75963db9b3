"""Every forbidden step is refused with a clear 4xx/409 and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth
from tests.e2e.permits_support import act, approver, get_app, headers, intake, ok, walk

pytestmark = pytest.mark.e2e

LICENCE = "XK-00701-001"  # natural-resources licensing, township level
VILLAGE_ITEM = "GG-00401-001"  # civil-affairs, delegated down to village service rooms


def _unchanged(gateway: httpx.Client, tok: str, app_id: str, before: dict[str, Any]) -> None:
    after = get_app(gateway, tok, app_id)
    assert after["state"] == before["state"]
    assert after["history"] == before["history"]


def _problem(r: httpx.Response, status: int, type_: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if type_:
        assert r.json()["type"].endswith("/" + type_), r.text


def test_wrong_role_wrong_department_and_wrong_state_are_refused_and_change_nothing(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    clerk = token("zhaowan", "clerk")
    agent = token("zhaowan", "agent")
    dept = approver(token, "natural-resources")
    dept_viewer = token(None, "county_dept", department="natural-resources")
    other_dept = approver(token, "forestry")
    other_town = token("bailiu", "clerk")
    app_id = intake(gateway, clerk, item=LICENCE)["applications"][0]["id"]

    before = get_app(gateway, clerk, app_id)
    # the decision is the competent department's, not the clerk's
    _problem(act(gateway, clerk, app_id, "approve"), 403)
    # wrong state: an approver cannot review what the hall has not accepted
    _problem(act(gateway, dept, app_id, "start-review"), 409, "invalid-transition")
    # an agent may not accept; another town does not see it at all
    _problem(act(gateway, agent, app_id, "accept"), 403)
    _problem(act(gateway, other_town, app_id, "accept"), 404)
    # a refusal needs its reason (the applicant is told why)
    r = act(gateway, clerk, app_id, "not-accept", {"reason": ""})
    _problem(r, 422)
    assert r.json()["errors"][0]["field"] == "reason"
    _unchanged(gateway, clerk, app_id, before)

    ok(act(gateway, clerk, app_id, "accept"))
    _problem(act(gateway, clerk, app_id, "accept"), 409, "invalid-transition")
    ok(act(gateway, dept, app_id, "start-review"))
    before = get_app(gateway, clerk, app_id)
    _problem(act(gateway, other_dept, app_id, "approve"), 404)
    _problem(act(gateway, dept_viewer, app_id, "approve"), 403)
    _problem(act(gateway, clerk, app_id, "deny", {"reason": "不符合条件"}), 403)
    _problem(act(gateway, dept, app_id, "deny", {"reason": "  "}), 422)
    _problem(act(gateway, clerk, app_id, "close"), 409)
    _problem(act(gateway, dept, app_id, "issue"), 409)
    _unchanged(gateway, clerk, app_id, before)
    assert set(before["allowed_actions"]) == set()  # the clerk can do nothing in review

    denied = ok(act(gateway, dept, app_id, "deny", {"reason": "不符合条件"}))
    assert denied["state"] == "DENIED"
    _problem(act(gateway, dept, app_id, "approve"), 409)
    _problem(act(gateway, clerk, app_id, "issue"), 409)
    _unchanged(gateway, clerk, app_id, get_app(gateway, clerk, app_id))


def test_intake_of_an_item_not_delegated_or_town_only_from_a_village_is_refused(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    clerk_sub = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    clerk = token("zhaowan", "clerk", sub=clerk_sub)
    village_sub = f"village-zw-{uuid.uuid4().hex[:6]}"
    village = token("zhaowan", "clerk", sub=village_sub, village="zw-shuanghe")
    body = {"applicant": {"name": "李四"}, "materials": []}

    unknown = gateway.post(
        "/api/v1/applications", json={**body, "item_code": "XK-09999-001"}, headers=headers(clerk)
    )
    _problem(unknown, 422, "item-not-delegated")
    assert unknown.json()["errors"][0]["field"] == "item_code"

    town_only = gateway.post(
        "/api/v1/applications",
        json={**body, "item_code": LICENCE, "channel": "village_room"},
        headers=headers(village),
    )
    _problem(town_only, 403, "item-not-delegated-to-village")

    wrong_channel = gateway.post(
        "/api/v1/applications",
        json={**body, "item_code": LICENCE, "channel": "online"},
        headers=headers(clerk),
    )
    _problem(wrong_channel, 422)
    assert wrong_channel.json()["errors"][0]["field"] == "channel"

    no_consent = gateway.post(
        "/api/v1/applications",
        json={**body, "item_code": LICENCE, "channel": "agent"},
        headers=headers(token("zhaowan", "agent")),
    )
    _problem(no_consent, 422)
    assert no_consent.json()["errors"][0]["field"] == "applicant_consent"

    unknown_village = gateway.post(
        "/api/v1/applications",
        json={
            **body,
            "item_code": VILLAGE_ITEM,
            "channel": "village_room",
            "village": "bl-nowhere",
        },
        headers=headers(clerk),
    )
    _problem(unknown_village, 422)
    assert unknown_village.json()["errors"][0]["field"] == "village"

    for sub in (clerk_sub, village_sub):
        mine = walk(gateway, clerk, "/api/v1/applications", {"intake_by": sub}, "applications")
        assert mine == []

    # the same village user may take an item delegated down to village rooms
    ok_village = intake(
        gateway, village, item=VILLAGE_ITEM, channel="village_room", village="zw-shuanghe"
    )
    app = get_app(gateway, village, ok_village["applications"][0]["id"])
    assert (app["village"], app["channel"]) == ("zw-shuanghe", "village_room")
    # village staff see only their own village's applications
    other_village = token("zhaowan", "clerk", village="zw-qingquan")
    assert (
        gateway.get(f"/api/v1/applications/{app['id']}", headers=auth(other_village)).status_code
        == 404
    )
