"""Time limits (办理时限) and the clock that runs them.

A :class:`TimeLimit` is data: an amount of working days (工作日) or natural days (自然日).
A :class:`Clock` applies one limit from the day of its starting event, and records pauses
(correction requested 补正, suspension 中止) and extensions (延期).

Counting rules, as Chinese administrative law counts periods:

* the day of the starting event never counts; counting begins the day after;
* working-day limits count working days on the :class:`WorkCalendar` (make-up workdays count,
  holidays do not), so the due date is always a working day;
* natural-day limits count every day, and when the last day is not a working day the limit
  runs to the next working day (期间届满的最后一日是节假日的，以节假日后的第一日为届满日期);
* a pause that starts on day P and is lifted on day R stops the clock on the days (P, R]:
  the day it starts still counts, the day it is lifted does not (the clock restarts the day
  after, like a start). The due date moves later by the working (or natural) days the pause
  covered; a pause that starts after the due date does not move it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from township_platform.calendar import WorkCalendar
from township_platform.errors import Conflict, InvalidArgument

_ONE_DAY = dt.timedelta(days=1)

DEFAULT_WARNING_DAYS = 2
"""A limit warns when this many working days or fewer are left."""


class DayUnit(StrEnum):
    """How a limit counts: working days (工作日) or natural days (自然日)."""

    WORKING = "working"
    NATURAL = "natural"


def _positive(amount: int, field_name: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidArgument(
            f"{field_name} must be a positive whole number of days, got {amount!r}",
            field=field_name,
            rule="positive",
        )


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A time limit (办理时限): so many working or natural days."""

    amount: int
    unit: DayUnit = DayUnit.WORKING

    def __post_init__(self) -> None:
        _positive(self.amount, "amount")
        try:
            unit = DayUnit(self.unit)
        except ValueError:
            raise InvalidArgument(
                f"unit must be 'working' or 'natural', got {self.unit!r}",
                field="unit",
                rule="working or natural",
            ) from None
        object.__setattr__(self, "unit", unit)

    def extended(self, amount: int) -> TimeLimit:
        """This limit lengthened by ``amount`` days of the same unit."""
        _positive(amount, "extension")
        return TimeLimit(self.amount + amount, self.unit)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value} days"


CORRECTION_WINDOW = TimeLimit(5, DayUnit.WORKING)
"""Missing materials must be listed within 5 working days (一次性告知补正), or the
application counts as accepted from the day it was received (行政许可法 第三十二条)."""


@dataclass(frozen=True, slots=True)
class Pause:
    """An interval in which the clock stands still; ``end`` is None while it runs."""

    start: dt.date
    end: dt.date | None = None
    reason: str = ""

    def covers(self, day: dt.date, as_of: dt.date | None = None) -> bool:
        """True when ``day`` is paused; an open pause is taken to end on ``as_of``."""
        end = self.end if self.end is not None else as_of
        if end is None:
            return day > self.start
        return self.start < day <= end


