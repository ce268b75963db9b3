"""The points ledger's decisions and caps, the period state machine, org-unit rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from township_personnel.domain import auto_points, ledger, org, periods
from township_platform.errors import Conflict, InvalidArgument, PermissionDenied

D = Decimal


def _decide(state: str, action: str, **kw: object) -> ledger.Decision:
    args: dict[str, object] = {
        "state": state,
        "appealed_from": "",
        "action": action,
        "reason": "because",
        "actor": "admin",
        "person": "p1",
        "claimed_by": "p1",
        "actor_is_approver": True,
    }
    args.update(kw)
    return ledger.decide(**args)  # type: ignore[arg-type]


def test_a_claim_is_approved_or_rejected_with_a_reason_by_its_approver() -> None:
    assert _decide("CLAIMED", "approve").state == "APPROVED"
    assert _decide("CLAIMED", "reject").state == "REJECTED"
    with pytest.raises(InvalidArgument) as e:
        _decide("CLAIMED", "reject", reason=" ")
    assert e.value.field == "reason"
    with pytest.raises(PermissionDenied):
        _decide("CLAIMED", "approve", actor_is_approver=False)
    with pytest.raises(PermissionDenied):
        _decide("CLAIMED", "approve", actor="p1")  # one's own claim
    with pytest.raises(Conflict):
        _decide("APPROVED", "approve")


def test_appeals_by_the_person_and_their_outcomes() -> None:
    appealed = _decide("REJECTED", "appeal", actor="p1", actor_is_approver=False)
    assert (appealed.state, appealed.appealed_from) == ("APPEALED", "REJECTED")
    with pytest.raises(PermissionDenied):
        _decide("REJECTED", "appeal", actor="p2", actor_is_approver=False)
    upheld = _decide("APPEALED", "uphold_appeal", appealed_from="REJECTED")
    assert upheld.state == "APPROVED"
    struck = _decide("APPEALED", "uphold_appeal", appealed_from="AUTO")
    assert struck.state == "REJECTED"
    denied = _decide("APPEALED", "deny_appeal", appealed_from="AUTO")
    assert denied.state == "AUTO"
    with pytest.raises(InvalidArgument):
        _decide("CLAIMED", "explode")


def test_what_counts() -> None:
    assert ledger.counts("AUTO") and ledger.counts("APPROVED")
    assert not ledger.counts("CLAIMED") and not ledger.counts("REJECTED")
    assert not ledger.counts("LATE")
    assert ledger.counts("APPEALED", "AUTO") and not ledger.counts("APPEALED", "REJECTED")


def test_caps_per_period() -> None:
    ledger.check_cap(D("40"), D("38"), D("2"), "liaison-work")
    with pytest.raises(InvalidArgument) as e:
        ledger.check_cap(D("40"), D("38"), D("2.01"), "liaison-work")
    assert e.value.type == "points-cap-exceeded"
    with pytest.raises(InvalidArgument):
        ledger.check_cap(D("-20"), D("-20"), D("-5"), "discipline")
    ledger.check_cap(None, D("1000"), D("5"), "free")
    assert ledger.capped_points(D("300"), D("299.5"), D("0.5")) == D("0.5")
    assert ledger.capped_points(D("300"), D("300"), D("0.5")) == D("0")
    assert ledger.capped_points(D("10"), D("9"), D("5")) == D("1")
    assert ledger.capped_points(None, D("9"), D("5")) == D("5")


def test_points_parsing() -> None:
    assert ledger.parse_points("12.25") == D("12.25")
    for bad in ("1.234", "abc", "NaN", "1e9", "7381.63"):
        with pytest.raises(InvalidArgument) as e:
            ledger.parse_points(bad)
        # field and rule travel in gRPC metadata, which only carries ASCII
        assert (e.value.field or "").isascii() and (e.value.rule or "").isascii()


def test_period_moves_one_step_at_a_time_and_locks_when_final() -> None:
    state = "OPEN"
    for nxt in ("SCORING", "PUBLIC_NOTICE", "APPEALS", "FINAL", "PAID"):
        state = periods.advance(state, nxt)
    assert state == "PAID"
    with pytest.raises(Conflict):
        periods.advance("OPEN", "FINAL")
    with pytest.raises(InvalidArgument):
        periods.advance("OPEN", "DONE")
    with pytest.raises(Conflict) as e:
        periods.ensure_unlocked("FINAL", 2026)
    assert e.value.type == "period-locked"
    periods.ensure_unlocked("APPEALS", 2026)
    periods.ensure_unlocked(None, 2026)
    with pytest.raises(Conflict):
        periods.ensure_claims_open("PUBLIC_NOTICE", 2026)
    periods.ensure_claims_open("SCORING", 2026)


def test_body_cap_status_and_coefficients() -> None:
    org.check_body_cap(9, 10)
    with pytest.raises(Conflict) as e:
        org.check_body_cap(10, 10)
    assert e.value.type == "org-unit-cap-reached"
    assert org.normalise_status("public_institution") == "public-institution"
    with pytest.raises(InvalidArgument):
        org.normalise_status("volunteer")
    assert org.effective_coefficient(D("1.05"), D("1.20")) == D("1.2600")
    with pytest.raises(InvalidArgument):
        org.parse_factor("0", "coefficient")
    assert org.parse_factor("", "workload_factor", default="1.00") == D("1.00")


def test_automatic_rules_pick_the_right_people() -> None:
    assert auto_points.closed_entries(
        intake_by="c1", closed_by="a1", within_promised_limit=True, outcome="issued"
    ) == [auto_points.AutoEntry("c1", "on-time-completion")]
    assert not auto_points.closed_entries(
        intake_by="c1", closed_by="a1", within_promised_limit=False, outcome="issued"
    )
    assert auto_points.rating_entries(level=2, responsible="c1") == [
        auto_points.AutoEntry("c1", "bad-rating")
    ]
    assert not auto_points.rating_entries(level=3, responsible="c1")
    assert [a.person for a in auto_points.case_closed_entries(officers=["o1", "o2", "o1", ""])] == [
        "o1",
        "o2",
    ]
    codes = {r.code for r in auto_points.DEFAULT_RULES}
    assert {"on-time-completion", "bad-rating", "rectification-overdue", "case-closed"} <= codes
