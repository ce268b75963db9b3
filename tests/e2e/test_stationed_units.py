"""Stationed units through the gateway: the matrix authorises calls, the funding ledger is
append-only and never overspent, and a redeployment runs through both parties and ends the
person's post in personnel."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

API = "/api/v1/stationed"
TOWN = "bailiu"
D = Decimal
CHINA = ZoneInfo("Asia/Shanghai")


def _post(gateway: httpx.Client, tok: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return gateway.post(
        path if path.startswith("/api") else API + path,
        json=body,
        headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())},
    )


def _type(r: httpx.Response) -> str:
    return str(r.json().get("type", "")).rsplit("/", 1)[-1]


def test_the_matrix_refuses_the_wrong_party_both_ways(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    admin = token(TOWN, "township_admin")
    justice = token(None, "county_dept", department="justice")
    person = f"sf-{uuid.uuid4().hex[:6]}"
    # The township cannot hire; the county department can.
    r = _post(gateway, admin, "/units/justice-office/staff", {"person": person, "name": "许明"})
    assert r.status_code == 403 and _type(r) == "matrix-forbids", r.text
    r = _post(
        gateway,
        justice,
        "/units/justice-office/staff",
        {"person": person, "name": "许明", "township": TOWN},
    )
    assert r.status_code == 201, r.text
    # Training: the county department, not the township.
    training = {"person": person, "course": "行政复议实务", "hours": "16", "township": TOWN}
    r = _post(gateway, admin, "/units/justice-office/training", training)
    assert r.status_code == 403 and _type(r) == "matrix-forbids", r.text
    r = _post(gateway, justice, "/units/justice-office/training", training)
    assert r.status_code == 201, r.text
    # Attendance and appraisal: the township, not the county department.
    r = _post(gateway, justice, "/attendance", {"person": person, "status": "present"})
    assert r.status_code == 403, r.text
    r = _post(gateway, admin, "/attendance", {"person": person, "status": "present"})
    assert r.status_code == 201, r.text
    r = _post(
        gateway, admin, "/appraisals", {"person": person, "period": "2026", "grade": "excellent"}
    )
    assert r.status_code == 201, r.text
    # The department sees the appraisal and the quarterly attendance report.
    seen = gateway.get(
        f"{API}/units/justice-office/appraisals", params={"township": TOWN}, headers=auth(justice)
    )
    assert seen.status_code == 200 and [
        a["grade"] for a in seen.json() if a["person"] == person
    ] == ["excellent"]
    report = gateway.get(
        f"{API}/units/justice-office/attendance-report",
        params={"township": TOWN, "year": 2026, "quarter": 4},
        headers=auth(justice),
    )
    assert report.status_code == 200, report.text
    assert report.json()["department"] == "justice"
    # Another department does not even see the unit.
    finance = token(None, "county_dept", department="finance")
    r = _post(gateway, finance, "/units/justice-office/training", training)
    assert r.status_code == 404, r.text
    matrix = gateway.get(f"{API}/matrix", headers=auth(admin)).json()
    rows = {row["function"]: row for row in matrix["rows"]}
    assert rows["pay_disbursement"]["decides"] == "township"
    assert rows["training"]["decides"] == "county"
    assert rows["redeployment"]["advises"] == "township"


def test_funding_ledger_refuses_overspending_and_keeps_every_movement(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    admin = token(TOWN, "township_admin")
    finance = token(None, "county_dept", department="finance")
    person = f"fo-{uuid.uuid4().hex[:6]}"
    line_body = {
        "township": TOWN,
        "person": person,
        "year": 2026,
        "category": "salary",
        "amount": "86400.00",
        "note": "2026年工资",
    }
    r = _post(gateway, admin, "/units/finance-office/budget-lines", line_body)
    assert r.status_code == 403, r.text  # only city finance allocates
    r = _post(gateway, finance, "/units/finance-office/budget-lines", line_body)
    assert r.status_code == 201, r.text
    line = r.json()
    assert line["allocated"] == "86400.00" and line["remaining"] == "86400.00"
    lid = line["id"]

    # The county department cannot disburse pay; the township can.
    r = _post(gateway, finance, f"/budget-lines/{lid}/disbursements", {"amount": "7200.00"})
    assert r.status_code == 403 and _type(r) == "matrix-forbids", r.text
    r = _post(
        gateway, admin, f"/budget-lines/{lid}/disbursements", {"amount": "7200.00", "note": "1月"}
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["amount"] == "-7200.00"

    before = gateway.get(f"{API}/budget-lines/{lid}", headers=auth(admin)).json()
    r = _post(gateway, admin, f"/budget-lines/{lid}/disbursements", {"amount": "79200.01"})
    assert r.status_code == 409 and _type(r) == "over-budget", r.text
    after = gateway.get(f"{API}/budget-lines/{lid}", headers=auth(admin)).json()
    assert after == before
    assert after["remaining"] == "79200.00"

    # A mistake is corrected by a new entry; the original stays.
    r = _post(
        gateway,
        admin,
        f"/ledger/{first['id']}/corrections",
        {"amount": "-0.01", "note": "尾差更正"},
    )
    assert r.status_code == 201, r.text
    line = gateway.get(f"{API}/budget-lines/{lid}", headers=auth(finance)).json()
    assert [e["kind"] for e in line["entries"]] == ["allocation", "disbursement", "correction"]
    assert line["entries"][1]["amount"] == "-7200.00"
    assert line["remaining"] == "79199.99"

    # Concurrent disbursements: the line's row lock lets exactly what fits through.
    def pay(_: int) -> int:
        return _post(
            gateway, admin, f"/budget-lines/{lid}/disbursements", {"amount": "20000.00"}
        ).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(pay, range(6)))
    assert sorted(codes) == [201, 201, 201, 409, 409, 409], codes
    final = gateway.get(f"{API}/budget-lines/{lid}", headers=auth(admin)).json()
    assert final["remaining"] == "19199.99"
    assert D(final["allocated"]) - D(final["disbursed"]) == D(final["remaining"])
    assert (
        gateway.get(
            f"{API}/budget-lines/{lid}", headers=auth(token("zhaowan", "township_admin"))
        ).status_code
        == 404
    )


def test_redeployment_runs_through_both_parties_and_ends_the_post_in_personnel(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    admin = token(TOWN, "township_admin")
    market = token(None, "county_dept", department="market-supervision")
    person = f"ms-{uuid.uuid4().hex[:6]}"
    r = _post(
        gateway,
        market,
        "/units/market-office/staff",
        {"person": person, "name": "高峰", "township": TOWN},
    )
    assert r.status_code == 201, r.text

    # personnel learns of the secondment by event: a `stationed` person of the town.
    def registered() -> dict[str, Any]:
        r = gateway.get(f"/api/v1/personnel/people/{person}", headers=auth(admin))
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert eventually(registered)["status"] == "stationed"
    # The township gives the person a post (daily management); stationed hears of it.
    r = _post(
        gateway, admin, "/api/v1/personnel/assignments", {"person": person, "post": "agri-tech"}
    )
    assert r.status_code == 201, r.text

    def staff_post() -> str:
        rows = gateway.get(f"{API}/units/market-office/staff", headers=auth(admin)).json()
        post = next(s["post"] for s in rows if s["person"] == person)
        assert post == "agri-tech"
        return str(post)

    eventually(staff_post)

    body = {"person": person, "reason": "县局统一调配", "township": TOWN}
    r = _post(gateway, admin, "/units/market-office/redeployments", body)
    assert r.status_code == 403 and _type(r) == "matrix-forbids", r.text
    r = _post(gateway, market, "/units/market-office/redeployments", body)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["state"] == "PROPOSED"

    r = _post(gateway, market, f"/redeployments/{rid}/opinion", {"opinion": "agree"})
    assert r.status_code == 403, r.text  # the township advises, not the county
    r = _post(gateway, admin, f"/redeployments/{rid}/decision", {"decision": "confirm"})
    assert r.status_code == 403, r.text  # the county decides, not the township
    r = _post(gateway, market, f"/redeployments/{rid}/decision", {"decision": "confirm"})
    assert r.status_code == 409, r.text  # the township's opinion comes first
    r = _post(gateway, admin, f"/redeployments/{rid}/opinion", {"opinion": "object"})
    assert r.status_code == 422, r.text  # an objection needs a note
    r = _post(gateway, admin, f"/redeployments/{rid}/opinion", {"opinion": "agree", "note": "同意"})
    assert r.status_code == 200 and r.json()["state"] == "AGREED", r.text
    r = _post(
        gateway,
        market,
        f"/redeployments/{rid}/decision",
        {"decision": "confirm", "note": "调回县局"},
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "EFFECTIVE"
    assert [h["to_state"] for h in done["history"]] == [
        "PROPOSED",
        "AGREED",
        "COUNTY_DECISION",
        "EFFECTIVE",
    ]

    def assignment_ended() -> bool:
        p = registered()
        current = [a for a in p["assignments"] if a["post"] == "agri-tech"]
        assert current and current[-1]["ends_on"], p
        assert "redeployed" in current[-1]["end_reason"]
        return True

    eventually(assignment_ended)
    rows = gateway.get(
        f"{API}/units/market-office/staff", headers=auth(market), params={"township": TOWN}
    ).json()
    me = next(s for s in rows if s["person"] == person)
    assert me["state"] == "redeployed" and me["left_on"]
    # Attendance for someone who has left is refused.
    r = _post(gateway, admin, "/attendance", {"person": person, "status": "present"})
    assert r.status_code == 404, r.text


def test_a_decision_with_a_later_date_takes_effect_on_that_date(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    admin = token(TOWN, "township_admin")
    finance = token(None, "county_dept", department="finance")
    person = f"fl-{uuid.uuid4().hex[:6]}"
    r = _post(
        gateway,
        finance,
        "/units/finance-office/staff",
        {"person": person, "name": "孟凡", "township": TOWN},
    )
    assert r.status_code == 201, r.text
    r = _post(
        gateway,
        finance,
        "/units/finance-office/redeployments",
        {
            "person": person,
            "reason": "轮岗",
            "township": TOWN,
            "to_township": "zhaowan",
            "to_unit": "finance-office",
        },
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (
        _post(
            gateway,
            admin,
            f"/redeployments/{rid}/opinion",
            {"opinion": "object", "note": "年底任务重"},
        ).status_code
        == 200
    )
    later = (dt.datetime.now(CHINA).date() + dt.timedelta(days=3)).isoformat()
    r = _post(
        gateway,
        finance,
        f"/redeployments/{rid}/decision",
        {"decision": "confirm", "effective_on": later},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "COUNTY_DECISION" and r.json()["effective_on"] == later
    assert "年底任务重" in r.json()["opinion"]  # the objection is on record; the county decided
    try:
        system.shift_clock(4 * 86400)

        def effective() -> bool:
            got = gateway.get(f"{API}/redeployments/{rid}", headers=auth(admin)).json()
            assert got["state"] == "EFFECTIVE", got
            return True

        eventually(effective, timeout=30)
    finally:
        system.shift_clock(0)
    # The person now serves the finance office of the other town.
    zw = token("zhaowan", "township_admin")
    rows = gateway.get(f"{API}/units/finance-office/staff", headers=auth(zw)).json()
    assert [s["state"] for s in rows if s["person"] == person] == ["active"]

    def in_personnel() -> bool:
        r = gateway.get(f"/api/v1/personnel/people/{person}", headers=auth(zw))
        assert r.status_code == 200 and r.json()["status"] == "stationed", r.text
        return True

    eventually(in_personnel)


def test_the_matrix_is_configured_by_the_county(gateway: httpx.Client, token: TokenFactory) -> None:
    admin = token(TOWN, "township_admin")
    county = token(None, "county_admin")
    justice = token(None, "county_dept", department="justice")
    person = f"cf-{uuid.uuid4().hex[:6]}"
    r = _post(
        gateway,
        justice,
        "/units/justice-office/staff",
        {"person": person, "name": "邓涛", "township": TOWN},
    )
    assert r.status_code == 201, r.text
    row = {"township": TOWN, "decides": "township", "advises": "county", "informed": "county"}
    r = gateway.put(f"{API}/matrix/training", json=row, headers=auth(admin))
    assert r.status_code == 403, r.text
    bad = gateway.put(f"{API}/matrix/flying", json=row, headers=auth(county))
    assert bad.status_code == 422 and "function" in bad.text
    training = {"person": person, "course": "人民调解", "hours": "4.5", "township": TOWN}
    try:
        r = gateway.put(f"{API}/matrix/training", json=row, headers=auth(county))
        assert r.status_code == 200, r.text
        assert {x["function"]: x["decides"] for x in r.json()["rows"]}["training"] == "township"
        assert (
            _post(gateway, justice, "/units/justice-office/training", training).status_code == 403
        )
        assert _post(gateway, admin, "/units/justice-office/training", training).status_code == 201
    finally:
        restore = {"township": TOWN, "decides": "county", "advises": "", "informed": "township"}
        r = gateway.put(f"{API}/matrix/training", json=restore, headers=auth(county))
        assert r.status_code == 200, r.text
    assert _post(gateway, admin, "/units/justice-office/training", training).status_code == 403
    listed = gateway.get(
        f"{API}/units/justice-office/training", params={"township": TOWN}, headers=auth(justice)
    )
    assert [(t["course"], t["hours"]) for t in listed.json() if t["person"] == person] == [
        ("人民调解", "4.5")
    ]
