"""Time limits on real working days: holidays, 调休 make-up workdays, pauses, extensions,
deemed acceptance, overdue lists and breach events (time moved with ``shift_clock``)."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually
from tests.e2e.permits_support import (
    act,
    approver,
    china_date,
    get_app,
    intake,
    metric,
    ok,
    walk,
)
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

PUBLISHED = "township_permits_events_published_total"
LICENCE = "XK-00601-001"  # agriculture-rural licensing: statutory 20, promised 15, +10 extension


def test_accepted_on_the_friday_before_spring_festival_skips_it_and_counts_the_makeup_saturdays(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    """Accepted on Friday 2026-02-13, the last working day before the Spring Festival.

    chinese_calendar 1.11 (the official 2026 schedule): Saturday 02-14 is a make-up workday
    (调休上班), 02-15..02-23 are the holiday, Saturday 02-28 is another make-up workday.
    20 working days from 02-13: 02-14 (1), 02-24..02-27 (2-5), 02-28 (6), 03-02..03-06
    (7-11), 03-09..03-13 (12-16), 03-16..03-19 (17-20) → statutory due Thursday 2026-03-19;
    the promised 15 working days end Thursday 2026-03-12. Counting weekdays only would have
    given 03-13 (skipping the holiday but not the make-up days) — wrong by a day.
    """
    clerk = token("zhaowan", "clerk")
    with china_date(system, dt.date(2026, 2, 13)):
        app_id = intake(gateway, clerk, item=LICENCE)["applications"][0]["id"]
        accepted = ok(act(gateway, clerk, app_id, "accept"))
    d = accepted["deadlines"]
    assert d["received_on"] == "2026-02-13"
    assert d["statutory_limit"] == {"amount": 20, "unit": "working"}
    assert d["statutory_due_date"] == "2026-03-19"
    assert d["promised_due_date"] == "2026-03-12"
    assert d["remaining_working_days"] == 15
    assert d["statutory_remaining_working_days"] == 20


def test_suspension_pauses_and_an_extension_needs_the_competent_approver_and_a_reason(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    """Received and accepted Monday 2026-06-01 (statutory due 06-30: 20 working days, the
    Dragon Boat Festival on Friday 06-19 skipped). Suspended 06-02, resumed Friday 06-05:
    3 working days paused (06-03..06-05) move it to 07-03. A +10 extension by the approver,
    with a reason, moves it 10 working days to 07-17."""
    clerk = token("zhaowan", "clerk")
    agri = approver(token, "agriculture-rural")
    with china_date(system, dt.date(2026, 6, 1)) as move:
        app_id = intake(gateway, clerk, item=LICENCE)["applications"][0]["id"]
        ok(act(gateway, clerk, app_id, "accept"))
        assert get_app(gateway, clerk, app_id)["deadlines"]["statutory_due_date"] == "2026-06-30"
        ok(act(gateway, agri, app_id, "start-review"))
        move(dt.date(2026, 6, 2))
        assert act(gateway, agri, app_id, "suspend", {}).status_code == 422  # needs a reason
        suspended = ok(act(gateway, agri, app_id, "suspend", {"reason": "等待现场勘验"}))
        assert suspended["deadlines"]["clock_paused"] is True
        move(dt.date(2026, 6, 5))
        resumed = ok(act(gateway, agri, app_id, "resume"))
        assert resumed["deadlines"]["statutory_due_date"] == "2026-07-03"

        url = f"/api/v1/applications/{app_id}/extend"
        body = {"days": 10, "reason": "需专家评审"}
        assert gateway.post(url, json=body, headers=auth(clerk)).status_code == 403
        other = approver(token, "forestry")
        assert gateway.post(url, json=body, headers=auth(other)).status_code == 404
        no_reason = gateway.post(url, json={"days": 10}, headers=auth(agri))
        assert no_reason.status_code == 422
        assert no_reason.json()["errors"][0]["field"] == "reason"
        extended = ok(gateway.post(url, json=body, headers=auth(agri)))
        assert extended["deadlines"]["statutory_due_date"] == "2026-07-17"
        assert extended["deadlines"]["extension_days"] == 10
        assert extended["history"][-1]["action"] == "extend"
        again = gateway.post(url, json={"days": 1, "reason": "再延"}, headers=auth(agri))
        assert again.status_code == 422
        assert again.json()["errors"][0]["field"] == "days"
        assert get_app(gateway, agri, app_id)["deadlines"]["extension_days"] == 10


def test_without_a_correction_request_in_5_working_days_the_application_counts_as_accepted(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    """Received Monday 2026-06-01: the correction window ends Monday 06-08 (5 working days).
    On Tuesday 06-09 the deadline scan accepts it as the system (视为受理), and a late
    correction request is refused."""
    clerk = token("zhaowan", "clerk")
    with china_date(system, dt.date(2026, 6, 1)) as move:
        app_id = intake(gateway, clerk, item=LICENCE)["applications"][0]["id"]
        move(dt.date(2026, 6, 8))
        assert get_app(gateway, clerk, app_id)["state"] == "SUBMITTED"
        move(dt.date(2026, 6, 9))
        accepted = eventually(
            lambda: (a := get_app(gateway, clerk, app_id))["state"] == "ACCEPTED" and a,
            timeout=30,
        )
        last = accepted["history"][-1]
        assert (last["action"], last["actor"]) == ("accept", "system")
        assert accepted["deadlines"]["received_on"] == "2026-06-01"
        late = act(
            gateway,
            clerk,
            app_id,
            "request-correction",
            {"reason": "缺材料", "missing_materials": ["id-card"]},
        )
        assert late.status_code == 409


def test_overdue_applications_are_listed_and_a_breach_is_counted_once(
    system: LocalStack, gateway: httpx.Client, token: TokenFactory
) -> None:
    """XK-00802-001 promises 2 working days: received Monday 2026-06-01, due Wednesday 06-03,
    so the scan warns at once; on Friday 06-05 it is 2 working days late, listed as overdue,
    and the breach counter of Bailiu goes up (once per limit, however often the scan runs)."""
    clerk_sub = f"clerk-bl-{uuid.uuid4().hex[:6]}"
    clerk = token("bailiu", "clerk", sub=clerk_sub)
    warned = metric(system, PUBLISHED, type="permits.deadline.warning.v1")
    with china_date(system, dt.date(2026, 6, 1)) as move:
        app_id = intake(gateway, clerk, item="XK-00802-001")["applications"][0]["id"]
        ok(act(gateway, clerk, app_id, "accept"))
        on_time = intake(gateway, clerk, item="XK-00802-001")["applications"][0]["id"]
        breaches = metric(system, "township_permits_deadline_breaches_total", township="bailiu")
        # 2 working days left on the day it is received: the scan warns first
        eventually(
            lambda: metric(system, PUBLISHED, type="permits.deadline.warning.v1") > warned,
            timeout=30,
        )
        move(dt.date(2026, 6, 5))
        late = get_app(gateway, clerk, app_id)
        assert late["deadlines"]["promised_due_date"] == "2026-06-03"
        assert late["deadlines"]["overdue"] is True
        assert late["deadlines"]["remaining_working_days"] == -2
        ok(act(gateway, clerk, on_time, "not-accept", {"reason": "不属于受理范围"}))
        listed = walk(
            gateway,
            clerk,
            "/api/v1/applications",
            {"overdue": "true", "intake_by": clerk_sub, "page_size": 1},
            "applications",
        )
        assert [a["id"] for a in listed] == [app_id]
        eventually(
            lambda: (
                metric(system, "township_permits_deadline_breaches_total", township="bailiu")
                >= breaches + 1
            ),
            timeout=30,
        )
        assert metric(system, "township_permits_applications_overdue", township="bailiu") >= 1
        counted = metric(system, "township_permits_deadline_breaches_total", township="bailiu")
        time.sleep(6)  # another scan runs: no second breach for the same limit
        again = metric(system, "township_permits_deadline_breaches_total", township="bailiu")
        assert again == counted
