"""A year in one town, through the gateway: posts and people, points from claims and from
real permits events, the appraisal period run to the end, the bonus distributed exactly.

The year is played one year back (every process's clock is moved), so the period that gets
finalised and locked is not the current year other tests of the session earn points in.
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually, newborn_body
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

D = Decimal
ONE_YEAR = 365 * 86400
API = "/api/v1/personnel"


def _post(gateway: httpx.Client, tok: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return gateway.post(
        API + path, json=body, headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())}
    )


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _problem(r: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["type"].endswith("/" + type_), body
    return body


def test_a_year_in_one_town(system: LocalStack, gateway: httpx.Client, token: TokenFactory) -> None:
    tag = uuid.uuid4().hex[:6]
    admin = token("zhaowan", "township_admin", sub=f"admin-{tag}")
    posts = {p["code"]: p for p in _ok(gateway.get(f"{API}/posts", headers=auth(admin)))}
    # The two posts of the source document's example are separate posts.
    assert {"militia", "veterans"} <= set(posts)
    assert posts["militia"]["org_unit"] != posts["veterans"]["org_unit"]
    heavy = _ok(
        _post(
            gateway,
            admin,
            "/posts",
            {
                "code": f"flood-{tag}",
                "org_unit": "safety-office",
                "name_zh": "防汛值守岗",
                "name_en": "Flood watch",
                "coefficient": "1.05",
                "workload_factor": "1.20",
            },
        ),
        201,
    )
    assert heavy["effective_coefficient"] == "1.2600"

    staff = [
        (f"clerk-{tag}", "杨宏云", "public-institution", "window-clerk"),
        (f"agent-{tag}", "陈建国", "contract", "agent-cadre"),
        (f"militia-{tag}", "王军", "administrative", "militia"),
        (f"veteran-{tag}", "李强", "public-institution", "veterans"),
        (f"officer-{tag}", "刘敏", "administrative", "enforcement-officer"),
        (f"fin-{tag}", "何晓东", "stationed", f"flood-{tag}"),
        (f"liaison-{tag}", "周婷", "contract", "project-liaison"),
    ]
    coefficient = {p["code"]: D(p["effective_coefficient"]) for p in posts.values()}
    coefficient[f"flood-{tag}"] = D("1.2600")
    for sub, name, status, post in staff:
        person = _ok(
            _post(gateway, admin, "/people", {"sub": sub, "name": name, "status": status}), 201
        )
        assert person["status"] == status
        a = _ok(
            _post(
                gateway,
                admin,
                "/assignments",
                {"person": sub, "post": post, "starts_on": "2025-01-01"},
            ),
            201,
        )
        assert a["ends_on"] is None

    system.shift_clock(-ONE_YEAR)
    try:
        _play_the_year(gateway, token, admin, tag, staff, coefficient)
    finally:
        system.shift_clock(0)


def _play_the_year(
    gateway: httpx.Client,
    token: TokenFactory,
    admin: str,
    tag: str,
    staff: list[tuple[str, str, str, str]],
    coefficient: dict[str, D],
) -> None:
    year = 2025
    opened = _post(gateway, admin, "/periods", {"year": year})
    if opened.status_code == 409:  # opened earlier in the session (e.g. by the API fuzzer)
        opened = gateway.get(f"{API}/periods/{year}", headers=auth(admin))
    assert opened.status_code in (200, 201), opened.text
    assert opened.json()["state"] == "OPEN"
    toks = {sub: token("zhaowan", "clerk", sub=sub) for sub, *_ in staff}
    clerk = staff[0][0]

    # Real permits events: the clerk takes a newborn bundle at the window (two applications).
    r = gateway.post(
        "/api/v1/applications",
        json=newborn_body(),
        headers={**auth(toks[clerk]), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text

    def intake_points() -> list[dict[str, Any]]:
        r = gateway.get(f"{API}/points", params={"person": clerk}, headers=auth(admin))
        entries = r.json()["entries"] if r.status_code == 200 else []
        auto = [e for e in entries if e["rule"] == "application-intake"]
        assert len(auto) >= 2, entries
        return auto

    auto = eventually(intake_points)
    assert all(e["state"] == "AUTO" for e in auto)
    assert all(e["source_type"] == "permits.application.submitted.v1" for e in auto)

    # ... then completes both within the promised limit, and the applicant rates it badly.
    receipt = r.json()["receipt_code"]
    for app in r.json()["applications"]:
        approver = token(None, "approver", department=app["department"])
        for tok, action in (
            (toks[clerk], "accept"),
            (approver, "start-review"),
            (approver, "approve"),
            (toks[clerk], "issue"),
        ):
            step = _act(gateway, tok, f"/api/v1/applications/{app['id']}/{action}", {})
            assert step.status_code == 200, step.text
    rating = gateway.post("/public/v1/ratings", json={"receipt_code": receipt, "level": 2})
    assert rating.status_code == 201, rating.text
    for app in r.json()["applications"]:
        closed = _act(gateway, toks[clerk], f"/api/v1/applications/{app['id']}/close", {})
        assert closed.status_code == 200 and closed.json()["state"] == "CLOSED", closed.text

    # Real enforcement events: an officer of the town closes a case with a colleague.
    officer = staff[4][0]
    _close_a_case(gateway, token, officer, f"off-b-{tag}", f"head-{tag}")

    def automatic(person: str, rule: str, count: int) -> list[dict[str, Any]]:
        r = gateway.get(f"{API}/points", params={"person": person}, headers=auth(admin))
        got = [e for e in r.json().get("entries", []) if e["rule"] == rule]
        assert len(got) >= count, r.text
        return got

    done = eventually(lambda: automatic(clerk, "on-time-completion", 2))
    assert {e["source_type"] for e in done} == {"permits.application.closed.v1"}
    bad = eventually(lambda: automatic(clerk, "bad-rating", 1))
    assert bad[0]["points"] == "-2.00" and bad[0]["source_type"] == "permits.rating.submitted.v1"
    case = eventually(lambda: automatic(officer, "case-closed", 1))
    assert case[0]["points"] == "2.00" and case[0]["source_type"] == "enforcement.case.closed.v1"

    # Claims by hand, with evidence, approved by the township's admin.
    evidence = [{"name": "工作台账.pdf", "sha256": "ab" * 32}]
    claims = {
        staff[0][0]: [("daily-duty", "88.5")],
        staff[1][0]: [("daily-duty", "91.25"), ("liaison-work", "1.75")],
        staff[2][0]: [("daily-duty", "77.7"), ("urgent-task", "3")],
        staff[3][0]: [("daily-duty", "93"), ("commendation", "5")],
        staff[4][0]: [("daily-duty", "96"), ("project-visit", "0.33")],
        staff[5][0]: [("daily-duty", "85.15")],
        staff[6][0]: [("daily-duty", "90"), ("liaison-work", "2"), ("discipline", "-4.5")],
    }
    expected: dict[str, dict[str, D]] = {sub: {} for sub, *_ in staff}
    expected[clerk]["application-intake"] = D("1.00")
    expected[clerk]["on-time-completion"] = D("2.00")
    expected[clerk]["bad-rating"] = D("-2.00")
    expected[staff[4][0]]["case-closed"] = D("2.00")
    for sub, items in claims.items():
        for rule, points in items:
            body: dict[str, Any] = {"rule": rule, "points": points, "period": year}
            if rule != "daily-duty":
                body["evidence"] = evidence
            claimant = toks[sub]
            if rule == "discipline":
                # A deduction is claimed against the person by one admin, approved by another.
                claimant = token("zhaowan", "township_admin", sub=f"admin2-{tag}")
                body["person"] = sub
            entry = _ok(_post(gateway, claimant, "/claims", body), 201)
            assert entry["state"] == "CLAIMED" and entry["person"] == sub
            decided = _ok(
                _post(gateway, admin, f"/entries/{entry['id']}/decisions", {"action": "approve"})
            )
            assert decided["state"] == "APPROVED" and decided["decided_by"].startswith("admin-")
            expected[sub][rule] = expected[sub].get(rule, D(0)) + D(points)

    someone = staff[1][0]
    # Evidence is required by the rule; the cap per period is enforced.
    _problem(
        _post(gateway, toks[someone], "/claims", {"rule": "liaison-work", "period": year}),
        422,
        "validation-error",
    )
    capped = _post(
        gateway,
        toks[someone],
        "/claims",
        {"rule": "daily-duty", "points": "4.76", "period": year},
    )
    body = _problem(capped, 422, "points-cap-exceeded")
    assert "96" in body["detail"]
    # Nobody approves their own claim; automatic rules are not claimable.
    own = _ok(
        _post(
            gateway,
            toks[someone],
            "/claims",
            {"rule": "daily-duty", "points": "4.75", "period": year},
        ),
        201,
    )
    _problem(
        _post(gateway, toks[someone], f"/entries/{own['id']}/decisions", {"action": "approve"}),
        403,
        "approver-required",
    )
    _problem(
        _post(gateway, toks[someone], "/claims", {"rule": "case-closed", "period": year}),
        422,
        "validation-error",
    )

    # Rejection with a reason, appeal by the person, appeal upheld.
    rejected = _ok(
        _post(
            gateway,
            admin,
            f"/entries/{own['id']}/decisions",
            {"action": "reject", "reason": "台账不全"},
        )
    )
    assert rejected["state"] == "REJECTED" and rejected["reason"] == "台账不全"
    appealed = _ok(
        _post(
            gateway,
            toks[someone],
            f"/entries/{own['id']}/decisions",
            {"action": "appeal", "reason": "已补充台账"},
        )
    )
    assert appealed["state"] == "APPEALED" and appealed["appealed_from"] == "REJECTED"

    for step in ("SCORING", "PUBLIC_NOTICE", "APPEALS"):
        assert (
            _ok(_post(gateway, admin, f"/periods/{year}/transitions", {"to": step}))["state"]
            == step
        )
    # The approvers' queue shows the pending appeal.
    queue = _ok(
        gateway.get(
            f"{API}/entries", params={"state": "APPEALED", "period": year}, headers=auth(admin)
        )
    )
    assert [e["id"] for e in queue["entries"]] == [own["id"]]
    # A pending appeal blocks finalisation.
    _problem(
        _post(gateway, admin, f"/periods/{year}/transitions", {"to": "FINAL"}),
        409,
        "pending-entries",
    )
    upheld = _ok(
        _post(
            gateway,
            admin,
            f"/entries/{own['id']}/decisions",
            {"action": "uphold_appeal", "reason": "ok"},
        )
    )
    assert upheld["state"] == "APPROVED"
    expected[someone]["daily-duty"] += D("4.75")
    final = _ok(_post(gateway, admin, f"/periods/{year}/transitions", {"to": "FINAL"}))
    assert final["state"] == "FINAL"
    assert [h["to_state"] for h in final["history"]] == [
        "OPEN",
        "SCORING",
        "PUBLIC_NOTICE",
        "APPEALS",
        "FINAL",
    ]

    # Locked: no claims, no decisions, no appeals.
    _problem(
        _post(
            gateway,
            admin,
            "/claims",
            {"person": someone, "rule": "daily-duty", "points": "1", "period": year},
        ),
        409,
        "period-locked",
    )
    _problem(
        _post(
            gateway,
            toks[someone],
            f"/entries/{own['id']}/decisions",
            {"action": "appeal", "reason": "again"},
        ),
        409,
        "period-locked",
    )
    # PAID needs a distribution first.
    _problem(
        _post(gateway, admin, f"/periods/{year}/transitions", {"to": "PAID"}),
        409,
        "no-distribution",
    )

    # The annual target bonus: ¥100,000.01 over the seven, exact to the fen.
    dist = _ok(
        _post(
            gateway,
            admin,
            f"/periods/{year}/distributions",
            {"kind": "annual_bonus", "pool": "100000.01"},
        ),
        201,
    )
    assert dist["pool"] == "100000.01" and dist["total"] == "100000.01"
    lines = {line["person"]: line for line in dist["document"]["lines"]}
    assert set(lines) >= {sub for sub, *_ in staff}
    assert sum(D(line["share"]) for line in lines.values()) == D("100000.01")
    _check_explanations(D("100000.01"), lines, staff, coefficient, expected)
    _problem(
        _post(
            gateway,
            admin,
            f"/periods/{year}/distributions",
            {"kind": "annual_bonus", "pool": "1.00"},
        ),
        409,
        "already-exists",
    )

    # The same distribution as CSV (text/csv) and as JSON again, identical shares.
    as_csv = gateway.get(
        f"{API}/distributions/{dist['id']}", params={"format": "csv"}, headers=auth(admin)
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["person"]: D(r["share"]) for r in rows} == {
        p: D(line["share"]) for p, line in lines.items()
    }
    assert sum(D(r["share"]) for r in rows) == D("100000.01")
    assert "points:daily-duty" in rows[0]
    again = _ok(gateway.get(f"{API}/distributions/{dist['id']}", headers=auth(admin)))
    assert again["document"] == dist["document"]
    other_town = token("bailiu", "township_admin")
    assert (
        gateway.get(f"{API}/distributions/{dist['id']}", headers=auth(other_town)).status_code
        == 404
    )

    # The township transport subsidy, from the same appraisal.
    subsidy = _ok(
        _post(
            gateway,
            admin,
            f"/periods/{year}/distributions",
            {"kind": "transport_subsidy", "pool": "36000.07"},
        ),
        201,
    )
    assert sum(D(line["share"]) for line in subsidy["document"]["lines"]) == D("36000.07")

    paid = _ok(_post(gateway, admin, f"/periods/{year}/transitions", {"to": "PAID"}))
    assert paid["state"] == "PAID"


def _check_explanations(
    pool: D,
    lines: dict[str, dict[str, Any]],
    staff: list[tuple[str, str, str, str]],
    coefficient: dict[str, D],
    expected: dict[str, dict[str, D]],
) -> None:
    """Each line's explanation matches the set-up and the formula, recomputed here."""
    weights: dict[str, Fraction] = {}
    for sub, line in lines.items():  # anyone else holding a post that year: as explained
        weights[sub] = Fraction(D(line["coefficient"])) * Fraction(D(line["total_points"]))
    for sub, _name, _status, post in staff:
        line = lines[sub]
        assert D(line["coefficient"]) == coefficient[post]
        assert {k: D(v) for k, v in line["points_by_rule"].items()} == expected[sub]
        total = sum(expected[sub].values(), D(0))
        assert D(line["total_points"]) == total
        weights[sub] = Fraction(coefficient[post]) * Fraction(total)
        assert Fraction(D(line["weight"])) == weights[sub]
    denominator = sum(w for w in weights.values() if w > 0)
    pool_fen = int(pool * 100)
    exact = {s: pool_fen * w / denominator for s, w in weights.items() if w > 0}
    floors = {s: math.floor(x) for s, x in exact.items()}
    leftover = pool_fen - sum(floors.values())
    order = sorted(exact, key=lambda s: (-(exact[s] - floors[s]), s))
    assert all(weights[sub] > 0 for sub, *_ in staff)
    for sub in weights:
        line = lines[sub]
        if weights[sub] <= 0:  # the documented rule: no positive weight, no share
            assert D(line["share"]) == 0 and not line["included"]
            continue
        assert Fraction(line["fraction"]) == weights[sub] / denominator
        bonus = 1 if sub in order[:leftover] else 0
        assert line["fen_added"] == bonus
        assert D(line["share"]) == D(floors[sub] + bonus) / 100


