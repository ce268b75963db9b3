"""Events personnel consumes: automatic points from other services' facts."""

from __future__ import annotations

from township.common.v1 import common_pb2
from township.permits.events.v1 import events_pb2 as permits_events
from township_personnel import repository
from township_personnel.domain.auto_points import AutoEntry, intake_entry
from township_personnel.models import PointsEntryRow
from township_platform.bus import Subscription
from township_platform.db import UnitOfWork
from township_platform.ids import new_id


async def _record(uow: UnitOfWork, envelope: common_pb2.EventEnvelope, auto: AutoEntry) -> None:
    rule = await repository.rule(uow.session, auto.rule_code)
    if rule is None:
        return  # rule switched off by configuration
    occurred = envelope.occurred_at.ToDatetime()
    await repository.record_entry(
        uow.session,
        PointsEntryRow(
            id=new_id(),
            township_id=envelope.township_id,
            person=auto.person,
            rule_code=rule.code,
            points=rule.points,
            state="AUTO",
            source_event_id=envelope.event_id,
            source_type=envelope.type,
            note="",
            period=occurred.year,
        ),
    )


async def on_application_submitted(
    uow: UnitOfWork,
    envelope: common_pb2.EventEnvelope,
    event: permits_events.ApplicationSubmitted,
) -> None:
    """Credit the clerk or agent who took the intake."""
    auto = intake_entry(event.intake_by)
    if auto is not None:
        await _record(uow, envelope, auto)


def permits_subscription() -> Subscription:
    """personnel ← permits."""
    return Subscription(
        stream="PERMITS",
        durable="personnel-from-permits",
        filter_subjects=["township.*.permits.application.submitted.v1"],
    ).on(permits_events.ApplicationSubmitted, on_application_submitted)
