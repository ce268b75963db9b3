"""Working days on the Chinese calendar: package data, 调休 make-up days, overrides, fallback."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from township_platform.calendar import (
    CalendarConfig,
    CalendarYearUnknown,
    ScheduleSource,
    WorkCalendar,
    YearSchedule,
)
from township_platform.errors import InvalidArgument

D = dt.date
CAL = WorkCalendar()

# Dates the package covers, far enough from its last year that 60 working days stay inside.
package_dates = st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 6, 30))


# --- the real 2026 calendar --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 9, 18), True),  # ordinary Friday
        (D(2026, 9, 19), False),  # ordinary Saturday
        (D(2026, 9, 20), True),  # Sunday, make-up workday for National Day
        (D(2026, 9, 25), False),  # Friday, Mid-Autumn Festival
        (D(2026, 9, 28), True),  # ordinary Monday
        (D(2026, 10, 1), False),  # National Day
        (D(2026, 10, 5), False),  # Monday inside the National Day holiday
        (D(2026, 10, 7), False),  # last day of the holiday
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday, make-up workday for National Day
        (D(2026, 10, 11), False),  # ordinary Sunday
    ],
)
def test_is_working_day_follows_the_2026_schedule(day: dt.date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_the_2026_national_day_schedule_is_what_the_package_says() -> None:
    holiday = [D(2026, 10, d) for d in range(1, 8)]
    assert all(chinese_calendar.get_holiday_detail(d) == (True, "National Day") for d in holiday)
    assert chinese_calendar.get_holiday_detail(D(2026, 9, 20)) == (False, "National Day")
    assert chinese_calendar.get_holiday_detail(D(2026, 10, 10)) == (False, "National Day")
    assert chinese_calendar.get_holiday_detail(D(2026, 9, 25)) == (True, "Mid-autumn Festival")


def test_add_working_days_starts_counting_the_day_after() -> None:
    monday = D(2026, 11, 2)
    assert CAL.add_working_days(monday, 1) == D(2026, 11, 3)
    assert CAL.add_working_days(monday, 4) == D(2026, 11, 6)
    assert CAL.add_working_days(monday, 5) == D(2026, 11, 9)  # skips the weekend


def test_add_zero_working_days_is_the_start_itself() -> None:
    assert CAL.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)


def test_add_working_days_skips_national_day_and_counts_the_make_up_saturday() -> None:
    friday = D(2026, 9, 25)
    # 9/28, 9/29, 9/30, then 10/1–10/7 off, then 10/8, 10/9, and Saturday 10/10 is a workday.
    assert CAL.add_working_days(friday, 5) == D(2026, 10, 9)
    assert CAL.add_working_days(friday, 6) == D(2026, 10, 10)
    assert CAL.add_working_days(friday, 7) == D(2026, 10, 12)


def test_add_working_days_counts_the_make_up_sunday() -> None:
    assert CAL.add_working_days(D(2026, 9, 18), 1) == D(2026, 9, 20)


def test_add_negative_working_days_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        CAL.add_working_days(D(2026, 9, 25), -1)
    assert caught.value.field == "days"
    assert caught.value.rule == "non-negative"


def test_working_days_between_counts_the_end_not_the_start() -> None:
    assert CAL.working_days_between(D(2026, 9, 25), D(2026, 10, 10)) == 6
    assert CAL.working_days_between(D(2026, 10, 10), D(2026, 9, 25)) == -6
    assert CAL.working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert CAL.working_days_between(D(2026, 10, 8), D(2026, 10, 8)) == 0
    assert CAL.working_days_between(D(2026, 10, 7), D(2026, 10, 8)) == 1


def test_next_working_day() -> None:
    assert CAL.next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert CAL.next_working_day(D(2026, 10, 9)) == D(2026, 10, 10)
    assert CAL.next_working_day(D(2026, 10, 8)) == D(2026, 10, 9)
    assert CAL.next_working_day(D(2026, 10, 8), inclusive=True) == D(2026, 10, 8)
    assert CAL.next_working_day(D(2026, 10, 3), inclusive=True) == D(2026, 10, 8)


def test_datetimes_are_taken_as_their_date() -> None:
    moment = dt.datetime(2026, 9, 25, 16, 30)
    assert CAL.is_working_day(moment) is False
    assert CAL.add_working_days(moment, 5) == D(2026, 10, 9)
    assert CAL.working_days_between(moment, dt.datetime(2026, 10, 10, 9)) == 6


# --- years nobody knows ------------------------------------------------------------------


def test_unknown_year_is_a_clear_error_naming_the_year() -> None:
    with pytest.raises(CalendarYearUnknown) as caught:
        CAL.is_working_day(D(2031, 3, 3))
    error = caught.value
    assert isinstance(error, InvalidArgument)
    assert error.year == 2031
    assert "2031" in error.message
    assert error.type == "calendar-year-unknown"
    assert error.field == "date"
    assert error.rule == "calendar year known"


def test_counting_into_an_unknown_year_fails_rather_than_guessing() -> None:
    with pytest.raises(CalendarYearUnknown) as caught:
        CAL.add_working_days(D(2026, 12, 20), 20)
    assert caught.value.year == 2027


def test_years_before_the_package_are_unknown_too() -> None:
    with pytest.raises(CalendarYearUnknown):
        CAL.is_working_day(D(2003, 5, 1))


def test_weekends_only_fallback_must_be_asked_for() -> None:
    calendar = WorkCalendar(CalendarConfig(weekends_only_fallback=True))
    assert calendar.is_working_day(D(2031, 3, 3))  # Monday
    assert not calendar.is_working_day(D(2031, 3, 1))  # Saturday
    assert calendar.source(2031) is ScheduleSource.WEEKENDS_ONLY
    # Years the package knows still follow the package.
    assert not calendar.is_working_day(D(2026, 10, 1))
    assert calendar.is_working_day(D(2026, 10, 10))
    assert calendar.source(2026) is ScheduleSource.PACKAGE


# --- configuration overrides -------------------------------------------------------------

CONFIG_2027 = {
    "years": {
        "2027": {
            "holidays": ["2027-10-01", "2027-10-04", "2027-10-05"],
            "makeup_workdays": ["2027-10-09"],
        }
    }
}


def test_configuration_adds_a_year_the_package_lacks() -> None:
    calendar = WorkCalendar.from_mapping(CONFIG_2027)
    assert calendar.source(2027) is ScheduleSource.CONFIGURATION
    assert not calendar.is_working_day(D(2027, 10, 1))  # Friday holiday
    assert not calendar.is_working_day(D(2027, 10, 4))  # Monday holiday
    assert calendar.is_working_day(D(2027, 10, 6))  # ordinary Wednesday
    assert calendar.is_working_day(D(2027, 10, 9))  # make-up Saturday
    assert not calendar.is_working_day(D(2027, 10, 10))  # ordinary Sunday
    assert calendar.add_working_days(D(2027, 9, 30), 2) == D(2027, 10, 7)


def test_configuration_replaces_the_package_for_its_year() -> None:
    calendar = WorkCalendar(
        CalendarConfig(years={2026: YearSchedule(holidays=frozenset({D(2026, 10, 1)}))})
    )
    assert not calendar.is_working_day(D(2026, 10, 1))
    assert calendar.is_working_day(D(2026, 10, 2))  # the package's holiday is not kept
    assert not calendar.is_working_day(D(2026, 10, 10))  # nor its make-up Saturday


def test_a_day_cannot_be_both_holiday_and_make_up_workday() -> None:
    with pytest.raises(ValidationError, match="both"):
        YearSchedule(
            holidays=frozenset({D(2027, 10, 1)}), makeup_workdays=frozenset({D(2027, 10, 1)})
        )


def test_a_year_lists_only_its_own_days() -> None:
    with pytest.raises(ValidationError, match="2028-01-01"):
        CalendarConfig.model_validate({"years": {2027: {"holidays": ["2028-01-01"]}}})


def test_configuration_refuses_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        CalendarConfig.model_validate({"years": {}, "weekend_fallback": True})


# --- properties --------------------------------------------------------------------------


@settings(max_examples=200)
@given(day=package_dates)
def test_agrees_with_the_package(day: dt.date) -> None:
    assert CAL.is_working_day(day) is chinese_calendar.is_workday(day)


@settings(max_examples=150, deadline=None)
@given(start=package_dates, days=st.integers(min_value=1, max_value=60))
def test_adding_lands_on_a_working_day_that_far_away(start: dt.date, days: int) -> None:
    end = CAL.add_working_days(start, days)
    assert CAL.is_working_day(end)
    assert end > start
    assert CAL.working_days_between(start, end) == days
    # The day before the end is still short of the count.
    assert CAL.working_days_between(start, end - dt.timedelta(days=1)) == days - 1


@settings(max_examples=150, deadline=None)
@given(a=package_dates, b=package_dates, c=package_dates)
def test_working_days_between_is_additive_and_antisymmetric(
    a: dt.date, b: dt.date, c: dt.date
) -> None:
    # Keep the spans short enough to be quick, and within the years the package covers
    # (the last date drawn is 2026-06-30; two spans under 90 days end before 2027).
    b = a + dt.timedelta(days=(b - a).days % 90)
    c = b + dt.timedelta(days=(c - b).days % 90)
    ab = CAL.working_days_between(a, b)
    assert ab == -CAL.working_days_between(b, a)
    assert ab + CAL.working_days_between(b, c) == CAL.working_days_between(a, c)


@settings(max_examples=100)
@given(day=package_dates)
def test_next_working_day_is_the_first_one_after(day: dt.date) -> None:
    following = CAL.next_working_day(day)
    assert CAL.is_working_day(following)
    assert following > day
    assert CAL.working_days_between(day, following) == 1
