"""The newborn bundle (一件事一次办) from intake to issued, through the gateway only."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually, newborn_body
from tests.e2e.permits_support import (
    act,
    approver,
    china_date,
    get_app,
    headers,
    metric,
    ok,
)
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_newborn_bundle_to_issued_with_correction_pausing_the_clock_and_a_rating(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    """Received Monday 2026-06-01; correction requested that day, materials back Thursday
    2026-06-04: the household-registration part's statutory 5 working days (due Monday
    06-08 without the pause) skip the 3 paused working days 06-02..06-04 and fall due
    Thursday 06-11. Both parts then go through acceptance, review by their own county
    department, approval and issue; the public status becomes "completed" and the
    applicant rates the service."""
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    police = approver(token, "public-security")
    insurance = approver(token, "medical-insurance")
    with china_date(system, dt.date(2026, 6, 1)) as move:
        r = gateway.post("/api/v1/applications", json=newborn_body(), headers=headers(tok))
        assert r.status_code == 201, r.text
        receipt = r.json()["receipt_code"]
        parts = {a["department"]: a["id"] for a in r.json()["applications"]}
        hukou, medical = parts["public-security"], parts["medical-insurance"]

        before = get_app(gateway, tok, hukou)
        assert before["deadlines"]["received_on"] == "2026-06-01"
        assert before["deadlines"]["statutory_due_date"] == "2026-06-08"
        assert before["deadlines"]["correction_deadline"] == "2026-06-08"
        assert "request_correction" in before["allowed_actions"]

        unknown = act(
            gateway,
            tok,
            hukou,
            "request-correction",
            {"reason": "缺材料", "missing_materials": ["no-such-material"]},
        )
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "missing_materials"
        paused = ok(
            act(
                gateway,
                tok,
                hukou,
                "request-correction",
                {"reason": "出生医学证明缺页", "missing_materials": ["birth-medical-certificate"]},
            )
        )
        assert paused["state"] == "CORRECTION_REQUESTED"
        assert paused["deadlines"]["clock_paused"] is True
        assert paused["deadlines"]["statutory_due_date"] == ""
        assert paused["missing_materials"] == ["birth-medical-certificate"]
        public = ok(gateway.get(f"/public/v1/applications/{receipt}"))
        assert public["status"] == "correction_requested"

        move(dt.date(2026, 6, 4))
        back = ok(
            act(
                gateway,
                tok,
                hukou,
                "resubmit",
                {"materials": [{"code": "birth-medical-certificate", "name": "出生医学证明"}]},
            )
        )
        assert back["state"] == "SUBMITTED"
        assert back["deadlines"]["clock_paused"] is False
        assert back["deadlines"]["statutory_due_date"] == "2026-06-11"

        for app_id, dept_token in ((hukou, police), (medical, insurance)):
            assert ok(act(gateway, tok, app_id, "accept"))["state"] == "ACCEPTED"
            # the other department's approver does not even see it
            other = insurance if dept_token is police else police
            assert act(gateway, other, app_id, "start-review").status_code == 404
            assert ok(act(gateway, dept_token, app_id, "start-review"))["state"] == "IN_REVIEW"
            assert ok(act(gateway, dept_token, app_id, "approve"))["state"] == "APPROVED"
            assert ok(act(gateway, tok, app_id, "issue"))["state"] == "ISSUED"

        done = get_app(gateway, tok, hukou)
        assert [h["action"] for h in done["history"]] == [
            "submit",
            "request_correction",
            "resubmit",
            "accept",
            "start_review",
            "approve",
            "issue",
        ]
        assert [(h["from_state"], h["to_state"]) for h in done["history"]][1:3] == [
            ("SUBMITTED", "CORRECTION_REQUESTED"),
            ("CORRECTION_REQUESTED", "SUBMITTED"),
        ]
        assert done["history"][4]["actor"] != clerk  # the department's approver reviewed
        assert done["deadlines"]["decided_on"] == "2026-06-04"
        assert done["deadlines"]["working_days_used"] == 0  # everything paused but 06-01

        public = ok(gateway.get(f"/public/v1/applications/{receipt}"))
        assert public["status"] == "completed"
        assert {p["state"] for p in public["parts"]} == {"ISSUED"}

        rating = gateway.post(
            "/public/v1/ratings",
            json={"receipt_code": receipt, "level": 5, "comment": "很快"},
        )
        assert rating.status_code == 201, rating.text
        assert rating.json()["rectification_opened"] is False
        assert clerk not in rating.text
        assert ok(gateway.get(f"/public/v1/applications/{receipt}"))["rated"] is True
        again = gateway.post("/public/v1/ratings", json={"receipt_code": receipt, "level": 4})
        assert again.status_code == 409

        closed = ok(act(gateway, tok, hukou, "close"))
        assert closed["state"] == "CLOSED"
        ratings = ok(
            gateway.get("/api/v1/ratings", params={"responsible": clerk}, headers=auth(tok))
        )["ratings"]
        assert [(x["level"], x["receipt_code"]) for x in ratings] == [(5, receipt)]
        assert sorted(ratings[0]["departments"]) == ["medical-insurance", "public-security"]

    # every step was published as an event (the relay counts what reached JetStream)
    verbs = [
        "application.submitted",
        "application.correction_requested",
        "application.resubmitted",
        "application.accepted",
        "application.review_started",
        "application.decided",
        "application.issued",
        "application.closed",
        "rating.submitted",
    ]
    eventually(
        lambda: all(
            metric(system, "township_permits_events_published_total", type=f"permits.{v}.v1") >= 1
            for v in verbs
        ),
        timeout=20,
    )
