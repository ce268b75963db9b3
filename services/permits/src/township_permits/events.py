"""Events permits publishes (stream ``PERMITS``, subjects ``township.<t>.permits.…``)."""

from __future__ import annotations

from township.permits.events.v1 import events_pb2
from township_permits.models import ApplicationRow
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
