"""What stationed emits (staff seconded and redeployed, appraisals, disbursements), what it
consumes (personnel's assignment changes of stationed people), and the redeployment job."""

from __future__ import annotations

from datetime import date

from township.common.v1 import common_pb2
from township.personnel.events.v1 import events_pb2 as personnel_events
from township.stationed.events.v1 import events_pb2 as stationed_events
from township_platform import clock
from township_platform.bus import Subscription
from township_platform.db import Database, UnitOfWork
from township_platform.principal import SYSTEM
from township_stationed import repository
from township_stationed.domain.redeployment import step
from township_stationed.models import RedeploymentRow, StaffRow


def history_step(row: RedeploymentRow, to: str, actor: str, note: str = "") -> None:
    """Append a step to a redeployment's history and move it."""
    row.history = [
        *(row.history or []),
        {
            "from": row.state,
            "to": to,
            "actor": actor,
            "note": note,
            "at": clock.now().isoformat(),
        },
    ]
    row.state = to


async def staff_seconded(uow: UnitOfWork, staff: StaffRow, department: str) -> None:
    """stationed.staff.seconded.v1 — personnel registers the person as ``stationed``."""
    await uow.emit(
        stationed_events.StaffSeconded(
            person=staff.person,
            name=staff.name,
            unit_code=staff.unit_code,
            department=department,
            post=staff.post,
            starts_on=staff.seconded_on.isoformat(),
        ),
        township=staff.township_id,
        entity="staff",
        verb="seconded",
    )


async def take_effect(uow: UnitOfWork, row: RedeploymentRow, actor: str) -> None:
    """The person leaves the unit (and joins the target unit, if it is stationed too)."""
    history_step(row, step(row.state, "take_effect"), actor)
    effective = row.effective_on or clock.today()
    staff = await repository.staff(uow.session, row.township_id, row.person, lock=True)
    name = row.person
    if staff is not None and staff.state == "active":
        staff.state, staff.left_on, name = "redeployed", effective, staff.name
    await uow.session.flush()
    await uow.emit(
        stationed_events.StaffRedeployed(
            person=row.person,
            from_unit=row.from_unit,
            to_township=row.to_township,
            to_unit=row.to_unit,
            effective_on=effective.isoformat(),
            redeployment_id=row.id,
        ),
        township=row.township_id,
        entity="staff",
        verb="redeployed",
    )
    if row.to_township and row.to_unit:
        target = await repository.unit(uow.session, row.to_township, row.to_unit)
        if target is not None:
            moved = await repository.staff(uow.session, row.to_township, row.person, lock=True)
            if moved is None:
                moved = StaffRow(
                    township_id=row.to_township,
                    person=row.person,
                    name=name,
                    unit_code=target.code,
                    post="",
                    state="active",
                    seconded_on=effective,
                    left_on=None,
                )
                uow.session.add(moved)
            else:  # back to a town served before, or another unit of the same town
                moved.unit_code, moved.state, moved.left_on = target.code, "active", None
                moved.seconded_on, moved.post = effective, ""
            await uow.session.flush()
            await staff_seconded(uow, moved, target.department)


async def apply_due_redeployments(db: Database) -> None:
    """Periodic job: decided redeployments whose effective date has come take effect."""
    async with db.unit_of_work(SYSTEM, source="stationed") as uow:
        for row in await repository.due_redeployments(uow.session, clock.today()):
            await take_effect(uow, row, "system")


async def on_assignment_changed(
    uow: UnitOfWork,
    envelope: common_pb2.EventEnvelope,
    event: personnel_events.AssignmentChanged,
) -> None:
    """Keep the post of stationed people as personnel assigns it (ended → no post)."""
    staff = await repository.staff(uow.session, envelope.township_id, event.person, lock=True)
    if staff is None:
        return  # not one of ours
    if event.ends_on:
        if staff.post == event.post:
            staff.post = ""
    else:
        staff.post = event.post
    await uow.session.flush()


def personnel_subscription() -> Subscription:
    """stationed ← personnel (assignment changes)."""
    return Subscription(
        stream="PERSONNEL",
        durable="stationed-from-personnel",
        filter_subjects=["township.*.personnel.assignment.changed.v1"],
    ).on(personnel_events.AssignmentChanged, on_assignment_changed)


def parse_date(value: str) -> date | None:
    """An ISO date or None."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
