"""Working days (工作日) for enforcement limits, on the ``chinese_calendar`` package.

Same approach as the permits calendar, kept small and local because services share no code
outside ``libs/``: a per-year override (holidays and 调休 make-up workdays, e.g. next year's
State Council schedule before a package release reaches production) wins over the package;
a year neither knows raises :class:`CalendarYearUnknown` unless the weekends-only fallback is
switched on explicitly. Periods start counting the day after the starting event.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import chinese_calendar

from township_platform.errors import InvalidArgument

_ONE_DAY = dt.timedelta(days=1)


class CalendarYearUnknown(InvalidArgument):
    """Neither the configuration nor the package knows the year's schedule."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no working-day calendar for {year}; add the year to the calendar overrides",
            type="calendar-year-unknown",
            field="date",
            rule="calendar year known",
        )
        self.year = year


class WorkCalendar:
    """Which days are working days, and counting working days from a start day."""

    def __init__(
        self,
        overrides: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] | None = None,
        *,
        weekends_only_fallback: bool = False,
    ) -> None:
        """``overrides``: year → (holidays, make-up workdays)."""
        self.overrides = overrides or {}
        self.weekends_only_fallback = weekends_only_fallback

    @classmethod
    def from_file(cls, path: str | None, *, weekends_only_fallback: bool = False) -> WorkCalendar:
        """Read ``{"2027": {"holidays": [...], "makeup_workdays": [...]}}`` (or no file)."""
        if not path:
            return cls(weekends_only_fallback=weekends_only_fallback)
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        overrides = {
            int(year): (
                frozenset(dt.date.fromisoformat(d) for d in spec.get("holidays", [])),
                frozenset(dt.date.fromisoformat(d) for d in spec.get("makeup_workdays", [])),
            )
            for year, spec in data.items()
        }
        return cls(overrides, weekends_only_fallback=weekends_only_fallback)

    def is_working_day(self, day: dt.date) -> bool:
        """True for a working day, make-up workdays included."""
        if day.year in self.overrides:
            holidays, makeup = self.overrides[day.year]
            return day in makeup or (day.weekday() < 5 and day not in holidays)
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if self.weekends_only_fallback:
                return day.weekday() < 5
            raise CalendarYearUnknown(day.year) from None

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` never counts)."""
        day, counted = start, 0
        while counted < days:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day
