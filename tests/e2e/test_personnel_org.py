"""Personnel through the gateway: the cap of bodies, posts and people, roles and tenancy."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth

pytestmark = pytest.mark.e2e

API = "/api/v1/personnel"


def _post(gateway: httpx.Client, tok: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return gateway.post(
        API + path, json=body, headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())}
    )


def test_an_eleventh_body_is_refused_and_dissolving_frees_a_place(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    admin = token("bailiu", "township_admin")
    units = gateway.get(f"{API}/org-units", headers=auth(admin)).json()
    active = [u for u in units if u["active"]]
    assert 0 < len(active) <= 10
    created = []
    for i in range(10 - len(active)):
        code = f"body-{uuid.uuid4().hex[:6]}"
        r = _post(
            gateway,
            admin,
            "/org-units",
            {"code": code, "name_zh": f"专项机构{i}", "name_en": f"Special {i}", "kind": "special"},
        )
        assert r.status_code == 201, r.text
        created.append(code)
    eleventh = _post(
        gateway,
        admin,
        "/org-units",
        {"code": "one-too-many", "name_zh": "第十一个", "name_en": "Eleventh", "kind": "office"},
    )
    assert eleventh.status_code == 409, eleventh.text
    assert eleventh.json()["type"].endswith("/org-unit-cap-reached")
    assert "10" in eleventh.json()["detail"]
    names = {u["code"] for u in gateway.get(f"{API}/org-units", headers=auth(admin)).json()}
    assert "one-too-many" not in names

    # Another town cannot touch it; a clerk may not create bodies.
    victim = created[0] if created else active[-1]["code"]
    other = token("zhaowan", "township_admin")
    r = gateway.post(f"{API}/org-units/{victim}/dissolve", headers=auth(other))
    assert r.status_code == 404, r.text
    clerk = token("bailiu", "clerk")
    r = _post(
        gateway,
        clerk,
        "/org-units",
        {"code": "x-y", "name_zh": "x", "name_en": "x", "kind": "office"},
    )
    assert r.status_code == 403, r.text

    if created:
        for code in created:
            r = gateway.post(f"{API}/org-units/{code}/dissolve", headers=auth(admin))
            assert r.status_code == 200 and r.json()["active"] is False, r.text
        again = _post(
            gateway,
            admin,
            "/org-units",
            {"code": created[0], "name_zh": "恢复", "name_en": "Restored", "kind": "special"},
        )
        assert again.status_code == 201, again.text
        gateway.post(f"{API}/org-units/{created[0]}/dissolve", headers=auth(admin))


def test_people_posts_and_assignments_over_time(gateway: httpx.Client, token: TokenFactory) -> None:
    admin = token("bailiu", "township_admin")
    sub = f"staff-{uuid.uuid4().hex[:6]}"
    r = _post(gateway, admin, "/people", {"sub": sub, "name": "彭志莹", "status": "administrative"})
    assert r.status_code == 201, r.text
    dup = _post(
        gateway, admin, "/people", {"sub": sub, "name": "彭志莹", "status": "administrative"}
    )
    assert dup.status_code == 409
    bad = _post(gateway, admin, "/people", {"sub": sub + "x", "name": "x", "status": "volunteer"})
    assert bad.status_code == 422 and "status" in bad.text

    first = _post(
        gateway,
        admin,
        "/assignments",
        {"person": sub, "post": "militia", "starts_on": "2026-01-01"},
    )
    assert first.status_code == 201, first.text
    second = _post(
        gateway,
        admin,
        "/assignments",
        {"person": sub, "post": "veterans", "starts_on": "2026-07-01"},
    )
    assert second.status_code == 201, second.text
    person = gateway.get(f"{API}/people/{sub}", headers=auth(admin)).json()
    history = [(a["post"], a["starts_on"], a["ends_on"]) for a in person["assignments"]]
    assert history == [("militia", "2026-01-01", "2026-06-30"), ("veterans", "2026-07-01", None)]
    unknown_post = _post(gateway, admin, "/assignments", {"person": sub, "post": "astronaut"})
    assert unknown_post.status_code == 422 and "post" in unknown_post.text

    ended = gateway.post(
        f"{API}/assignments/{second.json()['id']}/end",
        json={"ends_on": "2026-09-30", "reason": "调岗"},
        headers=auth(admin),
    )
    assert ended.status_code == 200 and ended.json()["ends_on"] == "2026-09-30", ended.text
    assert (
        gateway.get(f"{API}/people/{sub}", headers=auth(token("zhaowan", "clerk"))).status_code
        == 404
    )

    # A status is only a status: a stationed person claims like anyone else.
    rules = {r["code"]: r for r in gateway.get(f"{API}/rules", headers=auth(admin)).json()}
    assert rules["bad-rating"]["trigger"] == "permits.rating.submitted.v1"
    assert rules["liaison-work"]["evidence_required"] and rules["liaison-work"]["claimable"]
    page = gateway.get(f"{API}/people", params={"page_size": 1}, headers=auth(admin)).json()
    assert len(page["people"]) == 1 and page["next_cursor"]


def test_rules_are_data_set_by_the_county(gateway: httpx.Client, token: TokenFactory) -> None:
    admin = token("bailiu", "township_admin")
    county = token(None, "county_admin")
    sub = f"rl-{uuid.uuid4().hex[:6]}"
    assert (
        _post(
            gateway, admin, "/people", {"sub": sub, "name": "田野", "status": "contract"}
        ).status_code
        == 201
    )
    me = token("bailiu", "clerk", sub=sub)
    original = {r["code"]: r for r in gateway.get(f"{API}/rules", headers=auth(admin)).json()}[
        "urgent-task"
    ]
    new = {"points": "3", "cap_per_period": "4", "evidence_required": False, "claimable": True}
    assert gateway.put(f"{API}/rules/urgent-task", json=new, headers=auth(admin)).status_code == 403
    try:
        r = gateway.put(f"{API}/rules/urgent-task", json=new, headers=auth(county))
        assert r.status_code == 200 and r.json()["cap_per_period"] == "4.00", r.text
        first = _post(gateway, me, "/claims", {"rule": "urgent-task"})
        assert first.status_code == 201 and first.json()["points"] == "3.00", first.text
        over = _post(gateway, me, "/claims", {"rule": "urgent-task", "points": "1.01"})
        assert over.status_code == 422 and over.json()["type"].endswith("/points-cap-exceeded")
    finally:
        restore = {
            "points": original["points"],
            "cap_per_period": original["cap_per_period"],
            "evidence_required": original["evidence_required"],
            "approver_role": original["approver_role"],
            "claimable": original["claimable"],
        }
        r = gateway.put(f"{API}/rules/urgent-task", json=restore, headers=auth(county))
        assert r.status_code == 200, r.text
    # Evidence is required again once restored.
    again = _post(gateway, me, "/claims", {"rule": "urgent-task", "points": "0.5"})
    assert again.status_code == 422 and "evidence" in again.text
