"""Rows → proto messages (no I/O, no rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from township.permits.v1 import permits_pb2
from township_permits.domain.applications import allowed_actions
from township_permits.domain.deadlines import deadlines_on
from township_permits.models import (
    ApplicationRow,
    DelegationRow,
    HistoryRow,
    RatingRow,
    RectificationRow,
    ServiceItemRow,
)
from township_permits.workflow import app_clock
from township_platform.calendar import WorkCalendar
from township_platform.principal import Principal


def ts(value: dt.datetime | None) -> Timestamp | None:
    """A datetime as a protobuf Timestamp (None stays unset)."""
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def day(value: dt.date | None) -> str:
    """A date as YYYY-MM-DD ("" for none)."""
    return value.isoformat() if value else ""


def application(
    app: ApplicationRow,
    item: ServiceItemRow,
    calendar: WorkCalendar,
    today: dt.date,
    principal: Principal | None,
    history: list[HistoryRow] | None = None,
) -> permits_pb2.Application:
    """An application with its deadlines as seen today (and its history when given)."""
    d = deadlines_on(app_clock(app, item), calendar, today)
    out = permits_pb2.Application(
        id=app.id,
        township_id=app.township_id,
        receipt_code=app.receipt_code,
        bundle=app.bundle,
        item_code=app.item_code,
        item_name=item.name_zh,
        department=app.department,
        state=app.state,
        channel=app.channel,
        village=app.village,
        applicant=permits_pb2.Applicant(**app.applicant),
        submitted_by=app.submitted_by,
        submitted_at=ts(app.submitted_at),
        promised_limit=permits_pb2.TimeLimit(amount=item.promised_amount, unit=item.promised_unit),
        statutory_limit=permits_pb2.TimeLimit(
            amount=item.statutory_amount, unit=item.statutory_unit
        ),
        received_on=day(app.received_on),
        promised_due_date=day(d.promised_due),
        statutory_due_date=day(d.statutory_due),
        remaining_working_days=d.promised_remaining,
        statutory_remaining_working_days=d.statutory_remaining,
        overdue=d.promised_overdue and app.decided_on is None,
        clock_paused=d.paused,
        correction_deadline=day(d.correction_deadline),
        extension_days=app.extension_days or 0,
        applicant_consent=app.applicant_consent,
        missing_materials=list(app.missing_materials or []),
        decided_on=day(app.decided_on),
        working_days_used=d.working_days_used,
    )
    if principal is not None:
        out.allowed_actions.extend(
            a.value
            for a in allowed_actions(
                app.state, principal.roles, principal.department, app.department
            )
        )
    for m in app.materials or []:
        out.materials.append(permits_pb2.Material(**m))
    for h in history or []:
        out.history.append(
            permits_pb2.HistoryEntry(
                from_state=h.from_state,
                to_state=h.to_state,
                action=h.action,
                actor_sub=h.actor_sub,
                reason=h.reason,
                at=ts(h.at),
            )
        )
    return out


def rating(r: RatingRow, rectification_id: str = "") -> permits_pb2.Rating:
    """A rating as staff see it."""
    return permits_pb2.Rating(
        id=r.id,
        township_id=r.township_id,
        receipt_code=r.receipt_code,
        application_ids=r.application_ids,
        departments=r.departments,
        level=r.level,
        channel=r.channel,
        comment=r.comment,
        responsible=r.responsible,
        follow_up=r.follow_up,
        rectification_id=rectification_id,
        rated_at=ts(r.rated_at),
    )


def rectification(
    r: RectificationRow, calendar: WorkCalendar, today: dt.date
) -> permits_pb2.Rectification:
    """A rectification with its remaining working days."""
    on = r.closed_at.date() if r.closed_at else today
    return permits_pb2.Rectification(
        id=r.id,
        township_id=r.township_id,
        rating_id=r.rating_id,
        receipt_code=r.receipt_code,
        responsible=r.responsible,
        departments=r.departments,
        state=r.state,
        due_date=day(r.due_date),
        overdue=r.overdue or (r.state != "CLOSED" and today > r.due_date),
        remaining_working_days=calendar.working_days_between(on, r.due_date),
        return_visit_note=r.return_visit_note,
        outcome=r.outcome,
        resolution=r.resolution,
        appeal_reason=r.appeal_reason,
        appeal_decision=r.appeal_decision,
        opened_at=ts(r.opened_at),
        closed_at=ts(r.closed_at),
        rating_level=r.rating_level,
        follow_up_level=r.follow_up_level,
    )


def guide(
    item: ServiceItemRow, delegated_level: str = "", department_name: str = ""
) -> permits_pb2.ServiceGuide:
    """A catalogue item with its full service guide."""
    g: dict[str, Any] = item.guide or {}
    ext = g.get("statutory_extension") or {"amount": 0, "unit": item.statutory_unit}
    out = permits_pb2.ServiceGuide(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        type=item.type,
        department=item.department,
        legal_basis=[b for b in item.legal_basis.split("；") if b],
        statutory_limit=permits_pb2.TimeLimit(
            amount=item.statutory_amount, unit=item.statutory_unit
        ),
        promised_limit=permits_pb2.TimeLimit(amount=item.promised_amount, unit=item.promised_unit),
        statutory_extension=permits_pb2.TimeLimit(amount=ext["amount"], unit=ext["unit"]),
        fee=item.fee,
        visits=item.visits,
        channels=list(g.get("channels", [])),
        level=str(g.get("level", "")),
        delegated_level=delegated_level,
        department_name_zh=department_name,
    )
    for m in g.get("materials", []):
        cond = m.get("condition") or {}
        out.materials.append(
            permits_pb2.MaterialRequirement(
                code=m["code"],
                name_zh=m["name"]["zh"],
                name_en=m["name"]["en"],
                form=m["form"],
                count=m["count"],
                required=m["required"],
                condition_zh=cond.get("zh", ""),
                condition_en=cond.get("en", ""),
            )
        )
    for s in g.get("steps", []):
        out.steps.append(permits_pb2.GuideStep(zh=s["zh"], en=s["en"]))
    return out


def delegation(d: DelegationRow) -> permits_pb2.Delegation:
    """A delegation."""
    return permits_pb2.Delegation(
        township_id=d.township_id,
        item_code=d.item_code,
        level=d.level,
        document_no=d.document_no,
        document_title=d.document_title,
        source=d.source,
    )
