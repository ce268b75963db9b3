"""Attendance of stationed staff and the quarterly report to their county department."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from township_platform.errors import InvalidArgument

STATUSES = ("present", "absent", "leave", "business_trip")
GRADES = ("excellent", "competent", "basically_competent", "incompetent")


def quarter_range(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter."""
    if not 1 <= quarter <= 4:
        raise InvalidArgument("quarter must be 1..4", field="quarter", rule="1..4")
    if not 2000 <= year <= 2100:
        raise InvalidArgument("year out of range", field="year", rule="2000..2100")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def tally(records: Iterable[tuple[str, str]]) -> dict[str, Counter[str]]:
    """Per person, how many days of each status."""
    out: dict[str, Counter[str]] = {}
    for person, status in records:
        out.setdefault(person, Counter())[status] += 1
    return out
