"""An application's deadlines: clock from receipt, pauses, extensions, on-the-spot limits."""

from __future__ import annotations

import datetime as dt

import pytest

from township_permits.domain.deadlines import (
    ApplicationClock,
    LimitKind,
    LimitSpec,
    close_pause,
    deadline_events_due,
    deemed_accepted,
    open_pause,
    pauses_from_json,
    pauses_to_json,
)
from township_platform.calendar import ScheduleSource, WorkCalendar, load_calendar

D = dt.date
CAL = WorkCalendar()
LICENCE = (LimitSpec(15, "working"), LimitSpec(20, "working"))


def clock(**kw: object) -> ApplicationClock:
    base: dict[str, object] = {
        "received_on": D(2026, 2, 13),
        "promised": LICENCE[0],
        "statutory": LICENCE[1],
        "state": "ACCEPTED",
    }
    base.update(kw)
    return ApplicationClock(**base)  # type: ignore[arg-type]


def test_friday_before_spring_festival_counts_both_makeup_saturdays() -> None:
    """2026-02-13 (Fri): 02-14 and 02-28 are make-up workdays, 02-15..02-23 the holiday."""
    c = clock()
    assert c.due(CAL, LimitKind.STATUTORY, as_of=D(2026, 2, 13)) == D(2026, 3, 19)
    assert c.due(CAL, LimitKind.PROMISED, as_of=D(2026, 2, 13)) == D(2026, 3, 12)
    d = c.deadlines(CAL, D(2026, 2, 14))
    assert d.promised_remaining == 14  # the make-up Saturday itself was a working day
    assert d.working_days_used == 1


def test_a_pause_moves_both_due_dates_and_hides_them_while_it_runs() -> None:
    pauses = open_pause((), D(2026, 6, 1), "补正")
    running = clock(received_on=D(2026, 6, 1), pauses=pauses, state="CORRECTION_REQUESTED")
    d = running.deadlines(CAL, D(2026, 6, 3))
    assert d.paused and d.promised_due is None and d.statutory_due is None
    assert not d.promised_overdue
    lifted = clock(
        received_on=D(2026, 6, 1), pauses=close_pause(pauses, D(2026, 6, 4)), state="SUBMITTED"
    )
    # 20 working days from 06-01 is 06-30 (Dragon Boat on 06-19); 3 paused days → 07-03
    assert lifted.due(CAL, LimitKind.STATUTORY, as_of=D(2026, 6, 4)) == D(2026, 7, 3)
    assert lifted.working_days_used(CAL, D(2026, 6, 5)) == 1


def test_extension_lengthens_only_the_statutory_limit() -> None:
    c = clock(received_on=D(2026, 6, 1), extension_days=10)
    assert c.due(CAL, LimitKind.STATUTORY, as_of=D(2026, 6, 1)) == D(2026, 7, 14)
    assert c.due(CAL, LimitKind.PROMISED, as_of=D(2026, 6, 1)) == D(2026, 6, 23)


def test_on_the_spot_limit_is_due_the_day_the_complete_file_is_in_hand() -> None:
    spot = clock(received_on=D(2026, 6, 6), promised=LimitSpec(0, "working"))  # a Saturday
    assert spot.due(CAL, LimitKind.PROMISED, as_of=D(2026, 6, 6)) == D(2026, 6, 8)
    pauses = close_pause(open_pause((), D(2026, 6, 8), "补正"), D(2026, 6, 10))
    resumed = clock(received_on=D(2026, 6, 8), promised=LimitSpec(0, "working"), pauses=pauses)
    assert resumed.due(CAL, LimitKind.PROMISED, as_of=D(2026, 6, 10)) == D(2026, 6, 10)
    assert resumed.remaining(CAL, LimitKind.PROMISED, D(2026, 6, 12)) == -2


def test_decided_applications_keep_their_figures_frozen_at_the_decision() -> None:
    c = clock(received_on=D(2026, 6, 1), decided_on=D(2026, 6, 5), state="APPROVED")
    later = c.deadlines(CAL, D(2026, 12, 1))
    assert not later.promised_overdue
    assert later.working_days_used == 4
    assert deadline_events_due(c, CAL, D(2026, 12, 1)) == []


def test_deadline_events_warn_then_breach() -> None:
    c = clock(received_on=D(2026, 6, 1), promised=LimitSpec(2, "working"))
    assert deadline_events_due(c, CAL, D(2026, 6, 1)) == [
        (LimitKind.PROMISED, "warning", D(2026, 6, 3), 2)
    ]
    found = deadline_events_due(c, CAL, D(2026, 6, 5))
    assert found == [(LimitKind.PROMISED, "breached", D(2026, 6, 3), -2)]
    paused = clock(received_on=D(2026, 6, 1), state="SUSPENDED")
    assert deadline_events_due(paused, CAL, D(2026, 9, 1)) == []


@pytest.mark.parametrize(("today", "expected"), [(D(2026, 6, 8), False), (D(2026, 6, 9), True)])
def test_deemed_acceptance_after_five_working_days(today: dt.date, expected: bool) -> None:
    assert deemed_accepted("SUBMITTED", D(2026, 6, 1), CAL, today) is expected
    assert deemed_accepted("CORRECTION_REQUESTED", D(2026, 6, 1), CAL, today) is False


def test_pauses_round_trip_through_json() -> None:
    pauses = close_pause(open_pause((), D(2026, 6, 1), "补正"), D(2026, 6, 4))
    pauses = open_pause(pauses, D(2026, 6, 8), "中止")
    assert pauses_from_json(pauses_to_json(pauses)) == pauses


def test_packaged_calendar_knows_a_provisional_2027_and_refuses_nothing_else_silently() -> None:
    cal, provisional = load_calendar(None)
    assert provisional == [2027]
    assert cal.source(2027) is ScheduleSource.CONFIGURATION
    assert cal.source(2026) is ScheduleSource.PACKAGE
    assert not cal.is_working_day(D(2027, 1, 1))
    assert cal.is_working_day(D(2027, 2, 14))  # provisional make-up Sunday
    assert not cal.config.weekends_only_fallback


def test_on_the_spot_limits_breach_without_warning() -> None:
    spot = clock(received_on=D(2026, 6, 1), promised=LimitSpec(0, "working"))
    assert deadline_events_due(spot, CAL, D(2026, 6, 1)) == []
    assert deadline_events_due(spot, CAL, D(2026, 6, 2)) == [
        (LimitKind.PROMISED, "breached", D(2026, 6, 1), -1)
    ]
