"""Taking a step of an application inside a unit of work: state, clock, history, events.

Shared by the RPCs (staff actions) and the periodic deadline scan (deemed acceptance), so
both change an application the same way: the domain decides, this module records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from township.permits.events.v1 import events_pb2
from township_permits import events, repository
from township_permits.domain.applications import (
    Action,
    ApplicationState,
    ClockEffect,
    authorise,
    clock_effect,
    transition,
)
from township_permits.domain.deadlines import (
    ApplicationClock,
    LimitKind,
    LimitSpec,
    close_pause,
    deemed_accepted,
    open_pause,
    pauses_from_json,
    pauses_to_json,
)
from township_permits.models import ApplicationRow, HistoryRow, ServiceItemRow
from township_platform import clock
from township_platform.calendar import WorkCalendar
from township_platform.db import UnitOfWork
from township_platform.errors import Conflict, InvalidArgument
from township_platform.principal import Principal


@dataclass
class Runtime:
    """What the handlers need besides the database: calendar and policy settings."""

    calendar: WorkCalendar
    warning_days: int = 2
    rectification_days: int = 15
    towns: set[str] | None = None
    provisional_years: list[int] = field(default_factory=list)
    villages: dict[str, set[str]] = field(default_factory=dict)

    def check_village(self, township: str, village: str) -> None:
        """InvalidArgument unless ``village`` is a configured village of ``township``."""
        known = self.villages.get(township)
        if village and known is not None and village not in known:
            raise InvalidArgument(
                f"{village!r} is not a village of {township}",
                field="village",
                rule="a configured village of the township",
            )


def app_clock(app: ApplicationRow, item: ServiceItemRow) -> ApplicationClock:
    """The application's clock as the domain sees it."""
    received = app.received_on or app.submitted_at.astimezone(clock.CHINA).date()
    return ApplicationClock(
        received_on=received,
        promised=LimitSpec(item.promised_amount, item.promised_unit),
        statutory=LimitSpec(item.statutory_amount, item.statutory_unit),
        pauses=pauses_from_json(app.pauses or []),
        extension_days=app.extension_days or 0,
        decided_on=app.decided_on,
        state=app.state,
        correction_window_from=app.correction_window_from or received,
    )


def refresh_due_dates(
    app: ApplicationRow, item: ServiceItemRow, calendar: WorkCalendar, today: dt.date
) -> None:
    """Store the due dates as of ``today`` (exact while the clock runs) for queue filters."""
    c = app_clock(app, item)
    on = app.decided_on or today
    app.promised_due = c.due(calendar, LimitKind.PROMISED, as_of=on)
    app.statutory_due = c.due(calendar, LimitKind.STATUTORY, as_of=on)


_CLOSING_OUTCOME = {
    ApplicationState.CLOSED: "issued",
    ApplicationState.DENIED: "denied",
    ApplicationState.NOT_ACCEPTED: "not_accepted",
}


async def act(
    uow: UnitOfWork,
    runtime: Runtime,
    app: ApplicationRow,
    item: ServiceItemRow,
    actor: Principal,
    action: str,
    *,
    reason: str = "",
    missing_materials: Sequence[str] = (),
    materials: Sequence[dict[str, Any]] = (),
    deemed: bool = False,
) -> None:
    """Take ``action`` on ``app`` (locked by the caller) as ``actor``; raise and change nothing."""
    calendar = runtime.calendar
    today = clock.today()
    before = ApplicationState(app.state)
    target = transition(before, action, actor, item_department=app.department, reason=reason)
    step = Action(action)
    if step is Action.REQUEST_CORRECTION:
        window_from = app.correction_window_from or app.received_on or today
        if deemed_accepted(app.state, window_from, calendar, today):
            raise Conflict(
                "the 5-working-day window to request correction has passed: the application "
                "counts as accepted",
                type="correction-window-closed",
            )
        known = {m.get("code") for m in (item.guide or {}).get("materials", [])}
        unknown = sorted(set(missing_materials) - known)
        if known and unknown:
            raise InvalidArgument(
                f"not materials of item {item.code}: {', '.join(unknown)}",
                field="missing_materials",
                rule="material codes of the item's service guide",
            )
    if step is Action.RESUBMIT and not materials:
        raise InvalidArgument(
            "a resubmission hands in at least one material",
            field="materials",
            rule="at least one",
        )
    pauses = pauses_from_json(app.pauses or [])
    effect = clock_effect(before, target)
    if effect is ClockEffect.PAUSE:
        pauses = open_pause(pauses, today, reason)
    elif effect is ClockEffect.RESUME:
        pauses = close_pause(pauses, today)
    elif effect is ClockEffect.STOP:
        pauses = close_pause(pauses, today)
        app.decided_on = today
    app.pauses = pauses_to_json(pauses)
    if step is Action.REQUEST_CORRECTION:
        app.missing_materials = list(missing_materials)
    if step is Action.RESUBMIT:
        app.correction_window_from = today
        app.missing_materials = []
        app.materials = [*(app.materials or []), *materials]
    app.state = target.value
    app.updated_at = clock.now()
    refresh_due_dates(app, item, calendar, today)
    repository.add(
        uow.session,
        HistoryRow(
            application_id=app.id,
            township_id=app.township_id,
            from_state=before.value,
            to_state=target.value,
            action=step.value,
            actor_sub=actor.sub,
            reason=reason if not deemed else (reason or "no correction requested in time"),
            at=clock.now(),
        ),
    )
    await uow.session.flush()
    await _emit_step(uow, runtime, app, item, actor, step, reason, missing_materials, deemed)
    if target in _CLOSING_OUTCOME:
        await _emit_closed(uow, runtime, app, item, actor, _CLOSING_OUTCOME[target])


