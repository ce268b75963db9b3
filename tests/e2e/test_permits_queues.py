"""Queues: filters and cursor pagination under concurrent intake; the agent channel."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth
from tests.e2e.permits_support import approver, headers, intake, ok, walk

pytestmark = pytest.mark.e2e

ITEM = "GG-01502-001"  # education public service, township level


def test_lists_stay_correct_under_concurrent_intake_by_two_clerks(
    system: Any, gateway: httpx.Client, token: TokenFactory
) -> None:
    """Two clerks take the same item at once while a third pages through the queue with a
    small page size: no page walk ever repeats a row, every row matches the filters, and
    once the intakes are done a walk returns each of them exactly once."""
    subs = [f"clerk-zw-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    clerks = [token("zhaowan", "clerk", sub=s) for s in subs]
    reader = token("zhaowan", "clerk")
    created: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take(tok: str) -> None:
        with httpx.Client(base_url=system.gateway_url, timeout=30) as client:
            for _ in range(12):
                try:
                    body = intake(client, tok, item=ITEM)
                except BaseException as e:
                    errors.append(e)
                    return
                with lock:
                    created.append(body["applications"][0]["id"])

    threads = [threading.Thread(target=take, args=(c,)) for c in clerks]
    for t in threads:
        t.start()
    walks = 0
    while any(t.is_alive() for t in threads) or walks == 0:
        rows = walk(
            gateway,
            reader,
            "/api/v1/applications",
            {"item": ITEM, "state": "SUBMITTED", "page_size": 5},
            "applications",
        )
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), "a page walk repeated a row"
        assert ids == sorted(ids), "rows out of order"
        assert {(r["item"], r["state"], r["township"]) for r in rows} <= {
            (ITEM, "SUBMITTED", "zhaowan")
        }
        walks += 1
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(created) == 24

    rows = walk(
        gateway,
        reader,
        "/api/v1/applications",
        {"item": ITEM, "state": "SUBMITTED", "page_size": 7},
        "applications",
    )
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert set(created) <= set(ids)
    for sub in subs:
        mine = walk(
            gateway,
            reader,
            "/api/v1/applications",
            {"intake_by": sub, "page_size": 5},
            "applications",
        )
        assert len(mine) == 12
        assert {m["submitted_by"] for m in mine} == {sub}

    # categorised approval: the education department's queue has them, across towns
    edu = approver(token, "education")
    dept_rows = walk(
        gateway, edu, "/api/v1/applications", {"item": ITEM, "page_size": 200}, "applications"
    )
    assert set(created) <= {r["id"] for r in dept_rows}
    assert {r["department"] for r in dept_rows} == {"education"}
    assert (
        walk(
            gateway,
            approver(token, "forestry"),
            "/api/v1/applications",
            {"item": ITEM},
            "applications",
        )
        == []
    )
    # another town sees none of them
    bailiu = walk(
        gateway,
        token("bailiu", "clerk"),
        "/api/v1/applications",
        {"item": ITEM, "page_size": 200},
        "applications",
    )
    assert not set(created) & {r["id"] for r in bailiu}


def test_bad_list_parameters_are_422_naming_the_field(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    clerk = token("zhaowan", "clerk")
    for params, field in (
        ({"page_size": 0}, "page_size"),
        ({"page_size": 201}, "page_size"),
        ({"state": "FLYING"}, "state"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"channel": "fax"}, "channel"),
    ):
        r = gateway.get("/api/v1/applications", params=params, headers=auth(clerk))
        assert r.status_code == 422, (params, r.text)
        assert r.json()["errors"][0]["field"].split(".")[0] == field


def test_agent_files_with_consent_and_lists_own_work(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    agent_sub = f"agent-zw-{uuid.uuid4().hex[:6]}"
    agent = token("zhaowan", "agent", sub=agent_sub)
    filed = intake(gateway, agent, item=ITEM, channel="agent", applicant_consent=True)
    app_id = filed["applications"][0]["id"]
    intake(gateway, token("zhaowan", "clerk"), item=ITEM)  # not the agent's
    work = ok(gateway.get("/api/v1/agent/applications", headers=auth(agent)))
    assert [a["id"] for a in work["applications"]] == [app_id]
    assert work["applications"][0]["channel"] == "agent"
    assert work["applications"][0]["applicant_consent"] is True
    # the channel filter of the town's queue finds it too
    rows = walk(
        gateway,
        token("zhaowan", "township_admin"),
        "/api/v1/applications",
        {"channel": "agent", "intake_by": agent_sub},
        "applications",
    )
    assert [r["id"] for r in rows] == [app_id]
    assert (
        gateway.get(
            "/api/v1/agent/applications", headers=auth(token("zhaowan", "clerk"))
        ).status_code
        == 403
    )
    r = gateway.post(
        "/api/v1/applications",
        json={"item_code": ITEM, "applicant": {"name": "赵六"}, "channel": "agent"},
        headers=headers(agent),
    )
    assert r.status_code == 422
