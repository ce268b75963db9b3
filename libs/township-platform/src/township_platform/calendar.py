"""Working days (工作日) on the official Chinese calendar, including 调休 make-up workdays.

Shared by every service that counts working-day periods (permits' time limits, enforcement's
procedural limits): one calendar, one configuration file, the same answer everywhere.

A day is a working day when it is a make-up workday (调休上班日, usually a Saturday or Sunday
next to a long holiday), or when it is Monday to Friday and not a public holiday (法定节假日).

Each year's schedule comes, in this order, from:

1. the configuration (``CalendarConfig.years``), which replaces the package for that year —
   the State Council publishes next year's schedule each November, often before a package
   release reaches production (the packaged ``calendar.json`` carries such a year);
2. the ``chinese_calendar`` package;
3. plain Monday-to-Friday weeks, only when ``weekends_only_fallback`` is set explicitly.

Otherwise the calendar refuses to guess and raises :class:`CalendarYearUnknown` naming the year:
a wrong deadline is worse than a loud error.

Periods are counted the way Chinese administrative law counts them: the day of the starting
event does not count, counting begins the day after.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Self

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, model_validator

from township_platform.errors import InvalidArgument

_ONE_DAY = dt.timedelta(days=1)


class YearSchedule(BaseModel):
    """One year's official schedule: public holidays and 调休 make-up workdays."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    holidays: frozenset[dt.date] = Field(default_factory=frozenset)
    makeup_workdays: frozenset[dt.date] = Field(default_factory=frozenset)

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        both = self.holidays & self.makeup_workdays
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"days listed both as holiday and make-up workday: {days}")
        return self


class CalendarConfig(BaseModel):
    """Per-year overrides of the package's schedule, and the explicit weekends-only fallback."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    years: dict[int, YearSchedule] = Field(default_factory=dict)
    weekends_only_fallback: bool = False

    @model_validator(mode="after")
    def _dates_in_their_year(self) -> Self:
        for year, schedule in self.years.items():
            stray = [d for d in schedule.holidays | schedule.makeup_workdays if d.year != year]
            if stray:
                days = ", ".join(sorted(d.isoformat() for d in stray))
                raise ValueError(f"year {year} lists days of another year: {days}")
        return self


class ScheduleSource(StrEnum):
    """Where a year's schedule comes from."""

    CONFIGURATION = "configuration"
    PACKAGE = "chinese_calendar"
    WEEKENDS_ONLY = "weekends_only"


class CalendarYearUnknown(InvalidArgument):
    """No schedule for a year: neither the package nor the configuration knows it."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no working-day calendar for {year}: the chinese_calendar package does not cover "
            f"{year} and the configuration gives no holidays or make-up workdays for it; "
            "add the year to the calendar configuration",
            type="calendar-year-unknown",
            field="date",
            rule="calendar year known",
        )
        self.year = year


def _as_date(day: dt.date) -> dt.date:
    # datetime is a subclass of date, but mixing the two breaks comparisons.
    return day.date() if isinstance(day, dt.datetime) else day


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


class WorkCalendar:
    """Answers which days are working days (工作日) and counts periods over them."""

    def __init__(self, config: CalendarConfig | None = None) -> None:
        """Build a calendar from optional per-year overrides."""
        self.config = config or CalendarConfig()
        self._sources: dict[int, ScheduleSource] = {}
        # Per year: prefix[i] = working days from 1 January up to day-of-year i+1 inclusive.
        # Built once per year, so every question below is a lookup (deadline scans and
        # queue pages ask it for many rows; walking day by day was the hot spot).
        self._prefix: dict[int, list[int]] = {}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> WorkCalendar:
        """Build a calendar from plain configuration data (e.g. parsed YAML or JSON)."""
        return cls(CalendarConfig.model_validate(data))

    def source(self, year: int) -> ScheduleSource:
        """Where ``year``'s schedule comes from; CalendarYearUnknown when nowhere."""
        known = self._sources.get(year)
        if known is not None:
            return known
        if year in self.config.years:
            found = ScheduleSource.CONFIGURATION
        elif _package_knows(year):
            found = ScheduleSource.PACKAGE
        elif self.config.weekends_only_fallback:
            found = ScheduleSource.WEEKENDS_ONLY
        else:
            raise CalendarYearUnknown(year)
        self._sources[year] = found
        return found

    def _compute_is_working_day(self, day: dt.date) -> bool:
        source = self.source(day.year)
        if source is ScheduleSource.PACKAGE:
            return bool(chinese_calendar.is_workday(day))
        weekday = day.weekday() < 5
        if source is ScheduleSource.WEEKENDS_ONLY:
            return weekday
        schedule = self.config.years[day.year]
        return day in schedule.makeup_workdays or (weekday and day not in schedule.holidays)

    def _year_prefix(self, year: int) -> list[int]:
        prefix = self._prefix.get(year)
        if prefix is None:
            prefix = []
            count = 0
            day = dt.date(year, 1, 1)
            while day.year == year:
                count += self._compute_is_working_day(day)
                prefix.append(count)
                day += _ONE_DAY
            self._prefix[year] = prefix
        return prefix

    def _through(self, day: dt.date) -> int:
        """Working days from 1 January of ``day``'s year up to ``day`` inclusive."""
        return self._year_prefix(day.year)[day.timetuple().tm_yday - 1]

    def is_working_day(self, day: dt.date) -> bool:
        """True when ``day`` is a working day, make-up workdays included."""
        day = _as_date(day)
        index = day.timetuple().tm_yday - 1
        prefix = self._year_prefix(day.year)
        return prefix[index] - (prefix[index - 1] if index else 0) == 1

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        if days < 0:
            raise InvalidArgument(
                f"cannot add {days} working days", field="days", rule="non-negative"
            )
        day = _as_date(start)
        counted = 0
        while counted < days:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative, by the same count, when end is before start."""
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        if start.year == end.year:
            return self._through(end) - self._through(start)
        total = self._year_prefix(start.year)[-1] - self._through(start)
        for year in range(start.year + 1, end.year):
            total += self._year_prefix(year)[-1]
        return total + self._through(end)

    def next_working_day(self, day: dt.date, *, inclusive: bool = False) -> dt.date:
        """The first working day after ``day`` (or ``day`` itself when inclusive and working)."""
        day = _as_date(day)
        if inclusive and self.is_working_day(day):
            return day
        return self.add_working_days(day, 1)


def calendar_document(path: str | None) -> dict[str, Any]:
    """The calendar file's content (the packaged ``calendar.json`` when ``path`` is empty)."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("township_platform").joinpath("calendar.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_calendar(
    path: str | None, *, weekends_only_fallback: bool = False
) -> tuple[WorkCalendar, list[int]]:
    """The working-day calendar and the years it marks provisional.

    The file is either a bare :class:`CalendarConfig` (``years``,
    ``weekends_only_fallback``) or a document with ``calendar`` holding one, plus an optional
    ``description`` and ``provisional_years`` (logged at start-up as a reminder).
    ``weekends_only_fallback`` switches the fallback on whatever the file says.
    """
    data = calendar_document(path)
    config = CalendarConfig.model_validate(data["calendar"] if "calendar" in data else data)
    if weekends_only_fallback and not config.weekends_only_fallback:
        config = config.model_copy(update={"weekends_only_fallback": True})
    provisional = [int(y) for y in data.get("provisional_years", [])] if "calendar" in data else []
    return WorkCalendar(config), provisional
