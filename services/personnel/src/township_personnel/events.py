"""What personnel emits, and what it consumes: automatic points from other services' facts,
and the stationed staff that the stationed-units service seconds or redeploys."""

from __future__ import annotations

from datetime import date, timedelta

from township.common.v1 import common_pb2
from township.enforcement.events.v1 import events_pb2 as enforcement_events
from township.permits.events.v1 import events_pb2 as permits_events
from township.personnel.events.v1 import events_pb2 as personnel_events
from township.stationed.events.v1 import events_pb2 as stationed_events
from township_personnel import repository
from township_personnel.domain import auto_points
from township_personnel.domain.auto_points import AutoEntry
from township_personnel.domain.ledger import capped_points
from township_personnel.domain.periods import is_locked
from township_personnel.models import AssignmentRow, PersonRow, PointsEntryRow
from township_platform import clock
from township_platform.bus import Subscription
from township_platform.db import UnitOfWork
from township_platform.ids import new_id
from township_platform.logging import get_logger

log = get_logger(__name__)


# emitted ---------------------------------------------------------------------------------
async def points_recorded(uow: UnitOfWork, entry: PointsEntryRow) -> None:
    """personnel.points.recorded.v1 — an entry was created or changed state."""
    await uow.emit(
        personnel_events.PointsRecorded(
            entry_id=entry.id,
            person=entry.person,
            rule_code=entry.rule_code,
            points=str(entry.points),
            state=entry.state,
        ),
        township=entry.township_id,
        entity="points",
        verb="recorded",
    )


async def assignment_changed(uow: UnitOfWork, row: AssignmentRow, status: str) -> None:
    """personnel.assignment.changed.v1 — a person started or ended a post."""
    await uow.emit(
        personnel_events.AssignmentChanged(
            person=row.person,
            post=row.post,
            status=status,
            starts_on=row.starts_on.isoformat(),
            ends_on=row.ends_on.isoformat() if row.ends_on else "",
        ),
        township=row.township_id,
        entity="assignment",
        verb="changed",
    )


async def end_assignment(
    uow: UnitOfWork, row: AssignmentRow, ends_on: date, reason: str, status: str
) -> None:
    """Close an assignment (never before it started) and tell the others."""
    row.ends_on = max(ends_on, row.starts_on)
    row.end_reason = reason[:200]
    await uow.session.flush()
    await assignment_changed(uow, row, status)


async def start_assignment(
    uow: UnitOfWork, township: str, person: PersonRow, post: str, starts_on: date
) -> AssignmentRow:
    """Give a person a post from ``starts_on``, ending their current one the day before."""
    current = await repository.current_assignment(uow.session, township, person.sub)
    if current is not None:
        await end_assignment(
            uow, current, starts_on - timedelta(days=1), f"moved to {post}", person.status
        )
    row = AssignmentRow(
        id=new_id(),
        township_id=township,
        person=person.sub,
        post=post,
        starts_on=starts_on,
        ends_on=None,
        end_reason="",
    )
    await repository.add(uow.session, row)
    await assignment_changed(uow, row, person.status)
    return row


# consumed: automatic points --------------------------------------------------------------
# One statement reads what an automatic entry depends on (the rule, the period's state,
# share-locked against finalising, and the rule's running total for the cap), one inserts
# it: plain SQL on the unit of work's connection, since this runs for every intake, case
# and rating of the county (through the ORM it cost ~7 ms of CPU per event).
_AUTO_CONTEXT = """
SELECT r.code, r.points, r.cap_per_period,
       (SELECT p.state FROM periods p
         WHERE p.township_id = $2 AND p.year = $3 FOR SHARE) AS period_state,
       coalesce((SELECT t.total FROM points_rule_totals t
                  WHERE t.township_id = $2 AND t.person = $4 AND t.rule_code = r.code
                    AND t.period = $3), 0) AS already
  FROM points_rules r WHERE r.code = $1
"""
# ``already`` is the running total the database keeps by trigger (see repository.rule_total)

_INSERT_AUTO = """
INSERT INTO points_entries (id, township_id, person, rule_code, points, state,
                            source_event_id, source_type, note, period, evidence,
                            claimed_by, decided_by, reason, appeal_reason, appealed_from)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]', '', '', '', '', '')
ON CONFLICT ON CONSTRAINT uq_points_event_rule DO NOTHING
RETURNING id
"""


async def _record(uow: UnitOfWork, envelope: common_pb2.EventEnvelope, auto: AutoEntry) -> None:
    township = envelope.township_id
    year = envelope.occurred_at.ToDatetime().astimezone(clock.CHINA).year
    ctx = await uow.driver.fetchrow(_AUTO_CONTEXT, auto.rule_code, township, year, auto.person)
    if ctx is None:
        return  # rule switched off by configuration
    state = "AUTO"
    note = ""
    if is_locked(ctx["period_state"]):
        state, note = "LATE", f"period {year} was already final; kept for the record only"
    points = capped_points(ctx["cap_per_period"], ctx["already"], ctx["points"])
    if points != ctx["points"]:
        note = f"cap of {ctx['cap_per_period']} per period reached"
    entry = PointsEntryRow(
        id=new_id(),
        township_id=township,
        person=auto.person,
        rule_code=ctx["code"],
        points=points,
        state=state,
        source_event_id=envelope.event_id,
        source_type=envelope.type,
        note=note,
        period=year,
    )
    # The unique key (event, rule, person) backs the inbox: one entry per event, ever.
    inserted = await uow.driver.fetchval(
        _INSERT_AUTO,
        entry.id,
        township,
        entry.person,
        entry.rule_code,
        points,
        state,
        entry.source_event_id,
        entry.source_type,
        note,
        year,
    )
    if inserted is not None:
        await points_recorded(uow, entry)


