"""Events permits publishes (stream ``PERMITS``, subjects ``township.<t>.permits.…``).

Every step of an application emits one event named after it (``application.<verb>``); an
application that reaches a final state — issued and archived (CLOSED), denied (DENIED) or not
accepted (NOT_ACCEPTED) — also emits ``application.closed`` with its outcome and whether it
kept its limits, which personnel turns into points. Deadline scans emit
``deadline.warning``/``deadline.breached`` and ``rectification.overdue`` once each.
"""

from __future__ import annotations

from google.protobuf.message import Message

from township.permits.events.v1 import events_pb2
from township_permits.models import ApplicationRow, RatingRow, RectificationRow
from township_platform.db import UnitOfWork


async def application_submitted(uow: UnitOfWork, app: ApplicationRow) -> str:
    """``permits.application.submitted.v1`` for one opened application."""
    return await uow.emit(
        events_pb2.ApplicationSubmitted(
            application_id=app.id,
            receipt_code=app.receipt_code,
            item_code=app.item_code,
            department=app.department,
            bundle=app.bundle,
            channel=app.channel,
            village=app.village,
            intake_by=app.submitted_by,
        ),
        township=app.township_id,
        entity="application",
        verb="submitted",
    )


async def application_step(uow: UnitOfWork, app: ApplicationRow, verb: str, msg: Message) -> str:
    """``permits.application.<verb>.v1`` for one step of an application."""
    return await uow.emit(msg, township=app.township_id, entity="application", verb=verb)


async def deadline(
    uow: UnitOfWork, app: ApplicationRow, verb: str, msg: events_pb2.DeadlineEvent
) -> str:
    """``permits.deadline.warning.v1`` or ``permits.deadline.breached.v1``."""
    return await uow.emit(msg, township=app.township_id, entity="deadline", verb=verb)


async def rating_submitted(
    uow: UnitOfWork, rating: RatingRow, rectification: RectificationRow | None
) -> str:
    """``permits.rating.submitted.v1``."""
    return await uow.emit(
        events_pb2.RatingSubmitted(
            rating_id=rating.id,
            application_id=rating.application_ids[0] if rating.application_ids else "",
            receipt_code=rating.receipt_code,
            level=rating.level,
            channel=rating.channel,
            responsible=rating.responsible,
            department=rating.departments[0] if rating.departments else "",
            follow_up=rating.follow_up,
            application_ids=rating.application_ids,
            departments=rating.departments,
        ),
        township=rating.township_id,
        entity="rating",
        verb="submitted",
    )


async def rectification_opened(uow: UnitOfWork, rect: RectificationRow, app_id: str) -> str:
    """``permits.rectification.opened.v1``."""
    return await uow.emit(
        events_pb2.RectificationOpened(
            rectification_id=rect.id,
            rating_id=rect.rating_id,
            application_id=app_id,
            responsible=rect.responsible,
            due_date=rect.due_date.isoformat(),
        ),
        township=rect.township_id,
        entity="rectification",
        verb="opened",
    )


async def rectification_closed(uow: UnitOfWork, rect: RectificationRow) -> str:
    """``permits.rectification.closed.v1``."""
    return await uow.emit(
        events_pb2.RectificationClosed(
            rectification_id=rect.id, outcome=rect.outcome, responsible=rect.responsible
        ),
        township=rect.township_id,
        entity="rectification",
        verb="closed",
    )


async def rectification_overdue(uow: UnitOfWork, rect: RectificationRow) -> str:
    """``permits.rectification.overdue.v1``."""
    return await uow.emit(
        events_pb2.RectificationOverdue(
            rectification_id=rect.id,
            responsible=rect.responsible,
            due_date=rect.due_date.isoformat(),
        ),
        township=rect.township_id,
        entity="rectification",
        verb="overdue",
    )