@dataclass(frozen=True, slots=True)
class Clock:
    """A running time limit: start day, pauses and extensions; immutable, methods return new."""

    limit: TimeLimit
    started_on: dt.date
    pauses: tuple[Pause, ...] = ()
    extensions: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for extension in self.extensions:
            _positive(extension, "extension")
        previous_end = self.started_on
        for index, pause in enumerate(self.pauses):
            if pause.start < previous_end:
                raise InvalidArgument(
                    f"pause starting {pause.start} overlaps the start or an earlier pause",
                    field="pauses",
                    rule="ordered and disjoint",
                )
            if pause.end is None:
                if index != len(self.pauses) - 1:
                    raise InvalidArgument(
                        "only the last pause may still be running",
                        field="pauses",
                        rule="ordered and disjoint",
                    )
                break
            if pause.end < pause.start:
                raise InvalidArgument(
                    f"pause ends {pause.end} before it starts {pause.start}",
                    field="pauses",
                    rule="ordered and disjoint",
                )
            previous_end = pause.end

    @property
    def amount(self) -> int:
        """The limit's amount with all extensions added."""
        return self.limit.amount + sum(self.extensions)

    @property
    def is_paused(self) -> bool:
        """True while a pause has not been lifted."""
        return bool(self.pauses) and self.pauses[-1].end is None

    def pause(self, on: dt.date, reason: str = "") -> Clock:
        """The clock stopped on ``on`` (that day still counts)."""
        if self.is_paused:
            raise Conflict(
                f"the clock is already paused since {self.pauses[-1].start}", type="clock-paused"
            )
        not_before = self.pauses[-1].end if self.pauses else self.started_on
        assert not_before is not None  # only the last pause may be open, and it is closed
        if on < not_before:
            raise InvalidArgument(
                f"cannot pause on {on}, before {not_before}", field="on", rule="chronological"
            )
        return replace(self, pauses=(*self.pauses, Pause(on, None, reason)))

    def resume(self, on: dt.date) -> Clock:
        """The clock restarted on ``on`` (counting again from the day after)."""
        if not self.is_paused:
            raise Conflict("the clock is not paused", type="clock-running")
        current = self.pauses[-1]
        if on < current.start:
            raise InvalidArgument(
                f"cannot resume on {on}, before the pause started on {current.start}",
                field="on",
                rule="chronological",
            )
        return replace(self, pauses=(*self.pauses[:-1], replace(current, end=on)))

    def extend(self, amount: int) -> Clock:
        """The clock with its limit extended by ``amount`` days (e.g. +10 with approval)."""
        _positive(amount, "extension")
        return replace(self, extensions=(*self.extensions, amount))

    def is_paused_on(self, day: dt.date, as_of: dt.date | None = None) -> bool:
        """True when ``day`` falls inside a pause (an open one taken to end on ``as_of``)."""
        return any(p.covers(day, as_of) for p in self.pauses)

    def _counts(self, calendar: WorkCalendar, day: dt.date, as_of: dt.date | None) -> bool:
        if self.is_paused_on(day, as_of):
            return False
        return self.limit.unit is DayUnit.NATURAL or calendar.is_working_day(day)

    def _counts_working(self, calendar: WorkCalendar, day: dt.date, as_of: dt.date) -> bool:
        return calendar.is_working_day(day) and not self.is_paused_on(day, as_of)

    def due_date(self, calendar: WorkCalendar, *, as_of: dt.date | None = None) -> dt.date | None:
        """Last day of the limit; None while paused, unless ``as_of`` says when the pause ends."""
        if self.is_paused and as_of is None:
            return None
        day = self.started_on
        counted = 0
        while counted < self.amount:
            day += _ONE_DAY
            if self._counts(calendar, day, as_of):
                counted += 1
        if self.limit.unit is DayUnit.NATURAL:
            day = calendar.next_working_day(day, inclusive=True)
        return day

    def remaining_working_days(self, calendar: WorkCalendar, on: dt.date) -> int:
        """Working days left after ``on`` up to the due date; negative, by as many, when late."""
        due = self.due_date(calendar, as_of=on)
        assert due is not None  # as_of always yields a date
        if on <= due:
            lo, hi, sign = max(on, self.started_on), due, 1
        else:
            lo, hi, sign = due, on, -1
        count = 0
        day = lo
        while day < hi:
            day += _ONE_DAY
            if self._counts_working(calendar, day, on):
                count += 1
        return sign * count

    def is_overdue(self, calendar: WorkCalendar, on: dt.date) -> bool:
        """True once ``on`` is after the due date (a running pause counted up to ``on``)."""
        due = self.due_date(calendar, as_of=on)
        assert due is not None
        return on > due

    def is_due_soon(
        self, calendar: WorkCalendar, on: dt.date, *, within: int = DEFAULT_WARNING_DAYS
    ) -> bool:
        """True when not yet overdue and at most ``within`` working days are left on ``on``."""
        if self.is_overdue(calendar, on):
            return False
        return self.remaining_working_days(calendar, on) <= within

    def warning_date(
        self, calendar: WorkCalendar, *, within: int = DEFAULT_WARNING_DAYS
    ) -> dt.date | None:
        """First day on which :meth:`is_due_soon` holds, for scheduling; None while paused."""
        due = self.due_date(calendar)
        if due is None:
            return None
        # Walk back from the due date, adding each day to the days left after ``day``,
        # and stop before the count would exceed ``within``.
        day, left = due, 0
        while day > self.started_on:
            if self._counts_working(calendar, day, due):
                if left == within:
                    break
                left += 1
            day -= _ONE_DAY
        return day


def correction_deadline(
    calendar: WorkCalendar, submitted_on: dt.date, window: TimeLimit = CORRECTION_WINDOW
) -> dt.date:
    """Last day on which a correction (补正) may still be requested for a submission."""
    due = Clock(window, submitted_on).due_date(calendar)
    assert due is not None  # a clock without pauses always has a due date
    return due


def correction_window_closed(
    calendar: WorkCalendar,
    submitted_on: dt.date,
    on: dt.date,
    window: TimeLimit = CORRECTION_WINDOW,
) -> bool:
    """True when it is too late to request correction: the application counts as accepted."""
    return on > correction_deadline(calendar, submitted_on, window)
