"""Pure rules of the case procedure: entrustment, officers, bands, hearing, surcharge, clocks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from township_enforcement.domain import cases as rules
from township_enforcement.domain import transfers
from township_enforcement.domain.deadlines import CaseClocks, case_limits
from township_platform.calendar import CalendarYearUnknown, WorkCalendar, load_calendar
from township_platform.errors import Conflict, InvalidArgument, PermissionDenied

TODAY = dt.date(2026, 11, 27)
ENTRUSTED = rules.ItemFacts("ZF-ZR-0001", "非法占地", "entrusted", "natural-resources")
VALID = rules.EntrustmentFacts("旬政发〔2023〕12号", dt.date(2023, 9, 1), dt.date(2028, 8, 31))
LAPSED = rules.EntrustmentFacts("旬政办函〔2023〕21号", dt.date(2023, 3, 15), dt.date(2023, 8, 31))
BANDS = [
    rules.Band("minor", Decimal("0"), Decimal("600"), ("order_stop",)),
    rules.Band("general", Decimal("601"), Decimal("1400"), ("order_stop",)),
    rules.Band("serious", Decimal("1401"), Decimal("2000"), ("order_stop",)),
]


def test_entrusted_item_valid_today_is_actionable() -> None:
    assert rules.check_item_actionable("ZF-ZR-0001", ENTRUSTED, [LAPSED, VALID], [], TODAY) == VALID


def test_lapsed_entrustment_is_refused_naming_item_and_date() -> None:
    with pytest.raises(InvalidArgument) as e:
        rules.check_item_actionable("ZF-ZR-0001", ENTRUSTED, [LAPSED], [], TODAY)
    assert e.value.type == "entrustment-expired"
    assert "ZF-ZR-0001" in e.value.message and "2023-08-31" in e.value.message
    assert e.value.field == "item_code"


def test_entrustment_not_yet_valid_is_refused() -> None:
    future = rules.EntrustmentFacts("x", dt.date(2027, 1, 1), dt.date(2028, 1, 1))
    with pytest.raises(InvalidArgument, match="valid only from 2027-01-01"):
        rules.check_item_actionable("ZF-ZR-0001", ENTRUSTED, [future], [], TODAY)


def test_never_entrusted_and_unknown_items_are_refused() -> None:
    with pytest.raises(InvalidArgument) as e:
        rules.check_item_actionable("ZF-ZR-0001", ENTRUSTED, [], [], TODAY)
    assert e.value.type == "item-not-entrusted"
    with pytest.raises(InvalidArgument) as u:
        rules.check_item_actionable("ZF-XX-9999", None, [], [], TODAY)
    assert u.value.type == "unknown-item"


def test_statutory_items_need_no_entrustment_market_items_need_the_office() -> None:
    own = rules.ItemFacts("ZF-XZ-0001", "x", "statutory_township", "township")
    assert rules.check_item_actionable("ZF-XZ-0001", own, [], [], TODAY) is None
    market = rules.ItemFacts("ZF-SC-0001", "x", "market_supervision", "market-supervision")
    with pytest.raises(InvalidArgument) as e:
        rules.check_item_actionable("ZF-SC-0001", market, [], [], TODAY)
    assert e.value.type == "market-supervision-required"
    assert (
        rules.check_item_actionable("ZF-SC-0001", market, [], ["market-supervision"], TODAY) is None
    )


def test_two_distinct_certified_officers_not_recused() -> None:
    known = {"a": "1", "b": "2"}
    assert rules.check_officers(["a", "b", "a"], known, [], "a") == ["a", "b"]
    with pytest.raises(InvalidArgument, match="two"):
        rules.check_officers(["a", "a"], known, [], None)
    with pytest.raises(InvalidArgument) as e:
        rules.check_officers(["a", "c"], known, [], None)
    assert e.value.type == "officer-not-certified"
    with pytest.raises(InvalidArgument) as r:
        rules.check_officers(["a", "b"], known, ["b"], None)
    assert r.value.type == "recused"
    with pytest.raises(InvalidArgument, match="must be one of"):
        rules.check_officers(["a", "b"], known, [], "z")


def test_fine_within_band() -> None:
    assert rules.check_fine_in_band(BANDS, "", Decimal("800")).level == "general"
    assert rules.check_fine_in_band(BANDS, "minor", Decimal("600")).level == "minor"
    with pytest.raises(InvalidArgument) as e:
        rules.check_fine_in_band(BANDS, "", Decimal("2000.01"))
    assert e.value.type == "outside-discretion-band"
    with pytest.raises(InvalidArgument):
        rules.check_fine_in_band(BANDS, "serious", Decimal("800"))
    with pytest.raises(InvalidArgument, match="no 'x'"):
        rules.check_fine_in_band(BANDS, "x", Decimal("800"))
    with pytest.raises(InvalidArgument):
        rules.check_other_penalties(BANDS[0], ["revoke_licence"])


@pytest.mark.parametrize("value", ["abc", "-1", "1.001", "NaN"])
def test_money_is_validated(value: str) -> None:
    with pytest.raises(InvalidArgument):
        rules.parse_money(value, "fine")


def test_transitions_and_transferred_cases() -> None:
    assert rules.check_transition("file", rules.VERIFYING) == rules.FILED
    with pytest.raises(Conflict):
        rules.check_transition("decide", rules.INVESTIGATING)
    with pytest.raises(Conflict) as e:
        rules.check_transition("decide", rules.TRANSFERRED)
    assert e.value.type == "case-transferred"
    with pytest.raises(Conflict):
        rules.check_transition("pay", rules.TRANSFERRED)


def test_actor_roles_certificate_and_recusal() -> None:
    rules.check_actor("investigate", ("officer",), "61001", "a", [])
    with pytest.raises(PermissionDenied):
        rules.check_actor("investigate", ("officer",), None, "a", [])
    with pytest.raises(PermissionDenied):
        rules.check_actor("decide", ("officer",), "61001", "a", [])
    with pytest.raises(PermissionDenied) as e:
        rules.check_actor("verify", ("officer",), "61001", "a", ["a"])
    assert e.value.type == "recused"


def test_hearing_window_blocks_an_early_decision() -> None:
    cal = WorkCalendar()
    notice = dt.date(2026, 11, 20)  # a Friday: 5 working days run to Friday 27 November
    with pytest.raises(Conflict, match="2026-11-27"):
        rules.check_may_decide(rules.NOTICE_GIVEN, notice, False, dt.date(2026, 11, 27), cal)
    rules.check_may_decide(rules.NOTICE_GIVEN, notice, False, dt.date(2026, 11, 28), cal)
    rules.check_may_decide(rules.NOTICE_GIVEN, notice, True, notice, cal)
    # 第八十五条: the five days are working days; over National Day they stretch far
    assert rules.hearing_window_ends(dt.date(2026, 9, 30), cal) > dt.date(2026, 10, 10)


def _schedule(**overrides: object) -> rules.HearingSchedule:
    args: dict[str, object] = {
        "hearing_on": "2026-12-09",
        "place": "镇政府二楼会议室",
        "presiding": "host-1",
        "public": True,
        "closed_reason": "",
        "investigators": ["off-a", "off-b"],
        "recused": ["off-c"],
        "today": TODAY,
        "calendar": WorkCalendar(),
    }
    args.update(overrides)
    return rules.schedule_hearing(**args)  # type: ignore[arg-type]


def test_a_hearing_is_told_seven_working_days_ahead() -> None:
    cal = WorkCalendar()
    # notified Friday 27 November 2026: seven working days run to Tuesday 8 December
    assert rules.earliest_hearing_day(TODAY, cal) == dt.date(2026, 12, 8)
    assert _schedule(hearing_on="2026-12-08").hearing_on == dt.date(2026, 12, 8)
    with pytest.raises(InvalidArgument) as e:
        _schedule(hearing_on="2026-12-07")
    assert e.value.field == "hearing_on" and e.value.rule == "7 working days' notice"
    assert "2026-12-08" in e.value.message
    # over National Day the seven working days stretch well past a fortnight
    assert rules.earliest_hearing_day(dt.date(2026, 9, 30), cal) > dt.date(2026, 10, 14)
    with pytest.raises(InvalidArgument) as e:
        _schedule(hearing_on="8 December")
    assert e.value.rule == "date"


def test_the_presiding_officer_did_not_investigate_the_case() -> None:
    for who, rule in (("off-a", "not an investigator of the case"), ("off-c", "not recused")):
        with pytest.raises(InvalidArgument) as e:
            _schedule(presiding=who)
        assert e.value.field == "presiding_officer" and e.value.rule == rule
    with pytest.raises(InvalidArgument) as e:
        _schedule(presiding=" ")
    assert e.value.rule == "required"
    with pytest.raises(InvalidArgument) as e:
        _schedule(place="  ")
    assert e.value.field == "place"


def test_a_hearing_is_public_unless_a_secret_or_privacy_is_at_stake() -> None:
    assert _schedule().public
    closed = _schedule(public=False, closed_reason="privacy")
    assert closed.as_json()["closed_reason"] == "privacy"
    assert closed.notified_on == TODAY
    for public, reason in ((False, ""), (False, "too busy"), (True, "privacy")):
        with pytest.raises(InvalidArgument) as e:
            _schedule(public=public, closed_reason=reason)
        assert e.value.field == "closed_reason"


def test_a_scheduled_hearing_day_reminds_then_breaches_if_nothing_is_recorded() -> None:
    cal = WorkCalendar()
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    day = dt.date(2026, 12, 8)  # a Tuesday
    waiting = CaseClocks(rules.HEARING_REQUESTED, dt.date(2026, 11, 2), hearing_on=day)

    def hearing(today: dt.date) -> list[tuple[bool, bool]]:
        return [
            (lim.breached, lim.warning)
            for lim in case_limits(waiting, cal, today, now)
            if lim.kind == "hearing_day" and lim.due == day.isoformat()
        ]

    assert hearing(dt.date(2026, 12, 3)) == [(False, False)]
    assert hearing(dt.date(2026, 12, 4)) == [(False, True)]  # two working days ahead
    assert hearing(day) == [(False, True)]
    assert hearing(dt.date(2026, 12, 9)) == [(True, False)]
    # held (state HEARING) or not scheduled: no such limit
    held = CaseClocks(rules.HEARING, dt.date(2026, 11, 2), hearing_on=day)
    unscheduled = CaseClocks(rules.HEARING_REQUESTED, dt.date(2026, 11, 2))
    for clocks in (held, unscheduled):
        kinds = {lim.kind for lim in case_limits(clocks, cal, dt.date(2026, 12, 9), now)}
        assert "hearing_day" not in kinds


def test_a_hearing_is_recorded_only_once_scheduled_and_on_or_after_its_day() -> None:
    day = dt.date(2026, 12, 8)
    with pytest.raises(Conflict) as c:
        rules.check_hearing_held(None, day, day)
    assert c.value.type == "hearing-not-scheduled"
    with pytest.raises(InvalidArgument) as e:
        rules.check_hearing_held(day, day - dt.timedelta(days=1), day)
    assert e.value.rule == "not before the notified day"
    with pytest.raises(InvalidArgument) as e:
        rules.check_hearing_held(day, day + dt.timedelta(days=1), day)
    assert e.value.rule == "not in the future"
    rules.check_hearing_held(day, day, day + dt.timedelta(days=3))


def test_the_decision_limit_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    cal = WorkCalendar()
    # filed 3 July 2026: 90 days run to Thursday 1 October, National Day (1-7 October off)
    assert rules.decision_due(dt.date(2026, 7, 3), (), cal) == dt.date(2026, 10, 8)
    # a last day that is a working day stays where it is
    assert rules.decision_due(dt.date(2026, 8, 1), (), cal) == dt.date(2026, 10, 30)
    # a year the calendar does not know (2027 without configuration): the 90th day itself,
    # never an error on reading a case
    assert rules.decision_due(dt.date(2026, 11, 28), (), cal) == dt.date(2027, 2, 26)


def test_late_surcharge_is_three_percent_a_day_capped_at_the_fine() -> None:
    served = dt.date(2026, 1, 1)
    assert rules.late_surcharge(Decimal("1000"), served, dt.date(2026, 1, 16)) == 0
    assert rules.late_surcharge(Decimal("1000"), served, dt.date(2026, 1, 18)) == Decimal("60.00")
    assert rules.late_surcharge(Decimal("1000"), served, dt.date(2026, 6, 1)) == Decimal("1000")


def test_close_needs_payment_or_an_accepted_transfer() -> None:
    zero = Decimal("0")
    with pytest.raises(Conflict):
        rules.check_can_close(rules.EXECUTING, "penalty", Decimal("800"), zero, zero, "")
    assert rules.check_can_close(rules.SERVED, "no_penalty", zero, zero, zero, "") == "no_penalty"
    with pytest.raises(Conflict):
        rules.check_can_close(rules.TRANSFERRED, "", zero, zero, zero, "declined")
    assert (
        rules.check_can_close(rules.TRANSFERRED, "", zero, zero, zero, "accepted") == "transferred"
    )


def test_transfer_steps_roles_and_clocks() -> None:
    assert transfers.next_stage("propose", "", ("officer",), False) == "proposed"
    with pytest.raises(PermissionDenied):
        transfers.next_stage("head_decide", "proposed", ("officer",), True)
    assert transfers.next_stage("head_decide", "proposed", ("township_admin",), False) == ""
    assert transfers.next_stage("police_decide", "received", ("officer",), False) == "declined"
    with pytest.raises(Conflict):
        transfers.next_stage("send", "proposed", ("officer",), True)
    start = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    assert transfers.due("head_approved", start) == (
        "transfer_sending",
        start + dt.timedelta(hours=24),
    )


def test_case_limits_decision_service_publication() -> None:
    cal = WorkCalendar()
    filed = dt.date(2026, 8, 1)
    now = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    limits = case_limits(CaseClocks(rules.INVESTIGATING, filed), cal, dt.date(2026, 10, 30), now)
    assert limits[0].kind == "decision_90_days" and limits[0].due == "2026-10-30"
    assert not limits[0].breached
    late = case_limits(CaseClocks(rules.INVESTIGATING, filed), cal, dt.date(2026, 10, 31), now)
    assert late[0].breached
    extended = case_limits(CaseClocks(rules.INVESTIGATING, filed, (30,)), cal, TODAY, now)
    # 120 days run to Sunday 29 November: the period ends on the next working day
    assert extended[0].due == "2026-11-30" and not extended[0].breached
    decided = CaseClocks(
        rules.DECIDED, filed, decision_kind="penalty", decided_on=dt.date(2026, 9, 30)
    )
    kinds = {lim.kind: lim for lim in case_limits(decided, cal, dt.date(2026, 10, 8), now)}
    # 7 working days after 30 September 2026 skip the National Day holiday (1–7 October):
    # service (第六十一条) and publication (第四十八条) alike, by 第八十五条
    assert not kinds["service_7_days"].breached
    assert kinds["service_7_days"].due == kinds["publication_7_working_days"].due > "2026-10-08"
    due = dt.date.fromisoformat(kinds["service_7_days"].due)
    later = {lim.kind: lim for lim in case_limits(decided, cal, due + dt.timedelta(days=1), now)}
    assert later["service_7_days"].breached


def test_limits_count_on_the_shared_calendar_into_next_year() -> None:
    """Enforcement counts on the same calendar as permits, packaged 2027 included: a limit
    that runs into January must not fail because chinese_calendar stops at 2026."""
    cal, provisional = load_calendar(None)
    assert 2027 in provisional
    # 7 working days after 28 December 2026: 29, 30, 31 December, then 1 January is New
    # Year's Day, so 4, 5, 6 and 7 January 2027.
    assert cal.add_working_days(dt.date(2026, 12, 28), 7) == dt.date(2027, 1, 7)
    decided = CaseClocks(
        rules.DECIDED,
        dt.date(2026, 11, 2),
        decision_kind="penalty",
        decided_on=dt.date(2026, 12, 28),
    )
    now = dt.datetime(2026, 12, 28, tzinfo=dt.UTC)
    kinds = {lim.kind: lim for lim in case_limits(decided, cal, dt.date(2026, 12, 28), now)}
    assert kinds["publication_7_working_days"].due == "2027-01-07"
    with pytest.raises(CalendarYearUnknown):
        cal.is_working_day(dt.date(2031, 3, 3))  # a year nobody knows: no guess
    assert load_calendar(None, weekends_only_fallback=True)[0].is_working_day(dt.date(2031, 3, 3))


def test_limits_warn_before_they_are_due() -> None:
    cal = WorkCalendar()
    filed = dt.date(2026, 8, 1)  # due 2026-10-30
    now = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    early = case_limits(CaseClocks(rules.INVESTIGATING, filed), cal, dt.date(2026, 10, 19), now)
    assert not early[0].warning
    near = case_limits(CaseClocks(rules.INVESTIGATING, filed), cal, dt.date(2026, 10, 20), now)
    assert near[0].warning and not near[0].breached
    late = case_limits(CaseClocks(rules.INVESTIGATING, filed), cal, dt.date(2026, 10, 31), now)
    assert late[0].breached and not late[0].warning
    start = dt.datetime(2026, 11, 27, 0, tzinfo=dt.UTC)
    proposed = CaseClocks(rules.TRANSFERRED, filed, transfer_stage="proposed", transfer_since=start)
    (fresh,) = case_limits(proposed, cal, TODAY, start + dt.timedelta(hours=1))
    assert fresh.kind == "transfer_head_decision" and not fresh.warning
    (close,) = case_limits(proposed, cal, TODAY, start + dt.timedelta(hours=50))
    assert close.warning and not close.breached