async def extend(
    uow: UnitOfWork,
    runtime: Runtime,
    app: ApplicationRow,
    item: ServiceItemRow,
    actor: Principal,
    days: int,
    reason: str,
) -> None:
    """Lengthen the statutory limit (延期) within what the item allows; approver, with reason."""
    authorise("approve", actor.roles, actor.department, app.department)
    if app.state not in ("ACCEPTED", "IN_REVIEW", "SUSPENDED"):
        raise Conflict(
            f"cannot extend the time limit of an application that is {app.state}",
            type="invalid-transition",
        )
    if not reason.strip():
        raise InvalidArgument("an extension needs a reason", field="reason", rule="required")
    allowed = int((item.guide.get("statutory_extension") or {}).get("amount", 0))
    if allowed <= 0:
        raise Conflict(
            f"item {item.code} allows no extension of its statutory limit",
            type="extension-not-allowed",
        )
    if days <= 0 or (app.extension_days or 0) + days > allowed:
        raise InvalidArgument(
            f"extensions of item {item.code} total at most {allowed} days "
            f"({app.extension_days} used)",
            field="days",
            rule=f"1 to {allowed - (app.extension_days or 0)}",
        )
    app.extension_days = (app.extension_days or 0) + days
    today = clock.today()
    refresh_due_dates(app, item, runtime.calendar, today)
    repository.add(
        uow.session,
        HistoryRow(
            application_id=app.id,
            township_id=app.township_id,
            from_state=app.state,
            to_state=app.state,
            action="extend",
            actor_sub=actor.sub,
            reason=f"+{days} days: {reason}",
            at=clock.now(),
        ),
    )
    await uow.session.flush()
    await events.application_step(
        uow,
        app,
        "extended",
        events_pb2.ApplicationExtended(
            application_id=app.id,
            item_code=app.item_code,
            department=app.department,
            days=days,
            reason=reason,
            by=actor.sub,
            statutory_due_date=app.statutory_due.isoformat() if app.statutory_due else "",
        ),
    )


async def _emit_step(
    uow: UnitOfWork,
    runtime: Runtime,
    app: ApplicationRow,
    item: ServiceItemRow,
    actor: Principal,
    step: Action,
    reason: str,
    missing: Sequence[str],
    deemed: bool,
) -> None:
    promised = app.promised_due.isoformat() if app.promised_due else ""
    statutory = app.statutory_due.isoformat() if app.statutory_due else ""
    common = {"application_id": app.id, "item_code": app.item_code}
    msg: Any
    if step is Action.REQUEST_CORRECTION:
        verb, msg = (
            "correction_requested",
            events_pb2.ApplicationCorrectionRequested(
                **common, missing_materials=list(missing), reason=reason, by=actor.sub
            ),
        )
    elif step is Action.RESUBMIT:
        verb, msg = "resubmitted", events_pb2.ApplicationResubmitted(**common, by=actor.sub)
    elif step is Action.ACCEPT:
        verb, msg = (
            "accepted",
            events_pb2.ApplicationAccepted(
                **common,
                department=app.department,
                by=actor.sub,
                promised_due_date=promised,
                statutory_due_date=statutory,
                deemed=deemed,
            ),
        )
    elif step is Action.NOT_ACCEPT:
        verb, msg = (
            "not_accepted",
            events_pb2.ApplicationNotAccepted(
                **common, department=app.department, reason=reason, by=actor.sub
            ),
        )
    elif step is Action.START_REVIEW:
        verb, msg = (
            "review_started",
            events_pb2.ApplicationReviewStarted(**common, department=app.department, by=actor.sub),
        )
    elif step is Action.SUSPEND:
        verb, msg = (
            "suspended",
            events_pb2.ApplicationSuspended(
                **common, department=app.department, reason=reason, by=actor.sub
            ),
        )
    elif step is Action.RESUME:
        verb, msg = (
            "resumed",
            events_pb2.ApplicationResumed(
                **common,
                department=app.department,
                by=actor.sub,
                promised_due_date=promised,
                statutory_due_date=statutory,
            ),
        )
    elif step in (Action.APPROVE, Action.DENY):
        verb, msg = (
            "decided",
            events_pb2.ApplicationDecided(
                **common,
                department=app.department,
                decision="approved" if step is Action.APPROVE else "denied",
                reason=reason,
                by=actor.sub,
            ),
        )
    elif step is Action.ISSUE:
        verb, msg = "issued", events_pb2.ApplicationIssued(**common, by=actor.sub)
    else:
        return  # CLOSE: only the closed event below
    await events.application_step(uow, app, verb, msg)


async def _emit_closed(
    uow: UnitOfWork,
    runtime: Runtime,
    app: ApplicationRow,
    item: ServiceItemRow,
    actor: Principal,
    outcome: str,
) -> None:
    c = app_clock(app, item)
    decided = app.decided_on or clock.today()
    cal = runtime.calendar
    await events.application_step(
        uow,
        app,
        "closed",
        events_pb2.ApplicationClosed(
            application_id=app.id,
            receipt_code=app.receipt_code,
            item_code=app.item_code,
            department=app.department,
            intake_by=app.submitted_by,
            closed_by=actor.sub,
            within_promised_limit=decided <= c.due(cal, LimitKind.PROMISED, as_of=decided),
            within_statutory_limit=decided <= c.due(cal, LimitKind.STATUTORY, as_of=decided),
            working_days_used=c.working_days_used(cal, decided),
            outcome=outcome,
        ),
    )
