"""The periodic deadline scan: deemed acceptance, deadline warnings and breaches, overdue
rectifications, and the business gauges.

Every step is idempotent: deemed acceptance changes the state (so it happens once), and each
event is recorded in ``deadline_notices`` under a unique (subject, limit kind, event kind)
key before it is emitted. Rows are locked with SKIP LOCKED, so replicas can scan at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable

from township.permits.events.v1 import events_pb2
from township_permits import events, metrics, repository
from township_permits.domain.applications import Action
from township_permits.domain.deadlines import deadline_events_due, deemed_accepted
from township_permits.workflow import Runtime, act, app_clock
from township_platform import clock
from township_platform.db import Database
from township_platform.logging import get_logger
from township_platform.principal import SYSTEM

log = get_logger(__name__)

# Candidates are applications whose stored due date falls within the warning window plus a
# margin. A stored due date is never later than the real one (it is exact while the clock
# runs and only moves later during a pause), so nothing that needs a warning is missed, and
# the bulk of recent submissions, weeks from their due dates, is not looked at every scan.
_MARGIN_WORKING_DAYS = 2
_YIELD_EVERY = 50  # candidates between yields to the event loop (RPCs keep flowing)


async def deemed_acceptance(db: Database, runtime: Runtime, today: dt.date) -> int:
    """Accept, as the system, every submission whose correction window has lapsed."""
    done = 0
    async with db.unit_of_work(SYSTEM, source="permits") as uow:
        candidates = await repository.deemed_acceptance_candidates(
            uow.session, today - dt.timedelta(days=5)
        )
        if not candidates:
            return 0
        items = await repository.items_by_code(uow.session, [a.item_code for a in candidates])
        for app in candidates:
            window_from = app.correction_window_from or app.received_on or today
            if not deemed_accepted(app.state, window_from, runtime.calendar, today):
                continue
            await act(
                uow,
                runtime,
                app,
                items[app.item_code],
                SYSTEM,
                Action.ACCEPT.value,
                reason="no correction requested within 5 working days (视为受理)",
                deemed=True,
            )
            done += 1
    return done


async def deadline_events(db: Database, runtime: Runtime, today: dt.date) -> list[str]:
    """Emit each warning and breach once; returns the towns of new breaches (for metrics)."""
    breached: list[str] = []
    async with db.unit_of_work(SYSTEM, source="permits") as uow:
        s = uow.session
        horizon = runtime.calendar.add_working_days(
            today, runtime.warning_days + _MARGIN_WORKING_DAYS
        )
        candidates = await repository.deadline_candidates(s, horizon, today)
        items = await repository.items_by_code(s, list({a.item_code for a in candidates}))
        for n, app in enumerate(candidates):
            if n % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)
            c = app_clock(app, items[app.item_code])
            for kind, verb, due, remaining in deadline_events_due(
                c, runtime.calendar, today, warning_days=runtime.warning_days
            ):
                if not await repository.record_notice(
                    s, app.id, kind.value, verb, app.township_id, due
                ):
                    continue
                responsible = (
                    await repository.last_reviewer(s, app.id)
                    if app.state == "IN_REVIEW"
                    else app.submitted_by
                )
                await events.deadline(
                    uow,
                    app,
                    verb,
                    events_pb2.DeadlineEvent(
                        application_id=app.id,
                        limit_kind=kind.value,
                        due_date=due.isoformat(),
                        remaining_working_days=remaining,
                        responsible=responsible,
                        department=app.department,
                        item_code=app.item_code,
                    ),
                )
                if verb == "breached":
                    breached.append(app.township_id)
    return breached


async def overdue_rectifications(db: Database, today: dt.date) -> int:
    """Mark rectifications past their due date and emit ``rectification.overdue`` once."""
    count = 0
    async with db.unit_of_work(SYSTEM, source="permits") as uow:
        for rect in await repository.overdue_rectifications(uow.session, today):
            rect.overdue = True
            if await repository.record_notice(
                uow.session, rect.id, "rectification", "overdue", rect.township_id, rect.due_date
            ):
                await events.rectification_overdue(uow, rect)
                count += 1
    return count


async def refresh_gauges(db: Database, today: dt.date) -> None:
    """Set the applications-by-state and overdue gauges from the database."""
    async with db.unit_of_work(SYSTEM, source="permits") as uow:
        counts = await repository.application_counts(uow.session)
        overdue = await repository.overdue_counts(uow.session, today)
    metrics.set_applications(counts, overdue)


def deadline_scan(
    runtime: Runtime, gauges_every: float = 30.0
) -> Callable[[Database], Awaitable[None]]:
    """The job for ``app.every``: one full scan as of ``clock.today()``.

    The business gauges count every application of the county (a full scan at a million
    rows), so they are refreshed every ``gauges_every`` seconds, not on every scan.
    """
    last_gauges = [-gauges_every]

    async def job(db: Database) -> None:
        today = clock.today()
        accepted = await deemed_acceptance(db, runtime, today)
        for town in await deadline_events(db, runtime, today):
            metrics.breach(town)
        overdue = await overdue_rectifications(db, today)
        if time.monotonic() - last_gauges[0] >= gauges_every:
            last_gauges[0] = time.monotonic()
            await refresh_gauges(db, today)
        if accepted or overdue:
            log.info("deadline scan", deemed_accepted=accepted, rectifications_overdue=overdue)

    return job