def _act(gateway: httpx.Client, tok: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return gateway.post(
        path, json=body, headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())}
    )


def _close_a_case(gateway: httpx.Client, token: TokenFactory, a: str, b: str, head: str) -> None:
    """Run a small case of the town's own item from clue to closure (two certified officers)."""
    cert = uuid.uuid4().hex[:6]
    a_tok = token("zhaowan", "officer", sub=a, extra={"certificate": f"61{cert}01"})
    b_tok = token("zhaowan", "officer", sub=b, extra={"certificate": f"61{cert}02"})
    reviewer = token("zhaowan", "legal_reviewer", sub=f"rev-{cert}")
    head_tok = token("zhaowan", "township_admin", sub=head)
    r = _act(
        gateway,
        a_tok,
        "/api/v1/enforcement/cases",
        {
            "item_code": "ZF-XZ-0001",
            "summary": "集镇道路旁违法搭建",
            "party": {"name": "王建国", "kind": "person"},
            "departments": [],
        },
    )
    assert r.status_code == 201, r.text
    path = f"/api/v1/enforcement/cases/{r.json()['id']}/actions"
    sha = "cd" * 32
    for tok, body in (
        (b_tok, {"action": "verify", "note": "现场核实属实"}),
        (a_tok, {"action": "file", "officers": [a, b]}),
        (
            a_tok,
            {
                "action": "investigate",
                "officers": [a, b],
                "evidence": [{"name": "现场检查笔录.pdf", "sha256": sha}],
                "note": "询问当事人",
            },
        ),
        (a_tok, {"action": "submit_review"}),
        (reviewer, {"action": "review", "approve": True, "opinion": "事实清楚"}),
        (a_tok, {"action": "notice", "proposed": "penalty", "fine": "800.00"}),
        (a_tok, {"action": "statement", "waive_hearing": True}),
        (
            head_tok,
            {
                "action": "decide",
                "kind": "penalty",
                "fine": "800.00",
                "band": "general",
                "other_penalties": [],
                "reasoning": "违反第三十九条",
            },
        ),
        (a_tok, {"action": "serve", "method": "direct"}),
        (a_tok, {"action": "publish"}),
        (a_tok, {"action": "pay", "amount": "800.00"}),
        (a_tok, {"action": "close"}),
    ):
        step = _act(gateway, tok, path, body)
        assert step.status_code == 200, (body["action"], step.text)
    assert step.json()["state"] == "CLOSED"
