"""Time limits: due dates over holidays and make-up days, pauses, extensions, warnings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from township_permits.domain.timelimits import (
    CORRECTION_WINDOW,
    Clock,
    DayUnit,
    Pause,
    TimeLimit,
    correction_deadline,
    correction_window_closed,
)
from township_platform.calendar import WorkCalendar
from township_platform.errors import Conflict, InvalidArgument

D = dt.date
CAL = WorkCalendar()
FIVE = TimeLimit(5, DayUnit.WORKING)
ACCEPTED_FRIDAY = D(2026, 9, 25)  # Mid-Autumn Festival, the week before National Day

starts = st.dates(min_value=D(2005, 1, 1), max_value=D(2026, 3, 31))
amounts = st.integers(min_value=1, max_value=30)


def day(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


# --- TimeLimit ---------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -3, True, 2.5])
def test_a_limit_is_a_positive_whole_number_of_days(amount: object) -> None:
    with pytest.raises(InvalidArgument) as caught:
        TimeLimit(amount, DayUnit.WORKING)  # type: ignore[arg-type]
    assert caught.value.field == "amount"
    assert caught.value.rule == "positive"


def test_unit_given_as_text_becomes_the_enum() -> None:
    limit = TimeLimit(20, "natural")  # type: ignore[arg-type]
    assert limit.unit is DayUnit.NATURAL
    assert limit == TimeLimit(20, DayUnit.NATURAL)
    assert str(limit) == "20 natural days"


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        TimeLimit(5, "hours")  # type: ignore[arg-type]
    assert caught.value.field == "unit"


def test_limit_extended() -> None:
    assert TimeLimit(20).extended(10) == TimeLimit(30, DayUnit.WORKING)
    with pytest.raises(InvalidArgument):
        TimeLimit(20).extended(0)


# --- the real case: accepted on Friday 2026-09-25 ----------------------------------------


def test_accepted_before_national_day_five_working_days() -> None:
    # 2026-09-25 is itself a holiday (Mid-Autumn) and never counts anyway; counting runs
    # 9/28 (1), 9/29 (2), 9/30 (3), skips 10/1–10/7, then 10/8 (4), 10/9 (5).
    clock = Clock(FIVE, ACCEPTED_FRIDAY)
    assert clock.due_date(CAL) == D(2026, 10, 9)


def test_accepted_before_national_day_the_make_up_saturday_counts() -> None:
    clock = Clock(TimeLimit(6), ACCEPTED_FRIDAY)
    assert clock.due_date(CAL) == D(2026, 10, 10)  # Saturday, a make-up workday
    five = Clock(FIVE, ACCEPTED_FRIDAY)
    # The make-up Saturday is a working day, so the day after the due date is already late.
    assert five.remaining_working_days(CAL, D(2026, 10, 10)) == -1
    assert five.is_overdue(CAL, D(2026, 10, 10))


@pytest.mark.parametrize(
    ("on", "remaining"),
    [
        (D(2026, 9, 20), 5),  # before the start: the full limit
        (D(2026, 9, 25), 5),
        (D(2026, 9, 27), 5),
        (D(2026, 9, 28), 4),
        (D(2026, 9, 30), 2),
        (D(2026, 10, 4), 2),  # the holiday uses nothing up
        (D(2026, 10, 8), 1),
        (D(2026, 10, 9), 0),
        (D(2026, 10, 10), -1),
        (D(2026, 10, 11), -1),
        (D(2026, 10, 12), -2),
    ],
)
def test_remaining_working_days_through_the_holiday(on: dt.date, remaining: int) -> None:
    assert Clock(FIVE, ACCEPTED_FRIDAY).remaining_working_days(CAL, on) == remaining


def test_overdue_only_after_the_due_date() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY)
    assert not clock.is_overdue(CAL, D(2026, 10, 9))
    assert clock.is_overdue(CAL, D(2026, 10, 10))


def test_overdue_on_a_rest_day_right_after_the_due_date() -> None:
    clock = Clock(TimeLimit(1), D(2026, 11, 5))  # Thursday → due Friday
    assert clock.due_date(CAL) == D(2026, 11, 6)
    saturday = D(2026, 11, 7)
    assert clock.is_overdue(CAL, saturday)
    assert clock.remaining_working_days(CAL, saturday) == 0  # no working day has passed yet
    assert clock.remaining_working_days(CAL, D(2026, 11, 9)) == -1


# --- natural days ------------------------------------------------------------------------


def test_natural_days_count_every_day() -> None:
    clock = Clock(TimeLimit(10, DayUnit.NATURAL), D(2026, 11, 2))
    assert clock.due_date(CAL) == D(2026, 11, 12)


def test_natural_days_ending_in_a_holiday_run_to_the_next_working_day() -> None:
    clock = Clock(TimeLimit(7, DayUnit.NATURAL), D(2026, 9, 24))  # would end on 10/1
    assert clock.due_date(CAL) == D(2026, 10, 8)
    saturday_end = Clock(TimeLimit(2, DayUnit.NATURAL), D(2026, 10, 8))  # 10/10: make-up day
    assert saturday_end.due_date(CAL) == D(2026, 10, 10)


def test_natural_days_pause_shifts_by_natural_days() -> None:
    clock = Clock(TimeLimit(10, DayUnit.NATURAL), D(2026, 11, 2)).pause(D(2026, 11, 4))
    assert clock.resume(D(2026, 11, 7)).due_date(CAL) == D(2026, 11, 16)  # 12th + 3 paused


# --- pauses ------------------------------------------------------------------------------


def test_a_pause_shifts_the_due_date_by_the_working_days_it_covered() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY).pause(D(2026, 9, 29), "correction requested")
    assert clock.is_paused
    assert clock.due_date(CAL) is None
    resumed = clock.resume(D(2026, 10, 9))
    assert not resumed.is_paused
    # Counted: 9/28, 9/29; paused: (9/29, 10/9] holds 9/30, 10/8, 10/9 → three working days.
    # Then 10/10 (make-up Saturday), 10/12, 10/13.
    assert resumed.due_date(CAL) == D(2026, 10, 13)
    assert resumed.pauses == (Pause(D(2026, 9, 29), D(2026, 10, 9), "correction requested"),)


def test_a_pause_lifted_the_day_it_starts_covers_nothing() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY).pause(D(2026, 9, 29)).resume(D(2026, 9, 29))
    assert clock.due_date(CAL) == D(2026, 10, 9)


def test_a_pause_over_rest_days_only_does_not_move_the_due_date() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY).pause(D(2026, 9, 30)).resume(D(2026, 10, 7))
    assert clock.due_date(CAL) == D(2026, 10, 9)


def test_a_pause_after_the_due_date_does_not_rescue_a_late_application() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY).pause(D(2026, 10, 12)).resume(D(2026, 10, 20))
    assert clock.due_date(CAL) == D(2026, 10, 9)
    assert clock.is_overdue(CAL, D(2026, 10, 21))


def test_remaining_days_stand_still_during_a_pause() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY).pause(D(2026, 9, 29))
    assert clock.remaining_working_days(CAL, D(2026, 9, 29)) == 3
    assert clock.remaining_working_days(CAL, D(2026, 10, 9)) == 3
    assert clock.remaining_working_days(CAL, D(2026, 12, 1)) == 3
    assert not clock.is_overdue(CAL, D(2026, 12, 1))
    assert clock.due_date(CAL, as_of=D(2026, 10, 9)) == D(2026, 10, 13)


def test_several_pauses_add_up() -> None:
    clock = (
        Clock(TimeLimit(20), D(2026, 11, 2))
        .pause(D(2026, 11, 3))
        .resume(D(2026, 11, 5))  # covers 11/4, 11/5
        .pause(D(2026, 11, 10))
        .resume(D(2026, 11, 13))  # covers 11/11, 11/12, 11/13
    )
    assert clock.due_date(CAL) == CAL.add_working_days(D(2026, 11, 2), 25)


def test_pausing_twice_is_a_conflict() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY).pause(D(2026, 9, 28))
    with pytest.raises(Conflict) as caught:
        clock.pause(D(2026, 9, 29))
    assert caught.value.type == "clock-paused"


def test_resuming_a_running_clock_is_a_conflict() -> None:
    with pytest.raises(Conflict) as caught:
        Clock(FIVE, ACCEPTED_FRIDAY).resume(D(2026, 9, 29))
    assert caught.value.type == "clock-running"


def test_pauses_are_chronological() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY)
    with pytest.raises(InvalidArgument):
        clock.pause(D(2026, 9, 24))  # before the start
    paused = clock.pause(D(2026, 9, 29))
    with pytest.raises(InvalidArgument):
        paused.resume(D(2026, 9, 28))  # before the pause
    resumed = paused.resume(D(2026, 10, 8))
    with pytest.raises(InvalidArgument):
        resumed.pause(D(2026, 10, 7))  # inside the previous pause


@pytest.mark.parametrize(
    "pauses",
    [
        (Pause(D(2026, 9, 20), D(2026, 9, 28)),),  # before the start
        (Pause(D(2026, 9, 28), None), Pause(D(2026, 9, 29), D(2026, 9, 30))),  # open not last
        (Pause(D(2026, 9, 29), D(2026, 9, 28)),),  # ends before it starts
        (Pause(D(2026, 9, 28), D(2026, 10, 8)), Pause(D(2026, 10, 1), None)),  # overlap
    ],
)
def test_a_clock_refuses_inconsistent_pauses(pauses: tuple[Pause, ...]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        Clock(FIVE, ACCEPTED_FRIDAY, pauses)
    assert caught.value.field == "pauses"


# --- extensions --------------------------------------------------------------------------


def test_an_extension_adds_working_days() -> None:
    clock = Clock(TimeLimit(20), D(2026, 11, 2)).extend(10)
    assert clock.amount == 30
    assert clock.extensions == (10,)
    assert clock.due_date(CAL) == CAL.add_working_days(D(2026, 11, 2), 30)


def test_an_extension_is_positive() -> None:
    with pytest.raises(InvalidArgument):
        Clock(TimeLimit(20), D(2026, 11, 2)).extend(0)
    with pytest.raises(InvalidArgument):
        Clock(TimeLimit(20), D(2026, 11, 2), extensions=(-1,))


# --- warnings ----------------------------------------------------------------------------


def test_due_soon_at_two_working_days_left() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY)
    assert not clock.is_due_soon(CAL, D(2026, 9, 29))  # 3 left
    assert clock.is_due_soon(CAL, D(2026, 9, 30))  # 2 left
    assert clock.is_due_soon(CAL, D(2026, 10, 9))  # 0 left, the last day
    assert not clock.is_due_soon(CAL, D(2026, 10, 10))  # overdue, not "soon"
    assert clock.is_due_soon(CAL, D(2026, 9, 28), within=4)


def test_warning_date() -> None:
    clock = Clock(FIVE, ACCEPTED_FRIDAY)
    assert clock.warning_date(CAL) == D(2026, 9, 30)
    assert clock.warning_date(CAL, within=0) == D(2026, 10, 9)
    assert clock.warning_date(CAL, within=5) == ACCEPTED_FRIDAY
    assert clock.pause(D(2026, 9, 29)).warning_date(CAL) is None


# --- correction window -------------------------------------------------------------------


def test_correction_window_is_five_working_days() -> None:
    assert CORRECTION_WINDOW == TimeLimit(5, DayUnit.WORKING)
    submitted = D(2026, 11, 2)  # Monday
    assert correction_deadline(CAL, submitted) == D(2026, 11, 9)
    assert not correction_window_closed(CAL, submitted, D(2026, 11, 9))
    assert correction_window_closed(CAL, submitted, D(2026, 11, 10))


def test_correction_window_over_national_day() -> None:
    assert correction_deadline(CAL, ACCEPTED_FRIDAY) == D(2026, 10, 9)
    assert not correction_window_closed(CAL, ACCEPTED_FRIDAY, D(2026, 10, 7))
    assert correction_window_closed(CAL, ACCEPTED_FRIDAY, D(2026, 10, 10))


def test_correction_window_can_be_configured() -> None:
    window = TimeLimit(5, DayUnit.NATURAL)
    assert correction_deadline(CAL, D(2026, 11, 2), window) == D(2026, 11, 9)  # Sat → Mon
    assert correction_window_closed(CAL, D(2026, 11, 2), D(2026, 11, 10), window)


# --- properties --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(start=starts, amount=amounts)
def test_without_pauses_the_due_date_is_adding_working_days(start: dt.date, amount: int) -> None:
    clock = Clock(TimeLimit(amount), start)
    due = clock.due_date(CAL)
    assert due == CAL.add_working_days(start, amount)
    assert clock.remaining_working_days(CAL, start) == amount
    assert clock.remaining_working_days(CAL, due) == 0
    assert not clock.is_overdue(CAL, due)
    assert clock.is_overdue(CAL, due + day(1))


@settings(max_examples=150, deadline=None)
@given(start=starts, amount=amounts, offset=st.integers(0, 60))
def test_remaining_is_the_limit_minus_the_working_days_used(
    start: dt.date, amount: int, offset: int
) -> None:
    on = start + day(offset)
    clock = Clock(TimeLimit(amount), start)
    assert clock.remaining_working_days(CAL, on) == amount - CAL.working_days_between(start, on)


@settings(max_examples=150, deadline=None)
@given(
    start=starts,
    amount=amounts,
    pause_after=st.integers(0, 40),
    length=st.integers(0, 40),
)
def test_a_pause_moves_the_due_date_by_the_working_days_it_covered(
    start: dt.date, amount: int, pause_after: int, length: int
) -> None:
    plain_due = CAL.add_working_days(start, amount)
    paused_on = start + day(pause_after)
    resumed_on = paused_on + day(length)
    clock = Clock(TimeLimit(amount), start).pause(paused_on).resume(resumed_on)
    if paused_on < plain_due:
        covered = CAL.working_days_between(paused_on, resumed_on)
        assert clock.due_date(CAL) == CAL.add_working_days(plain_due, covered)
    else:
        assert clock.due_date(CAL) == plain_due


@settings(max_examples=100, deadline=None)
@given(start=starts, amount=amounts, pause_after=st.integers(0, 40), length=st.integers(0, 40))
def test_remaining_is_frozen_while_paused(
    start: dt.date, amount: int, pause_after: int, length: int
) -> None:
    paused_on = start + day(pause_after)
    clock = Clock(TimeLimit(amount), start)
    assume(not clock.is_overdue(CAL, paused_on))
    paused = clock.pause(paused_on)
    left = paused.remaining_working_days(CAL, paused_on)
    assert left == clock.remaining_working_days(CAL, paused_on)
    assert paused.remaining_working_days(CAL, paused_on + day(length)) == left


@settings(max_examples=100, deadline=None)
@given(start=starts, amount=amounts, within=st.integers(0, 5), extension=st.integers(0, 10))
def test_warning_date_is_the_first_day_due_soon(
    start: dt.date, amount: int, within: int, extension: int
) -> None:
    clock = Clock(TimeLimit(amount), start)
    if extension:
        clock = clock.extend(extension)
    warning = clock.warning_date(CAL, within=within)
    due = clock.due_date(CAL)
    assert warning is not None and due is not None
    first = start
    while not clock.is_due_soon(CAL, first, within=within):
        first += day(1)
    assert warning == first
    assert start <= warning <= due


@settings(max_examples=100, deadline=None)
@given(start=starts, amount=st.integers(1, 60))
def test_natural_due_date_is_a_working_day_at_or_after_the_plain_count(
    start: dt.date, amount: int
) -> None:
    due = Clock(TimeLimit(amount, DayUnit.NATURAL), start).due_date(CAL)
    assert due is not None
    assert CAL.is_working_day(due)
    assert due >= start + day(amount)
    assert CAL.working_days_between(start + day(amount), due) <= 1
