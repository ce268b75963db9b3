"""Deadline breaches of cases, with the clock moved forward (time-controlled)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually
from tests.e2e.test_enforcement_cases import (
    API,
    STATUTORY_ITEM,
    Team,
    act,
    make_team,
    open_case,
    to_notice,
)
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

DAY = 24 * 3600


def _breached(gateway: httpx.Client, tok: str, case_id: str) -> set[str]:
    r = gateway.get(f"{API}/cases/{case_id}", headers=auth(tok))
    assert r.status_code == 200, r.text
    return {d["kind"] for d in r.json()["deadlines"] if d["breached"]}


def _warned(gateway: httpx.Client, tok: str, case_id: str) -> bool:
    r = gateway.get(f"{API}/cases/{case_id}", headers=auth(tok))
    assert r.status_code == 200, r.text
    return any(d["kind"] == "decision_90_days" and d["warning"] for d in r.json()["deadlines"])


def test_overdue_decision_fires_a_breach_once(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    late = open_case(gateway, team.a_tok, STATUTORY_ITEM)
    act(gateway, team.b_tok, late["id"], {"action": "verify"})
    filed = act(gateway, team.a_tok, late["id"], {"action": "file", "officers": [team.a, team.b]})
    assert filed["decision_due"]
    extended = open_case(gateway, team.a_tok, STATUTORY_ITEM)
    act(gateway, team.b_tok, extended["id"], {"action": "verify"})
    act(gateway, team.a_tok, extended["id"], {"action": "file", "officers": [team.a, team.b]})
    act(gateway, team.head, extended["id"], {"action": "extend", "days": 30,
                                             "reason": "案情复杂，经负责人批准延期"})  # fmt: skip
    assert _breached(gateway, team.a_tok, late["id"]) == set()
    # 90 days, or a little more when the 90th is a rest day or holiday (next working day)
    limit = (dt.date.fromisoformat(filed["decision_due"]) - dt.date.fromisoformat(
        filed["filed_on"])).days  # fmt: skip
    assert 90 <= limit <= 100
    try:
        system.shift_clock((limit - 5) * DAY)
        eventually(lambda: _warned(gateway, team.a_tok, late["id"]), timeout=30)
        system.shift_clock((limit + 1) * DAY)
        eventually(
            lambda: "decision_90_days" in _breached(gateway, team.a_tok, late["id"]), timeout=30
        )
        assert "decision_90_days" not in _breached(gateway, team.a_tok, extended["id"])
    finally:
        system.shift_clock(0)
    # the breach stays recorded (once) after the clock is back
    case = gateway.get(f"{API}/cases/{late['id']}", headers=auth(team.a_tok)).json()
    kinds = [d["kind"] for d in case["deadlines"] if d["breached"]]
    assert kinds.count("decision_90_days") == 1


def _decided(gateway: httpx.Client, team: Team, fine: str = "800.00") -> str:
    case = open_case(gateway, team.a_tok, STATUTORY_ITEM)
    to_notice(gateway, team, case["id"], fine=fine)
    act(gateway, team.a_tok, case["id"], {"action": "statement", "waive_hearing": True})
    act(gateway, team.head, case["id"], {"action": "decide", "kind": "penalty", "fine": fine})
    return str(case["id"])


def _days_to_breach(gateway: httpx.Client, tok: str, case_id: str, kind: str, since: str) -> int:
    """Whole days from ``since`` (ISO date) until ``kind`` is breached (the day after due).

    Working-day limits depend on the calendar (a holiday in between stretches them), so the
    clock is moved by what the service computed, not by a fixed count.
    """
    r = gateway.get(f"{API}/cases/{case_id}", headers=auth(tok))
    due = next(d["due"] for d in r.json()["deadlines"] if d["kind"] == kind)
    return (dt.date.fromisoformat(due[:10]) - dt.date.fromisoformat(since[:10])).days + 1


def _metric(system: LocalStack, name: str, township: str) -> float:
    port = system.metrics_ports["enforcement"]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(f'{name}{{township="{township}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} for {township} not exposed")


def test_service_publication_retraction_payment_and_complaint_clocks(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    unserved = _decided(gateway, team)
    revoked = _decided(gateway, team)
    act(gateway, team.a_tok, revoked, {"action": "serve", "method": "direct"})
    act(gateway, team.a_tok, revoked, {"action": "publish"})
    r = act(gateway, team.head, revoked, {"action": "revoke", "reason": "复议撤销",
                                          "authority": "旬阳市人民政府"})  # fmt: skip
    revoked_on = r["decision"]["revoked_on"]
    assert revoked_on
    assert "retraction_3_days" in {d["kind"] for d in r["deadlines"]}
    act(gateway, team.a_tok, revoked, {"action": "pay", "amount": "1.00"}, status=409)
    unpaid = _decided(gateway, team)
    act(gateway, team.a_tok, unpaid, {"action": "serve", "method": "direct"})
    filed = gateway.post(
        "/open311/v2/requests.json",
        data={"jurisdiction_id": "zhaowan", "service_code": "other", "address_string": "赵湾镇",
              "description": "无人处理的投诉"},
    )  # fmt: skip
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()[0]["service_request_id"]
    eventually(lambda: _metric(system, "township_enforcement_cases_open", "zhaowan") >= 3)
    # 3 and 7 working days (第八十五条): 4 and 12 natural days unless a holiday intervenes
    retraction = _days_to_breach(gateway, team.a_tok, revoked, "retraction_3_days", revoked_on)
    service = _days_to_breach(gateway, team.a_tok, unserved, "service_7_days", revoked_on)
    assert retraction >= 4 and service >= 8
    assert service < 20, "the payment check below assumes service is breached first"
    try:
        system.shift_clock(retraction * DAY)
        eventually(lambda: "retraction_3_days" in _breached(gateway, team.a_tok, revoked), 30)
        system.shift_clock(max(service, 12) * DAY)
        eventually(lambda: "service_7_days" in _breached(gateway, team.a_tok, unserved), 30)
        assert "publication_7_working_days" in _breached(gateway, team.a_tok, unserved)
        overdue = gateway.get(
            f"/api/v1/enforcement/complaints/{complaint_id}", headers=auth(team.a_tok)
        )
        assert overdue.status_code == 200 and overdue.json()["overdue"] is True
        system.shift_clock(20 * DAY)  # 5 days late: 3% a day of 800 yuan
        eventually(
            lambda: (
                gateway.get(f"{API}/cases/{unpaid}", headers=auth(team.a_tok)).json()["surcharge"]
                == "120.00"
            )
        )
        act(gateway, team.a_tok, unpaid, {"action": "pay", "amount": "800.00"})
        act(gateway, team.a_tok, unpaid, {"action": "close"}, status=409)
        act(gateway, team.a_tok, unpaid, {"action": "pay", "amount": "120.00"})
        assert act(gateway, team.a_tok, unpaid, {"action": "close"})["state"] == "CLOSED"
    finally:
        system.shift_clock(0)
