"""Events enforcement publishes (stream ``ENFORCEMENT``, ``township.<t>.enforcement.…``).

Joint enforcement: case events carry the participating county departments, so a
department's own systems can follow the cases it takes part in without calling us.
"""

from __future__ import annotations

from township.enforcement.events.v1 import events_pb2
from township_enforcement.models import CaseRow, ComplaintRow
from township_platform.db import UnitOfWork


async def complaint(uow: UnitOfWork, c: ComplaintRow, verb: str, by: str = "") -> str:
    """``enforcement.complaint.received|accepted|rejected.v1`` (no personal data)."""
    return await uow.emit(
        events_pb2.ComplaintEvent(
            complaint_id=c.id,
            service_code=c.service_code,
            channel=c.channel,
            reason=c.reason if verb == "rejected" else "",
            by=by,
            case_id=c.case_id or "",
        ),
        township=c.township_id,
        entity="complaint",
        verb=verb,
    )


async def case_filed(uow: UnitOfWork, case: CaseRow) -> str:
    """``enforcement.case.filed.v1``."""
    return await uow.emit(
        events_pb2.CaseFiled(
            case_id=case.id,
            item_code=case.item_code,
            officers=list(case.officers),
            departments=list(case.departments),
            filed_on=case.filed_on.isoformat() if case.filed_on else "",
        ),
        township=case.township_id,
        entity="case",
        verb="filed",
    )


async def case_decided(uow: UnitOfWork, case: CaseRow) -> str:
    """``enforcement.case.decided.v1``."""
    return await uow.emit(
        events_pb2.CaseDecided(
            case_id=case.id,
            item_code=case.item_code,
            decision=str(case.decision.get("kind", "")),
            fine=str(case.decision.get("fine", "")),
            departments=list(case.departments),
        ),
        township=case.township_id,
        entity="case",
        verb="decided",
    )


async def case_closed(uow: UnitOfWork, case: CaseRow, within_deadline: bool) -> str:
    """``enforcement.case.closed.v1``: personnel credits the officers."""
    return await uow.emit(
        events_pb2.CaseClosed(
            case_id=case.id,
            item_code=case.item_code,
            officers=list(case.officers),
            within_deadline=within_deadline,
            departments=list(case.departments),
            case_no=case.case_no,
            outcome=case.outcome,
        ),
        township=case.township_id,
        entity="case",
        verb="closed",
    )


async def case_transferred(uow: UnitOfWork, case: CaseRow, stage: str) -> str:
    """``enforcement.case.transferred.v1`` at every stage of 行刑衔接."""
    return await uow.emit(
        events_pb2.CaseTransferred(
            case_id=case.id,
            item_code=case.item_code,
            stage=stage,
            departments=list(case.departments),
        ),
        township=case.township_id,
        entity="case",
        verb="transferred",
    )


async def decision_publicity(uow: UnitOfWork, case: CaseRow, verb: str) -> str:
    """``enforcement.decision.published|retracted.v1``."""
    return await uow.emit(
        events_pb2.DecisionPublicity(
            case_id=case.id, decision_no=str(case.decision.get("decision_no", ""))
        ),
        township=case.township_id,
        entity="decision",
        verb=verb,
    )


async def deadline(
    uow: UnitOfWork,
    *,
    township: str,
    subject: str,
    subject_id: str,
    kind: str,
    due: str,
    officers: list[str],
    departments: list[str],
    verb: str = "breached",
) -> str:
    """``enforcement.deadline.breached|warning.v1``."""
    return await uow.emit(
        events_pb2.DeadlineEvent(
            case_id=subject_id,
            limit_kind=kind,
            due_date=due,
            officers=officers,
            subject=subject,
            departments=departments,
        ),
        township=township,
        entity="deadline",
        verb=verb,
    )