async def _record_all(
    uow: UnitOfWork, envelope: common_pb2.EventEnvelope, autos: list[AutoEntry]
) -> None:
    for auto in autos:
        await _record(uow, envelope, auto)


async def on_application_submitted(
    uow: UnitOfWork,
    envelope: common_pb2.EventEnvelope,
    event: permits_events.ApplicationSubmitted,
) -> None:
    """Credit the clerk or agent who took the intake."""
    auto = auto_points.intake_entry(event.intake_by)
    if auto is not None:
        await _record(uow, envelope, auto)


async def on_application_closed(
    uow: UnitOfWork, envelope: common_pb2.EventEnvelope, event: permits_events.ApplicationClosed
) -> None:
    """Credit completion within the promised limit."""
    await _record_all(
        uow,
        envelope,
        auto_points.closed_entries(
            intake_by=event.intake_by,
            closed_by=event.closed_by,
            within_promised_limit=event.within_promised_limit,
            outcome=event.outcome,
        ),
    )


async def on_rating_submitted(
    uow: UnitOfWork, envelope: common_pb2.EventEnvelope, event: permits_events.RatingSubmitted
) -> None:
    """Deduct for a bad rating (levels 1-2)."""
    await _record_all(
        uow, envelope, auto_points.rating_entries(level=event.level, responsible=event.responsible)
    )


async def on_rectification_overdue(
    uow: UnitOfWork,
    envelope: common_pb2.EventEnvelope,
    event: permits_events.RectificationOverdue,
) -> None:
    """Deduct for an overdue rectification."""
    await _record_all(
        uow, envelope, auto_points.rectification_overdue_entries(responsible=event.responsible)
    )


async def on_case_closed(
    uow: UnitOfWork, envelope: common_pb2.EventEnvelope, event: enforcement_events.CaseClosed
) -> None:
    """Credit each officer of a closed case."""
    await _record_all(uow, envelope, auto_points.case_closed_entries(officers=list(event.officers)))


# consumed: stationed staff ---------------------------------------------------------------
def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return clock.today()


async def on_staff_seconded(
    uow: UnitOfWork, envelope: common_pb2.EventEnvelope, event: stationed_events.StaffSeconded
) -> None:
    """Register a seconded person as ``stationed`` staff (and give them their post, if any)."""
    township = envelope.township_id
    await repository.upsert_person(
        uow.session, township, event.person, event.name or event.person, "stationed"
    )
    if event.post and await repository.post(uow.session, township, event.post):
        person = await repository.person(uow.session, township, event.person)
        assert person is not None
        await start_assignment(uow, township, person, event.post, _date(event.starts_on))


async def on_staff_redeployed(
    uow: UnitOfWork, envelope: common_pb2.EventEnvelope, event: stationed_events.StaffRedeployed
) -> None:
    """A redeployed person leaves: their current assignment ends on the effective date."""
    township = envelope.township_id
    current = await repository.current_assignment(uow.session, township, event.person)
    if current is None:
        log.info("redeployed person had no current assignment", person=event.person)
        return
    target = f"{event.to_township}/{event.to_unit}".strip("/")
    await end_assignment(
        uow,
        current,
        _date(event.effective_on),
        f"redeployed ({event.redeployment_id}) to {target or 'the county department'}",
        "stationed",
    )


def permits_subscription() -> Subscription:
    """personnel ← permits (intake, on-time completion, bad ratings, overdue rectifications)."""
    return (
        Subscription(
            stream="PERMITS",
            durable="personnel-points-from-permits",
            filter_subjects=[
                "township.*.permits.application.submitted.v1",
                "township.*.permits.application.closed.v1",
                "township.*.permits.rating.submitted.v1",
                "township.*.permits.rectification.overdue.v1",
            ],
        )
        # automatic points are plain SQL on uow.driver: lean units of work
        .on(permits_events.ApplicationSubmitted, on_application_submitted, lean=True)
        .on(permits_events.ApplicationClosed, on_application_closed, lean=True)
        .on(permits_events.RatingSubmitted, on_rating_submitted, lean=True)
        .on(permits_events.RectificationOverdue, on_rectification_overdue, lean=True)
    )


def enforcement_subscription() -> Subscription:
    """personnel ← enforcement (closed cases)."""
    return Subscription(
        stream="ENFORCEMENT",
        durable="personnel-points-from-enforcement",
        filter_subjects=["township.*.enforcement.case.closed.v1"],
    ).on(enforcement_events.CaseClosed, on_case_closed, lean=True)


def stationed_subscription() -> Subscription:
    """personnel ← stationed (staff seconded and redeployed)."""
    return (
        Subscription(
            stream="STATIONED",
            durable="personnel-from-stationed",
            filter_subjects=[
                "township.*.stationed.staff.seconded.v1",
                "township.*.stationed.staff.redeployed.v1",
            ],
        )
        .on(stationed_events.StaffSeconded, on_staff_seconded)
        .on(stationed_events.StaffRedeployed, on_staff_redeployed)
    )
