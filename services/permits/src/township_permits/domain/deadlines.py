"""An application's deadlines: its promised and statutory clocks, built from stored data.

The clock of an application starts on the day the file was received (收件之日) — when no
correction is requested within 5 working days the application counts as accepted from that
day (行政许可法 第三十二条), so the decision limit runs from it too. The days the applicant
spends on a correction (补正) and the days a suspension (中止) lasts are not counted: both are
pauses of the same clock. An extension (延期, approved with a reason) lengthens the statutory
limit only; the promised limit (承诺时限) is the hall's own commitment and is never extended.

A promised limit of 0 days means "on the spot" (即办): it is due the day the complete file is
in hand — the day it was received, or the day the last pause was lifted.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from township_permits.domain.applications import CLOCK_PAUSED_STATES, DECIDED_STATES
from township_permits.domain.timelimits import (
    DEFAULT_WARNING_DAYS,
    Clock,
    DayUnit,
    Pause,
    TimeLimit,
    correction_deadline,
)
from township_platform.calendar import WorkCalendar


class LimitKind(StrEnum):
    """Which limit a deadline event is about."""

    CORRECTION = "correction"
    PROMISED = "promised"
    STATUTORY = "statutory"


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """A limit as the catalogue states it: amount (0 = on the spot) and unit."""

    amount: int
    unit: str

    def as_time_limit(self, extension: int = 0) -> TimeLimit | None:
        """The domain TimeLimit (None for an on-the-spot limit without extension)."""
        total = self.amount + extension
        if total <= 0:
            return None
        return TimeLimit(total, DayUnit(self.unit))


def pauses_from_json(raw: Iterable[Mapping[str, Any]]) -> tuple[Pause, ...]:
    """Pauses as stored on the application row."""
    return tuple(
        Pause(
            start=dt.date.fromisoformat(p["start"]),
            end=dt.date.fromisoformat(p["end"]) if p.get("end") else None,
            reason=str(p.get("reason", "")),
        )
        for p in raw
    )


def pauses_to_json(pauses: Sequence[Pause]) -> list[dict[str, str]]:
    """Pauses as stored on the application row."""
    return [
        {
            "start": p.start.isoformat(),
            "end": p.end.isoformat() if p.end else "",
            "reason": p.reason,
        }
        for p in pauses
    ]


def open_pause(pauses: Sequence[Pause], on: dt.date, reason: str) -> tuple[Pause, ...]:
    """The pauses with a new one started on ``on``."""
    return (*pauses, Pause(on, None, reason))


def close_pause(pauses: Sequence[Pause], on: dt.date) -> tuple[Pause, ...]:
    """The pauses with the running one lifted on ``on`` (unchanged when none runs)."""
    if not pauses or pauses[-1].end is not None:
        return tuple(pauses)
    last = pauses[-1]
    return (*pauses[:-1], Pause(last.start, max(on, last.start), last.reason))


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Due dates and remaining working days of one application on one day."""

    promised_due: dt.date | None
    statutory_due: dt.date | None
    promised_remaining: int
    statutory_remaining: int
    promised_overdue: bool
    statutory_overdue: bool
    paused: bool
    correction_deadline: dt.date | None
    working_days_used: int


