"""Periodic jobs: the deadline scan (breach events, once each) and the business gauges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from prometheus_client import Gauge

from township_enforcement import events, repository
from township_enforcement.domain.deadlines import CaseClocks, case_limits
from township_enforcement.models import CaseRow
from township_platform import clock
from township_platform.calendar import WorkCalendar
from township_platform.db import Database
from township_platform.errors import InvalidArgument
from township_platform.logging import get_logger
from township_platform.principal import SYSTEM

log = get_logger(__name__)
WARNING_SUFFIX = ":warning"
"""Suffix of the recorded kind of a warning (a warning and a breach fire once each)."""

CASES_OPEN = Gauge("township_enforcement_cases_open", "Cases not closed or dropped", ["township"])
CASES_PAST_90_DAYS = Gauge(
    "township_enforcement_cases_past_90_days",
    "Undecided cases filed more than 90 days ago",
    ["township"],
)
TRANSFERS_PENDING = Gauge(
    "township_enforcement_transfers_pending",
    "Transfers to criminal justice awaiting a decision or a step",
    ["township"],
)


def case_clocks(case: CaseRow) -> CaseClocks:
    """The values the limits of ``case`` depend on."""
    since = case.transfer.get("since")
    return CaseClocks(
        state=case.state,
        filed_on=case.filed_on,
        extensions=tuple(case.extensions),
        decision_kind=str(case.decision.get("kind", "")),
        decided_on=case.decided_on,
        served_on=case.served_on,
        publication=case.publication,
        transfer_stage=str(case.transfer.get("stage", "")),
        transfer_since=dt.datetime.fromisoformat(since) if since else None,
        officers=tuple(case.officers),
        revoked_on=dt.date.fromisoformat(revoked)
        if (revoked := case.decision.get("revoked_on"))
        else None,
        hearing_on=dt.date.fromisoformat(day) if (day := case.hearing.get("hearing_on")) else None,
    )


def deadline_scan(
    calendar: WorkCalendar, townships: list[str]
) -> Callable[[Database], Awaitable[None]]:
    """The job for ``app.every``: breach events once per subject and limit; gauges."""

    async def scan(db: Database) -> None:
        today, now = clock.today(), clock.now()
        async with db.unit_of_work(SYSTEM, source="enforcement") as uow:
            s = uow.session
            watched = [
                *await repository.open_cases(s),
                *await repository.published_cases_to_watch(s),
            ]
            for case in watched:
                try:
                    limits = case_limits(case_clocks(case), calendar, today, now)
                except InvalidArgument as e:  # a year the calendar does not know
                    log.warning("deadline scan skipped a case", case_id=case.id, error=e.message)
                    continue
                for lim in limits:
                    if not (lim.breached or lim.warning):
                        continue
                    verb = "breached" if lim.breached else "warning"
                    key = lim.kind if lim.breached else f"{lim.kind}{WARNING_SUFFIX}"
                    if await repository.record_breach(
                        s, case.id, key, case.township_id, lim.due, now
                    ):
                        await events.deadline(
                            uow,
                            township=case.township_id,
                            subject="case",
                            subject_id=case.id,
                            kind=lim.kind,
                            due=lim.due,
                            officers=list(case.officers),
                            departments=list(case.departments),
                            verb=verb,
                        )
            for c in await repository.complaints_awaiting_decision(s):
                if today > c.acceptance_due and await repository.record_breach(
                    s,
                    c.id,
                    "complaint_acceptance",
                    c.township_id,
                    c.acceptance_due.isoformat(),
                    now,
                ):
                    await events.deadline(
                        uow,
                        township=c.township_id,
                        subject="complaint",
                        subject_id=c.id,
                        kind="complaint_acceptance",
                        due=c.acceptance_due.isoformat(),
                        officers=[],
                        departments=[],
                    )
            counts = dict.fromkeys(townships, (0, 0, 0))
            for town, open_, past, pending in await repository.case_gauges(s, today):
                if town in counts:
                    counts[town] = (open_, past, pending)
        for town, (open_, past, pending) in counts.items():
            CASES_OPEN.labels(town).set(open_)
            CASES_PAST_90_DAYS.labels(town).set(past)
            TRANSFERS_PENDING.labels(town).set(pending)

    return scan
