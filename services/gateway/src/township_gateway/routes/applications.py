"""Applications (办件): intake and the staff view."""

from __future__ import annotations

from fastapi import APIRouter, Path

from township.permits.v1 import permits_pb2
from township_gateway.auth import CurrentPrincipal, require_roles
from township_gateway.deps import PROBLEM_RESPONSES, IdempotencyKey, ServicesDep, iso
from township_gateway.schemas import (
    ApplicantOut,
    ApplicationOut,
    ApplicationSummaryOut,
    HistoryOut,
    IntakeIn,
    IntakeOut,
    MaterialOut,
)
from township_platform.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["applications"], responses=PROBLEM_RESPONSES)

ID = Path(max_length=36, pattern=r"^[0-9a-fA-F-]{1,36}$")


@router.post("/applications", status_code=201, response_model=IntakeOut)
async def submit_intake(
    body: IntakeIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("clerk", "agent"),
) -> IntakeOut:
    """Unified intake: open the applications of a bundle (or one item), one receipt code."""
    reply = await services.call(
        services.permits.SubmitIntake,
        permits_pb2.SubmitIntakeRequest(
            bundle=body.bundle or "",
            item_code=body.item_code or "",
            applicant=permits_pb2.Applicant(**body.applicant.model_dump()),
            materials=[permits_pb2.Material(**m.model_dump()) for m in body.materials],
            channel=body.channel,
            village=body.village or "",
            applicant_consent=body.applicant_consent,
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return IntakeOut(
        receipt_code=reply.receipt_code,
        applications=[
            ApplicationSummaryOut(
                id=a.id,
                item=a.item_code,
                item_name=a.item_name,
                department=a.department,
                state=a.state,
            )
            for a in reply.applications
        ],
    )


@router.get("/applications/{application_id}", response_model=ApplicationOut)
async def get_application(
    services: ServicesDep,
    principal: CurrentPrincipal,
    application_id: str = ID,
) -> ApplicationOut:
    """One application with its full history (its own township's staff only)."""
    a = await services.call(
        services.permits.GetApplication,
        permits_pb2.GetApplicationRequest(id=application_id),
        principal,
    )
    return ApplicationOut(
        id=a.id,
        township=a.township_id,
        receipt_code=a.receipt_code,
        bundle=a.bundle,
        item=a.item_code,
        item_name=a.item_name,
        department=a.department,
        state=a.state,
        channel=a.channel,
        village=a.village,
        applicant=ApplicantOut(
            name=a.applicant.name,
            id_number=a.applicant.id_number,
            phone=a.applicant.phone,
            kind=a.applicant.kind,
        ),
        materials=[MaterialOut(code=m.code, name=m.name, sha256=m.sha256) for m in a.materials],
        submitted_by=a.submitted_by,
        submitted_at=iso(a.submitted_at),
        history=[
            HistoryOut(
                from_state=h.from_state,
                to_state=h.to_state,
                action=h.action,
                actor=h.actor_sub,
                reason=h.reason,
                at=iso(h.at),
            )
            for h in a.history
        ],
    )