@dataclass(frozen=True, slots=True)
class ApplicationClock:
    """Everything needed to compute an application's deadlines."""

    received_on: dt.date
    promised: LimitSpec
    statutory: LimitSpec
    pauses: tuple[Pause, ...] = ()
    extension_days: int = 0
    decided_on: dt.date | None = None
    state: str = "SUBMITTED"
    correction_window_from: dt.date | None = None

    def _clock(self, spec: LimitSpec, extension: int) -> Clock | None:
        limit = spec.as_time_limit(extension)
        if limit is None:
            return None
        return Clock(limit, self.received_on, pauses=self.pauses)

    def _on_the_spot_due(self, calendar: WorkCalendar) -> dt.date:
        resumed = [p.end for p in self.pauses if p.end is not None]
        base = max([self.received_on, *resumed])
        return calendar.next_working_day(base, inclusive=True)

    def due(self, calendar: WorkCalendar, kind: LimitKind, *, as_of: dt.date) -> dt.date:
        """The due date of the promised or statutory limit (a running pause ends ``as_of``)."""
        spec, extension = (
            (self.promised, 0)
            if kind is LimitKind.PROMISED
            else (self.statutory, self.extension_days)
        )
        clock = self._clock(spec, extension)
        if clock is None:
            return self._on_the_spot_due(calendar)
        due = clock.due_date(calendar, as_of=as_of)
        assert due is not None  # as_of always yields a date
        return due

    def remaining(self, calendar: WorkCalendar, kind: LimitKind, on: dt.date) -> int:
        """Working days left after ``on`` up to the due date; negative when late."""
        spec, extension = (
            (self.promised, 0)
            if kind is LimitKind.PROMISED
            else (self.statutory, self.extension_days)
        )
        clock = self._clock(spec, extension)
        if clock is None:
            due = self._on_the_spot_due(calendar)
            return calendar.working_days_between(on, due)
        return clock.remaining_working_days(calendar, on)

    def working_days_used(self, calendar: WorkCalendar, on: dt.date) -> int:
        """Working days the clock ran from the day after receipt to ``on`` (pauses excluded)."""
        clock = Clock(TimeLimit(1), self.received_on, pauses=self.pauses)
        used = 0
        day = self.received_on
        while day < on:
            day += dt.timedelta(days=1)
            if calendar.is_working_day(day) and not clock.is_paused_on(day, on):
                used += 1
        return used

    def deadlines(self, calendar: WorkCalendar, today: dt.date) -> Deadlines:
        """Due dates and remaining days as seen on ``today`` (frozen at the decision day)."""
        on = self.decided_on or today
        paused = self.state in CLOCK_PAUSED_STATES
        decided = self.state in DECIDED_STATES
        promised_due = self.due(calendar, LimitKind.PROMISED, as_of=on)
        statutory_due = self.due(calendar, LimitKind.STATUTORY, as_of=on)
        correction = (
            correction_deadline(calendar, self.correction_window_from or self.received_on)
            if self.state == "SUBMITTED"
            else None
        )
        return Deadlines(
            promised_due=None if paused else promised_due,
            statutory_due=None if paused else statutory_due,
            promised_remaining=self.remaining(calendar, LimitKind.PROMISED, on),
            statutory_remaining=self.remaining(calendar, LimitKind.STATUTORY, on),
            promised_overdue=on > promised_due and not (paused and not decided),
            statutory_overdue=on > statutory_due and not (paused and not decided),
            paused=paused,
            correction_deadline=correction,
            working_days_used=self.working_days_used(calendar, on),
        )


def deadline_events_due(
    clock: ApplicationClock,
    calendar: WorkCalendar,
    today: dt.date,
    *,
    warning_days: int = DEFAULT_WARNING_DAYS,
) -> list[tuple[LimitKind, str, dt.date, int]]:
    """(limit kind, "warning" | "breached", due date, remaining) to report on ``today``.

    Nothing is due while the clock is paused or once the decision is made; the caller keeps
    a record of what it already reported, so this may repeat itself day after day.
    """
    if clock.state in CLOCK_PAUSED_STATES or clock.state in DECIDED_STATES:
        return []
    found: list[tuple[LimitKind, str, dt.date, int]] = []
    for kind in (LimitKind.PROMISED, LimitKind.STATUTORY):
        due = clock.due(calendar, kind, as_of=today)
        remaining = clock.remaining(calendar, kind, today)
        on_the_spot = (
            clock.promised if kind is LimitKind.PROMISED else clock.statutory
        ).amount == 0
        if today > due:
            found.append((kind, "breached", due, remaining))
        elif remaining <= warning_days and not on_the_spot:
            # An on-the-spot limit (即办) is always "due soon": warning would only be noise.
            found.append((kind, "warning", due, remaining))
    return found


def deemed_accepted(
    state: str, window_from: dt.date, calendar: WorkCalendar, today: dt.date
) -> bool:
    """True when a submission waited past the 5-working-day correction window (视为受理)."""
    if state != "SUBMITTED":
        return False
    return today > correction_deadline(calendar, window_from)


@functools.lru_cache(maxsize=2048)
def deadlines_on(clock: ApplicationClock, calendar: WorkCalendar, today: dt.date) -> Deadlines:
    """``clock.deadlines(calendar, today)``, remembered.

    Pure and frequent: every read and every row of a queue page computes it, and the
    applications of one day, one item and no pauses share one clock (a frozen value), so
    most calls are answered from the cache. Bounded; a new calendar is a new key.
    """
    return clock.deadlines(calendar, today)
