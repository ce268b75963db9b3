"""The time limits running on a case, as data: which limit, its due date, whether breached.

Natural-day limits (decision 90 days) are due at the end of their last day; working-day
limits count on the :class:`WorkCalendar` — publication in 7 working days, and, since the
law's short periods are working days (第八十五条), service in 7 and retraction in 3; the
transfer clocks (3 days, 24 hours, 3 days) run from the instant their stage began; a scheduled
hearing's day reminds two working days ahead. The kind
names keep their historical "days" wording.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from township_enforcement.domain import cases, transfers
from township_platform.calendar import WorkCalendar


@dataclass(frozen=True, slots=True)
class CaseClocks:
    """What the limits of one case depend on."""

    state: str
    filed_on: dt.date | None
    extensions: tuple[int, ...] = ()
    decision_kind: str = ""
    decided_on: dt.date | None = None
    served_on: dt.date | None = None
    publication: str = ""
    transfer_stage: str = ""
    transfer_since: dt.datetime | None = None
    officers: tuple[str, ...] = field(default_factory=tuple)
    revoked_on: dt.date | None = None
    hearing_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    """One running limit: its kind, due date (ISO), breached now, or close to due (warning)."""

    kind: str
    due: str
    breached: bool
    warning: bool = False


WARN_DAYS = {"decision_90_days": 10}
"""Natural days before the due date from which a limit warns."""
WARN_WORKING_DAYS = 2
"""Working-day limits warn from two working days before the due date."""


def _natural(kind: str, due: dt.date, today: dt.date) -> Limit:
    breached = today > due
    warn = not breached and (due - today).days <= WARN_DAYS.get(kind, 2)
    return Limit(kind, due.isoformat(), breached, warn)


def working_limit(kind: str, due: dt.date, calendar: WorkCalendar, today: dt.date) -> Limit:
    """A working-day limit: warns from two working days before it is due."""
    breached = today > due
    warn = not breached and calendar.add_working_days(today, WARN_WORKING_DAYS) >= due
    return Limit(kind, due.isoformat(), breached, warn)


def case_limits(
    c: CaseClocks, calendar: WorkCalendar, today: dt.date, now: dt.datetime
) -> list[Limit]:
    """Every limit currently running on a case."""
    out: list[Limit] = []
    undecided = c.state in cases.BEFORE_DECISION
    if c.filed_on is not None and undecided:
        out.append(
            _natural(
                "decision_90_days", cases.decision_due(c.filed_on, c.extensions, calendar), today
            )
        )
    if c.decided_on is not None and c.served_on is None and c.state == cases.DECIDED:
        due = calendar.add_working_days(c.decided_on, cases.SERVICE_LIMIT_DAYS)
        out.append(working_limit("service_7_days", due, calendar, today))
    if c.revoked_on is not None and c.publication == "PUBLISHED":
        due = calendar.add_working_days(c.revoked_on, cases.RETRACTION_DAYS)
        out.append(working_limit("retraction_3_days", due, calendar, today))
    if (
        c.decided_on is not None
        and c.decision_kind == "penalty"
        and c.publication == ""
        and c.revoked_on is None
    ):
        due = calendar.add_working_days(c.decided_on, cases.PUBLICATION_WORKING_DAYS)
        out.append(working_limit("publication_7_working_days", due, calendar, today))
    if c.state == cases.HEARING_REQUESTED and c.hearing_on is not None:
        # the day notified to the party: a reminder two working days ahead, and breached
        # when it passes with no hearing (or adjournment, by rescheduling) on the record
        out.append(working_limit("hearing_day", c.hearing_on, calendar, today))
    if c.state == cases.TRANSFERRED and c.transfer_since is not None:
        clock = transfers.due(c.transfer_stage, c.transfer_since)
        if clock is not None:
            kind, at = clock
            left = at - now
            warn = now <= at and left <= (at - c.transfer_since) / 3
            out.append(Limit(kind, at.isoformat(), now > at, warn))
    return out
