"""Enforcement cases through the gateway: the procedure, its refusals, joint enforcement."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

API = "/api/v1/enforcement"
STATUTORY_ITEM = "ZF-XZ-0001"  # the township's own item: bands 0–600 / 601–1400 / 1401–2000
ENTRUSTED_ITEM = "ZF-ZR-0001"  # entrusted by natural-resources to both pilot towns
LAPSED_ITEM = "ZF-JT-0007"  # entrusted to zhaowan until 2023-08-31 only, never to bailiu


@dataclass
class Team:
    """Two certified officers, a legal reviewer and the head of a town."""

    township: str
    a: str
    a_tok: str
    b: str
    b_tok: str
    reviewer: str
    head: str


def make_team(gateway: httpx.Client, token: TokenFactory, township: str = "zhaowan") -> Team:
    """Two officers with certificates (they become known by acting), a reviewer, a head."""
    tag = uuid.uuid4().hex[:6]
    a, b = f"off-{township[:2]}-{tag}-a", f"off-{township[:2]}-{tag}-b"
    team = Team(
        township=township,
        a=a,
        a_tok=token(township, "officer", sub=a, extra={"certificate": f"61{tag}01"}),
        b=b,
        b_tok=token(township, "officer", sub=b, extra={"certificate": f"61{tag}02"}),
        reviewer=token(township, "legal_reviewer", sub=f"rev-{tag}"),
        head=token(township, "township_admin", sub=f"head-{tag}"),
    )
    return team


def digest(text: str) -> str:
    """SHA-256 hex of a piece of evidence."""
    return hashlib.sha256(text.encode()).hexdigest()


def act(
    gateway: httpx.Client, tok: str, case_id: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    """POST one step to a case and check the answer's status."""
    r = gateway.post(
        f"{API}/cases/{case_id}/actions",
        json=body,
        headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == status, r.text
    data: dict[str, Any] = r.json()
    return data


def open_case(
    gateway: httpx.Client,
    tok: str,
    item: str = STATUTORY_ITEM,
    departments: list[str] | None = None,
    status: int = 201,
) -> dict[str, Any]:
    """Open a clue for ``item``."""
    r = gateway.post(
        f"{API}/cases",
        json={
            "item_code": item,
            "summary": "村民反映有人在集镇道路旁违法搭建",
            "party": {"name": "王建国", "kind": "person"},
            "departments": departments or [],
        },
        headers=auth(tok),
    )
    assert r.status_code == status, r.text
    data: dict[str, Any] = r.json()
    return data


def to_notice(gateway: httpx.Client, team: Team, case_id: str, fine: str = "800.00") -> None:
    """Verify, file, investigate, review and notify: the case waits for the party."""
    act(gateway, team.b_tok, case_id, {"action": "verify", "note": "现场核实属实"})
    act(
        gateway,
        team.a_tok,
        case_id,
        {
            "action": "file",
            "officers": [team.a, team.b],
            "party": {"name": "王建国", "kind": "person"},
        },
    )
    act(
        gateway,
        team.a_tok,
        case_id,
        {
            "action": "investigate",
            "officers": [team.a, team.b],
            "evidence": [
                {"name": "现场检查笔录.pdf", "sha256": digest(case_id + "笔录")},
                {"name": "现场照片.jpg", "sha256": digest(case_id + "照片"), "size": 2048},
            ],
            "note": "询问当事人并拍照取证",
        },
    )
    act(gateway, team.a_tok, case_id, {"action": "submit_review"})
    act(
        gateway,
        team.reviewer,
        case_id,
        {"action": "review", "approve": True, "opinion": "事实清楚"},
    )
    act(gateway, team.a_tok, case_id, {"action": "notice", "proposed": "penalty", "fine": fine})


def all_cases(gateway: httpx.Client, tok: str) -> list[dict[str, Any]]:
    """Every case the caller sees (following the cursor)."""
    out: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = gateway.get(
            f"{API}/cases", params={"page_size": 200, "cursor": cursor}, headers=auth(tok)
        )
        assert r.status_code == 200, r.text
        out.extend(r.json()["cases"])
        cursor = r.json()["next_cursor"] or ""
        if not cursor:
            return out


def test_case_runs_the_whole_procedure_with_its_record(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    case = open_case(gateway, team.a_tok)
    assert case["state"] == "CLUE"
    assert case["case_no"].startswith("ZHAOWAN-ZF-")
    to_notice(gateway, team, case["id"])
    act(gateway, team.a_tok, case["id"], {"action": "statement", "waive_hearing": True})
    decided = act(
        gateway,
        team.head,
        case["id"],
        {
            "action": "decide",
            "kind": "penalty",
            "fine": "800.00",
            "band": "general",
            "other_penalties": ["order_stop"],
            "reasoning": "违反第三十九条",
        },
    )
    assert decided["state"] == "DECIDED"
    assert decided["decision"]["decision_no"]
    act(gateway, team.a_tok, case["id"], {"action": "serve", "method": "direct"})
    act(gateway, team.a_tok, case["id"], {"action": "publish"})
    unpaid = act(gateway, team.a_tok, case["id"], {"action": "close"}, status=409)
    assert unpaid["type"].endswith("/fine-unpaid")
    act(gateway, team.a_tok, case["id"], {"action": "pay", "amount": "800.00"})
    closed = act(gateway, team.a_tok, case["id"], {"action": "close"})
    assert closed["state"] == "CLOSED"
    assert set(closed["officers"]) == {team.a, team.b}

    r = gateway.get(f"{API}/cases/{case['id']}", headers=auth(team.b_tok))
    assert r.status_code == 200, r.text
    record = r.json()["record"]
    assert [e["action"] for e in record] == [
        "open", "verify", "file", "investigate", "submit_review", "review", "notice",
        "statement", "decide", "serve", "publish", "pay", "close",
    ]  # fmt: skip
    investigation = record[3]
    assert investigation["actor"] == team.a
    assert investigation["actor_certificate"]
    assert investigation["officers"] == [team.a, team.b]
    assert {e["sha256"] for e in investigation["evidence"]} == {
        digest(case["id"] + "笔录"),
        digest(case["id"] + "照片"),
    }
    assert record[5]["actor"].startswith("rev-")
    assert [e["seq"] for e in record] == list(range(1, len(record) + 1))
    known = gateway.get(f"{API}/officers", headers=auth(team.head))
    assert known.status_code == 200, known.text
    certs = {o["sub"]: o["certificate"] for o in known.json()["officers"]}
    assert certs[team.a] and certs[team.b] and certs[team.a] != certs[team.b]


def test_refused_steps_write_nothing(gateway: httpx.Client, token: TokenFactory) -> None:
    team = make_team(gateway, token)
    before = len(all_cases(gateway, team.a_tok))

    lapsed = open_case(gateway, team.a_tok, LAPSED_ITEM, status=422)
    assert lapsed["type"].endswith("/entrustment-expired")
    assert LAPSED_ITEM in lapsed["detail"] and "expired" in lapsed["detail"]
    assert lapsed["errors"][0]["field"] == "item_code"

    bailiu = make_team(gateway, token, "bailiu")
    never = open_case(gateway, bailiu.a_tok, LAPSED_ITEM, status=422)
    assert never["type"].endswith("/item-not-entrusted")
    assert LAPSED_ITEM in never["detail"]

    market = open_case(gateway, team.a_tok, "ZF-SC-0001", status=422)
    assert market["type"].endswith("/market-supervision-required")
    assert len(all_cases(gateway, team.a_tok)) == before

    case = open_case(gateway, team.a_tok, ENTRUSTED_ITEM)
    assert case["entrustment_document"]
    act(gateway, team.b_tok, case["id"], {"action": "verify"})
    act(gateway, team.a_tok, case["id"], {"action": "file", "officers": [team.a, team.b]})
    alone = act(
        gateway,
        team.a_tok,
        case["id"],
        {
            "action": "investigate",
            "officers": [team.a],
            "evidence": [{"name": "照片.jpg", "sha256": digest("x")}],
        },
        status=422,
    )
    assert alone["type"].endswith("/two-officers-required")
    assert alone["errors"][0]["field"] == "officers"
    stranger = f"off-unknown-{uuid.uuid4().hex[:6]}"
    uncertified = act(
        gateway,
        team.a_tok,
        case["id"],
        {
            "action": "investigate",
            "officers": [team.a, stranger],
            "evidence": [{"name": "照片.jpg", "sha256": digest("x")}],
        },
        status=422,
    )
    assert uncertified["type"].endswith("/officer-not-certified")
    after = gateway.get(f"{API}/cases/{case['id']}", headers=auth(team.a_tok)).json()
    assert after["state"] == "FILED"
    assert [e["action"] for e in after["record"]] == ["open", "verify", "file"]


def test_decision_outside_the_band_is_refused(gateway: httpx.Client, token: TokenFactory) -> None:
    team = make_team(gateway, token)
    case = open_case(gateway, team.a_tok)
    to_notice(gateway, team, case["id"])
    early = act(
        gateway,
        team.head,
        case["id"],
        {"action": "decide", "kind": "penalty", "fine": "800"},
        status=409,
    )
    assert early["type"].endswith("/hearing-window-open")
    act(gateway, team.a_tok, case["id"], {"action": "statement", "waive_hearing": True})
    outside = act(
        gateway,
        team.head,
        case["id"],
        {"action": "decide", "kind": "penalty", "fine": "5000.00"},
        status=422,
    )
    assert outside["type"].endswith("/outside-discretion-band")
    assert outside["errors"][0]["field"] == "fine"
    wrong_band = act(
        gateway,
        team.head,
        case["id"],
        {"action": "decide", "kind": "penalty", "fine": "300.00", "band": "serious"},
        status=422,
    )
    assert wrong_band["type"].endswith("/outside-discretion-band")
    officer = act(
        gateway,
        team.a_tok,
        case["id"],
        {"action": "decide", "kind": "penalty", "fine": "300"},
        status=403,
    )
    assert officer["type"].endswith("/role-required")
    now = gateway.get(f"{API}/cases/{case['id']}", headers=auth(team.a_tok)).json()
    assert now["state"] == "NOTICE_GIVEN"
    assert now["decision"] is None or not now["decision"]["kind"]
    assert now["record"][-1]["action"] == "statement"


def test_transferred_case_cannot_be_fined_and_runs_its_clocks(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    case = open_case(gateway, team.a_tok, ENTRUSTED_ITEM)
    to_notice(gateway, team, case["id"], fine="15000.00")
    proposed = act(
        gateway,
        team.a_tok,
        case["id"],
        {"action": "transfer", "step": "propose", "note": "涉嫌非法占用农用地罪"},
    )
    assert proposed["state"] == "TRANSFERRED"
    assert proposed["transfer"]["stage"] == "proposed"
    assert any(d["kind"] == "transfer_head_decision" for d in proposed["deadlines"])
    fined = act(
        gateway,
        team.head,
        case["id"],
        {"action": "decide", "kind": "penalty", "fine": "800"},
        status=409,
    )
    assert fined["type"].endswith("/case-transferred")
    act(gateway, team.a_tok, case["id"], {"action": "pay", "amount": "800"}, status=409)
    act(
        gateway,
        team.a_tok,
        case["id"],
        {"action": "transfer", "step": "head_decide", "approve": True},
        status=403,
    )
    act(
        gateway,
        team.head,
        case["id"],
        {"action": "transfer", "step": "head_decide", "approve": True},
    )
    act(
        gateway,
        team.a_tok,
        case["id"],
        {"action": "transfer", "step": "send", "receiving_agency": "旬阳市公安局"},
    )
    act(gateway, team.a_tok, case["id"], {"action": "transfer", "step": "receive"})
    declined = act(
        gateway,
        team.a_tok,
        case["id"],
        {"action": "transfer", "step": "police_decide", "approve": False},
    )
    assert declined["transfer"]["stage"] == "declined"
    act(gateway, team.a_tok, case["id"], {"action": "close"}, status=409)
    act(gateway, team.a_tok, case["id"], {"action": "transfer", "step": "reconsider"})
    accepted = act(
        gateway,
        team.a_tok,
        case["id"],
        {"action": "transfer", "step": "police_decide", "approve": True},
    )
    assert accepted["transfer"]["police_decision"] == "accepted"
    closed = act(gateway, team.a_tok, case["id"], {"action": "close"})
    assert closed["state"] == "CLOSED"
    assert not closed["decision"] or closed["decision"]["kind"] == ""
    steps = [e["action"] for e in closed["record"] if e["action"].startswith("transfer")]
    assert steps == [
        "transfer:propose", "transfer:head_decide", "transfer:send", "transfer:receive",
        "transfer:police_decide", "transfer:reconsider", "transfer:police_decide",
    ]  # fmt: skip


def test_recused_officer_cannot_act(gateway: httpx.Client, token: TokenFactory) -> None:
    team = make_team(gateway, token)
    case = open_case(gateway, team.a_tok)
    act(gateway, team.b_tok, case["id"], {"action": "verify"})
    act(gateway, team.a_tok, case["id"], {"action": "file", "officers": [team.a, team.b]})
    act(gateway, team.b_tok, case["id"], {"action": "recuse", "reason": "当事人系本人亲属"})
    barred = act(
        gateway,
        team.b_tok,
        case["id"],
        {
            "action": "investigate",
            "officers": [team.a, team.b],
            "evidence": [{"name": "x.jpg", "sha256": digest("y")}],
        },
        status=403,
    )
    assert barred["type"].endswith("/recused")
    named = act(
        gateway,
        team.a_tok,
        case["id"],
        {
            "action": "investigate",
            "officers": [team.a, team.b],
            "evidence": [{"name": "x.jpg", "sha256": digest("y")}],
        },
        status=422,
    )
    assert named["type"].endswith("/recused")


def test_county_department_sees_only_its_joint_cases_across_towns(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    zw = make_team(gateway, token, "zhaowan")
    bl = make_team(gateway, token, "bailiu")
    joint_zw = open_case(gateway, zw.a_tok, ENTRUSTED_ITEM, departments=["natural-resources"])
    joint_bl = open_case(gateway, bl.a_tok, ENTRUSTED_ITEM, departments=["natural-resources"])
    other = open_case(gateway, zw.a_tok, STATUTORY_ITEM, departments=["forestry"])
    local = open_case(gateway, zw.a_tok, STATUTORY_ITEM)
    act(
        gateway,
        zw.a_tok,
        local["id"],
        {"action": "add_departments", "departments": ["natural-resources"]},
    )

    dept = token(
        None, "county_dept", sub=f"zr-{uuid.uuid4().hex[:6]}", department="natural-resources"
    )
    seen = {c["id"]: c for c in all_cases(gateway, dept)}
    assert {joint_zw["id"], joint_bl["id"], local["id"]} <= set(seen)
    assert other["id"] not in seen
    assert all("natural-resources" in c["departments"] for c in seen.values())
    assert {seen[joint_zw["id"]]["township_id"], seen[joint_bl["id"]]["township_id"]} == {
        "zhaowan", "bailiu",
    }  # fmt: skip
    one = gateway.get(f"{API}/cases/{joint_bl['id']}", headers=auth(dept))
    assert one.status_code == 200 and one.json()["township_id"] == "bailiu"
    hidden = gateway.get(f"{API}/cases/{other['id']}", headers=auth(dept))
    assert hidden.status_code == 404
    forestry = token(None, "county_dept", sub="ly-1", department="forestry")
    assert gateway.get(f"{API}/cases/{joint_zw['id']}", headers=auth(forestry)).status_code == 404
    # towns never see each other's cases, even joint ones
    assert gateway.get(f"{API}/cases/{joint_bl['id']}", headers=auth(zw.a_tok)).status_code == 404
    # a county department reads but does not act
    r = gateway.post(
        f"{API}/cases/{joint_zw['id']}/actions", json={"action": "verify"}, headers=auth(dept)
    )
    assert r.status_code == 403


def test_inspection_needs_two_officers_and_findings_become_clues(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    act(gateway, team.b_tok, open_case(gateway, team.a_tok)["id"], {"action": "verify"})
    body = {
        "kind": "market_day",
        "place": "赵湾镇街子集市",
        "officers": [team.a],
        "checklist": [{"code": "stall-area", "text": "是否在指定区域摆摊"}],
    }
    alone = gateway.post(f"{API}/inspections", json=body, headers=auth(team.a_tok))
    assert alone.status_code == 422, alone.text
    assert alone.json()["errors"][0]["field"] == "officers"
    body["officers"] = [team.a, team.b]
    created = gateway.post(f"{API}/inspections", json=body, headers=auth(team.a_tok))
    assert created.status_code == 201, created.text
    insp = created.json()
    done = gateway.post(
        f"{API}/inspections/{insp['id']}/completion",
        json={
            "checklist": [{"code": "stall-area", "result": "issue"}],
            "findings": [
                {"text": "劝导3户摊贩进入指定区域", "becomes_clue": False},
                {
                    "text": "一户在集镇道路旁搭建棚屋",
                    "becomes_clue": True,
                    "item_code": STATUTORY_ITEM,
                    "party_name": "李某",
                },
            ],
        },
        headers=auth(team.b_tok),
    )
    assert done.status_code == 200, done.text
    findings = done.json()["findings"]
    assert findings[0]["case_id"] == "" and findings[1]["case_id"]
    clue = gateway.get(f"{API}/cases/{findings[1]['case_id']}", headers=auth(team.a_tok)).json()
    assert clue["state"] == "CLUE" and clue["source"] == "inspection"
    assert clue["inspection_id"] == insp["id"]

    joint = gateway.post(
        f"{API}/inspections",
        json={
            "kind": "joint",
            "place": "白柳镇",
            "officers": [team.a, team.b],
            "departments": ["ecology-environment"],
        },
        headers=auth(team.a_tok),
    )
    assert joint.status_code == 201, joint.text
    dept = token(None, "county_dept", sub="st-1", department="ecology-environment")
    ids = {
        i["id"]
        for i in gateway.get(
            f"{API}/inspections", params={"page_size": 200}, headers=auth(dept)
        ).json()["inspections"]
    }
    assert joint.json()["id"] in ids and insp["id"] not in ids


def test_hearing_then_no_penalty_closes_after_service(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    case = open_case(gateway, team.a_tok)
    to_notice(gateway, team, case["id"], fine="300.00")
    act(gateway, team.a_tok, case["id"], {"action": "request_hearing", "note": "当事人书面申请"})
    waiting = act(
        gateway, team.head, case["id"], {"action": "decide", "kind": "no_penalty"}, status=409
    )
    assert waiting["type"].endswith("/invalid-state")
    # 第六十四条: no hearing before its time and place were told to the party
    unscheduled = act(gateway, team.a_tok, case["id"], {"action": "hearing"}, status=409)
    assert unscheduled["type"].endswith("/hearing-not-scheduled")
    no_notice = gateway.get(f"{API}/cases/{case['id']}/hearing-notice", headers=auth(team.a_tok))
    assert no_notice.status_code == 409, no_notice.text
    assert no_notice.json()["type"].endswith("/hearing-not-scheduled")
    today = dt.date.fromisoformat(case_now(gateway, team, case["id"])["notice_on"])
    presider = f"host-{uuid.uuid4().hex[:6]}"
    schedule = {
        "action": "schedule_hearing",
        "hearing_on": (today + dt.timedelta(days=1)).isoformat(),
        "place": "镇政府二楼会议室",
        "presiding_officer": presider,
    }
    short = act(gateway, team.a_tok, case["id"], schedule, status=422)
    assert short["errors"][0]["field"] == "hearing_on"
    assert short["errors"][0]["rule"] == "7 working days' notice"
    hearing_on = today + dt.timedelta(days=30)  # 7 working days fit in 30 days, holidays or not
    schedule["hearing_on"] = hearing_on.isoformat()
    investigator = act(
        gateway, team.a_tok, case["id"], {**schedule, "presiding_officer": team.b}, status=422
    )
    assert investigator["errors"][0]["field"] == "presiding_officer"
    assert investigator["type"].endswith("/presiding-officer-investigated")
    closed = act(gateway, team.a_tok, case["id"], {**schedule, "public": False}, status=422)
    assert closed["errors"][0]["field"] == "closed_reason"
    unchanged = case_now(gateway, team, case["id"])
    assert unchanged.get("hearing") is None and unchanged["state"] == "HEARING_REQUESTED"
    scheduled = act(gateway, team.a_tok, case["id"], schedule)
    assert scheduled["state"] == "HEARING_REQUESTED"
    assert scheduled["hearing"] == {
        "hearing_on": hearing_on.isoformat(),
        "place": "镇政府二楼会议室",
        "presiding_officer": presider,
        "public": True,
        "closed_reason": "",
        "notified_on": today.isoformat(),
    }
    assert scheduled["record"][-1]["action"] == "schedule_hearing"
    # the notice to serve (听证通知书), made from the schedule
    notice = hearing_notice(gateway, team.a_tok, case["id"])
    assert notice["notice_no"] == f"{case['case_no']}-TZ"
    # the town's own power: the notice goes out in its government's name
    assert (notice["issuer"], notice["issuer_name"]) == ("township", "赵湾镇人民政府")
    assert notice["carried_out_by"] == "赵湾镇综合行政执法队"
    assert notice["party_name"] == "王建国" and notice["public"] is True
    assert notice["hearing_on"] == hearing_on.isoformat() and notice["place"] == "镇政府二楼会议室"
    assert notice["presiding_officer"] == presider
    assert notice["presiding_officer_name"] == presider  # never acted: no name on record
    lines = notice["text"].splitlines()
    assert lines[:3] == ["赵湾镇人民政府", "听证通知书", notice["notice_no"]]
    when = f"{hearing_on.year}年{hearing_on.month}月{hearing_on.day}日在镇政府二楼会议室"
    assert when in notice["text"] and "听证公开举行" in notice["text"]
    assert len(notice["rights"]) == 4 and all(r in notice["text"] for r in notice["rights"])
    # a county department not part of the case cannot read it (nor can another town)
    outsider = token(None, "county_dept", sub="sl-1", department="water-resources")
    r = gateway.get(f"{API}/cases/{case['id']}/hearing-notice", headers=auth(outsider))
    assert r.status_code == 404, r.text
    # the notified day is a running limit: it reminds ahead and breaches if nothing is recorded
    day = [d for d in scheduled["deadlines"] if d["kind"] == "hearing_day"]
    assert day == [
        {"kind": "hearing_day", "due": hearing_on.isoformat(), "breached": False, "warning": False}
    ]
    early = act(gateway, team.a_tok, case["id"], {"action": "hearing"}, status=422)
    assert early["errors"][0]["field"] == "held_on"
    assert early["errors"][0]["rule"] == "not before the notified day"
    try:
        system.shift_clock((hearing_on - today).days * 24 * 3600)
        time.sleep(0.5)  # processes re-read the clock file every 0.2 s
        heard = act(
            gateway,
            team.a_tok,
            case["id"],
            {"action": "hearing", "note": "听证会", "evidence": [{"name": "听证笔录.pdf",
                                                                   "sha256": digest("听证")}]},
        )  # fmt: skip
        assert heard["state"] == "HEARING" and heard["hearing_on"] == hearing_on.isoformat()
        assert "hearing_day" not in {d["kind"] for d in heard["deadlines"]}
        undecided = gateway.get(
            f"{API}/cases/{case['id']}/decision-document", headers=auth(team.a_tok)
        )
        assert undecided.status_code == 409 and undecided.json()["type"].endswith("/not-decided")
        decided = act(
            gateway, team.head, case["id"],
            {"action": "decide", "kind": "no_penalty", "reasoning": "违法行为轻微并及时改正"},
        )  # fmt: skip
        assert decided["decision"]["kind"] == "no_penalty"
        document = decision_document(gateway, team.a_tok, case["id"])
        assert document["title"] == "不予行政处罚决定书" and document["penalties"] == []
        assert document["decision_no"] == decided["decision"]["decision_no"]
        assert "听证笔录.pdf" in document["evidence"]  # the record's evidence, by name
        assert "决定不予行政处罚" in document["text"] and "缴纳罚款" not in document["text"]
        act(gateway, team.a_tok, case["id"], {"action": "publish"}, status=409)
        act(gateway, team.a_tok, case["id"], {"action": "close"}, status=409)  # not served yet
        act(gateway, team.a_tok, case["id"], {"action": "serve", "method": "mail"})
        closed_case = act(gateway, team.a_tok, case["id"], {"action": "close"})
        assert closed_case["state"] == "CLOSED"
    finally:
        system.shift_clock(0)


def test_a_party_absent_from_the_hearing_waives_it(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    case = open_case(gateway, team.a_tok)
    to_notice(gateway, team, case["id"], fine="300.00")
    act(gateway, team.a_tok, case["id"], {"action": "request_hearing"})
    today = dt.date.fromisoformat(case_now(gateway, team, case["id"])["notice_on"])
    hearing_on = today + dt.timedelta(days=30)
    schedule = {
        "action": "schedule_hearing",
        "hearing_on": hearing_on.isoformat(),
        "place": "镇综合执法办公室",
        "presiding_officer": f"host-{uuid.uuid4().hex[:6]}",
        "public": False,
        "closed_reason": "trade_secret",
    }
    first = act(gateway, team.head, case["id"], schedule)
    assert first["hearing"]["public"] is False
    assert first["hearing"]["closed_reason"] == "trade_secret"
    assert (
        "听证因涉及商业秘密，不公开举行" in hearing_notice(gateway, team.a_tok, case["id"])["text"]
    )
    # rescheduled a day later: the new arrangements replace the old, both are on the record
    later = hearing_on + dt.timedelta(days=1)
    again = act(gateway, team.head, case["id"], {**schedule, "hearing_on": later.isoformat()})
    assert again["hearing"]["hearing_on"] == later.isoformat()
    assert [r["action"] for r in again["record"]][-2:] == ["schedule_hearing"] * 2
    assert "rescheduled" in again["record"][-1]["note"]
    rescheduled = hearing_notice(gateway, team.a_tok, case["id"])
    assert rescheduled["hearing_on"] == later.isoformat()
    try:
        system.shift_clock((later - today).days * 24 * 3600)
        time.sleep(0.5)
        ended = act(gateway, team.a_tok, case["id"], {"action": "hearing", "party_absent": True})
        assert ended["state"] == "HEARING" and ended["hearing_waived"] is True
        assert "party absent" in ended["record"][-1]["note"]
        decided = act(
            gateway, team.head, case["id"],
            {"action": "decide", "kind": "penalty", "fine": "300.00", "band": "minor",
             "reasoning": "当事人无正当理由拒不出席听证"},
        )  # fmt: skip
        assert decided["state"] == "DECIDED"
        document = decision_document(gateway, team.a_tok, case["id"])
        assert (document["title"], document["issuer_name"]) == ("行政处罚决定书", "赵湾镇人民政府")
        assert document["fine"] == "300.00" and document["penalties"][0] == "罚款人民币300.00元"
        assert document["party_name"] == "王建国"
        assert document["decided_on"] == decided["decision"]["decided_on"]
        lines = document["text"].splitlines()
        assert lines[1:3] == ["行政处罚决定书", decided["decision"]["decision_no"]]
        assert "十五日内" in document["text"] and "六十日内依法申请行政复议" in document["text"]
    finally:
        system.shift_clock(0)


def decision_document(gateway: httpx.Client, tok: str, case_id: str) -> dict[str, Any]:
    """The case's decision document (行政处罚决定书)."""
    r = gateway.get(f"{API}/cases/{case_id}/decision-document", headers=auth(tok))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def hearing_notice(gateway: httpx.Client, tok: str, case_id: str) -> dict[str, Any]:
    """The case's hearing notice (听证通知书)."""
    r = gateway.get(f"{API}/cases/{case_id}/hearing-notice", headers=auth(tok))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def case_now(gateway: httpx.Client, team: Team, case_id: str) -> dict[str, Any]:
    """The case as its first officer sees it now."""
    r = gateway.get(f"{API}/cases/{case_id}", headers=auth(team.a_tok))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_retried_step_with_the_same_key_records_once(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    key = {"Idempotency-Key": f"enf-{uuid.uuid4()}"}
    body = {"item_code": STATUTORY_ITEM, "summary": "重试"}
    first = gateway.post(f"{API}/cases", json=body, headers={**auth(team.a_tok), **key})
    again = gateway.post(f"{API}/cases", json=body, headers={**auth(team.a_tok), **key})
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["id"] == again.json()["id"]
    step = {"Idempotency-Key": f"enf-{uuid.uuid4()}"}
    for _ in range(2):
        r = gateway.post(
            f"{API}/cases/{first.json()['id']}/actions",
            json={"action": "verify"},
            headers={**auth(team.b_tok), **step},
        )
        assert r.status_code == 200, r.text
    case = gateway.get(f"{API}/cases/{first.json()['id']}", headers=auth(team.a_tok)).json()
    assert [e["action"] for e in case["record"]] == ["open", "verify"]
    reused = gateway.post(
        f"{API}/cases/{first.json()['id']}/actions",
        json={"action": "drop", "reason": "x"},
        headers={**auth(team.b_tok), **step},
    )
    assert reused.status_code == 422 and reused.json()["type"].endswith("/idempotency-key-reused")


def test_public_items_list_what_each_town_may_act_on_today(gateway: httpx.Client) -> None:
    r = gateway.get("/public/v1/townships/zhaowan/enforcement/items")
    assert r.status_code == 200, r.text
    items = {i["code"]: i for i in r.json()["items"]}
    assert len(items) == 139  # 140 catalogued, one entrustment lapsed
    assert LAPSED_ITEM not in items
    assert items[ENTRUSTED_ITEM]["entrustment_document"]
    assert items["ZF-SC-0001"]["joint_with_market_supervision"] is True
    bands = items[STATUTORY_ITEM]["bands"]
    assert [b["level"] for b in bands] == ["minor", "general", "serious"]
    assert bands[1]["min_fine"] == "601.00"
    entrusted = gateway.get("/public/v1/townships/bailiu/entrustments").json()["entrustments"]
    assert len(entrusted) == 84
    assert len({e["entrusting_department"] for e in entrusted}) == 11
    assert gateway.get("/public/v1/townships/nowhere/enforcement/items").status_code == 404
