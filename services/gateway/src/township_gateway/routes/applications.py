"""Applications (办件): unified intake, each step of the state machine, queues, agent work."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Path, Query
from starlette.responses import Response

from township.common.v1 import common_pb2
from township.permits.v1 import permits_pb2
from township_gateway.auth import CurrentPrincipal, require_roles
from township_gateway.clients import Services
from township_gateway.deps import (
    PROBLEM_RESPONSES,
    FastJSON,
    IdempotencyKey,
    ServicesDep,
    iso,
)
from township_gateway.routing import PrefixRouter
from township_gateway.schemas import (
    ApplicationOut,
    IntakeIn,
    IntakeOut,
)
from township_gateway.schemas_permits import (
    ApplicationPageOut,
    CorrectionIn,
    ExtensionIn,
    OptionalReasonIn,
    ReasonIn,
    ResubmitIn,
)
from township_platform.principal import Principal

router = PrefixRouter(prefix="/api/v1", tags=["applications"], responses=PROBLEM_RESPONSES)

ID = Path(max_length=36, pattern=r"^[0-9a-fA-F-]{1,36}$")
CURSOR = Query("", max_length=64, pattern=r"^[0-9a-fA-F-]*$")
State = Literal[
    "SUBMITTED",
    "CORRECTION_REQUESTED",
    "ACCEPTED",
    "NOT_ACCEPTED",
    "IN_REVIEW",
    "SUSPENDED",
    "APPROVED",
    "DENIED",
    "ISSUED",
    "CLOSED",
]
ChannelQ = Literal["window", "village_room", "online", "agent"]

CLERK = require_roles("clerk")
APPROVER = require_roles("approver")
STAFF = require_roles(
    "clerk", "agent", "approver", "township_admin", "county_dept", "county_admin", "auditor"
)


def application_dict(a: permits_pb2.Application) -> dict[str, Any]:
    """The HTTP view of an application (the shape of ``ApplicationOut``), as plain data.

    Built directly rather than through the pydantic model: validating the model and FastAPI
    validating it again on the way out was a tenth of the gateway's CPU on the busiest read.
    ``tests`` hold this to the model (``ApplicationOut.model_validate`` of it dumps back to
    it), so the documented schema and the answer cannot drift apart.
    """
    applicant = a.applicant
    pl, sl = a.promised_limit, a.statutory_limit
    return {
        "id": a.id,
        "township": a.township_id,
        "receipt_code": a.receipt_code,
        "bundle": a.bundle,
        "item": a.item_code,
        "item_name": a.item_name,
        "department": a.department,
        "state": a.state,
        "channel": a.channel,
        "village": a.village,
        "applicant": {
            "name": applicant.name,
            "id_number": applicant.id_number,
            "phone": applicant.phone,
            "kind": applicant.kind,
        },
        "materials": [{"code": m.code, "name": m.name, "sha256": m.sha256} for m in a.materials],
        "submitted_by": a.submitted_by,
        "submitted_at": iso(a.submitted_at),
        "history": [
            {
                "from_state": h.from_state,
                "to_state": h.to_state,
                "action": h.action,
                "actor": h.actor_sub,
                "reason": h.reason,
                "at": iso(h.at),
            }
            for h in a.history
        ],
        "applicant_consent": a.applicant_consent,
        "missing_materials": list(a.missing_materials),
        "deadlines": {
            "promised_limit": {"amount": pl.amount, "unit": pl.unit},
            "statutory_limit": {"amount": sl.amount, "unit": sl.unit},
            "received_on": a.received_on,
            "promised_due_date": a.promised_due_date,
            "statutory_due_date": a.statutory_due_date,
            "remaining_working_days": a.remaining_working_days,
            "statutory_remaining_working_days": a.statutory_remaining_working_days,
            "overdue": a.overdue,
            "clock_paused": a.clock_paused,
            "correction_deadline": a.correction_deadline,
            "extension_days": a.extension_days,
            "decided_on": a.decided_on,
            "working_days_used": a.working_days_used,
        },
        "allowed_actions": list(a.allowed_actions),
    }


def application_out(a: permits_pb2.Application) -> ApplicationOut:
    """The HTTP view of an application, as the model."""
    return ApplicationOut.model_validate(application_dict(a))


# The busiest route first: FastAPI tries an included router's routes in order (twice for
# the router that holds the match), a few microseconds each.
@router.get(
    "/applications/{application_id}", response_model=ApplicationOut, summary="One application"
)
async def get_application(
    services: ServicesDep,
    principal: CurrentPrincipal,
    application_id: str = ID,
) -> Response:
    """One application with its full history, deadlines and what the caller may do next."""
    a = await services.call(
        services.permits.GetApplication,
        permits_pb2.GetApplicationRequest(id=application_id),
        principal,
    )
    return FastJSON(application_dict(a))


@router.post("/applications", status_code=201, response_model=IntakeOut, summary="Unified intake")
async def submit_intake(
    body: IntakeIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("clerk", "agent"),
) -> Response:
    """Unified intake: open the applications of a bundle (or one item), one receipt code.

    Clerks take intakes at the window or in a village room; agent cadres (帮办代办) file on
    the applicant's behalf with ``channel=agent`` and ``applicant_consent=true``. The item
    must be delegated to the caller's township (to its villages for village-level users)
    and offered through the channel.
    """
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
    return FastJSON(
        {
            "receipt_code": reply.receipt_code,
            "applications": [
                {
                    "id": a.id,
                    "item": a.item_code,
                    "item_name": a.item_name,
                    "department": a.department,
                    "state": a.state,
                }
                for a in reply.applications
            ],
        },
        status_code=201,
    )


async def _list(
    services: Services,
    principal: Principal,
    *,
    page_size: int,
    cursor: str,
    states: list[str] | None = None,
    item: str | None = None,
    overdue: bool = False,
    channel: str | None = None,
    village: str | None = None,
    intake_by: str | None = None,
    department: str | None = None,
    township: str | None = None,
    receipt_code: str | None = None,
) -> Response:
    reply = await services.call(
        services.permits.ListApplications,
        permits_pb2.ListApplicationsRequest(
            page=common_pb2.PageRequest(page_size=page_size, cursor=cursor),
            states=states or [],
            item_code=item or "",
            overdue_only=overdue,
            channel=channel or "",
            village=village or "",
            intake_by=intake_by or "",
            department=department or "",
            township_id=township or "",
            receipt_code=receipt_code or "",
        ),
        principal,
    )
    return FastJSON(
        {
            "applications": [application_dict(a) for a in reply.applications],
            "next_cursor": reply.page.next_cursor or None,
        }
    )


@router.get("/applications", response_model=ApplicationPageOut, summary="Queue of applications")
async def list_applications(
    services: ServicesDep,
    principal: Principal = STAFF,
    state: Annotated[list[State] | None, Query(max_length=10)] = None,
    item: str | None = Query(None, pattern=r"^(XK|GG|QT)-\d{5}-\d{3}$"),
    overdue: bool = Query(False, description="Only undecided ones past their promised due date"),
    channel: ChannelQ | None = None,
    village: str | None = Query(None, pattern=r"^[a-z][a-z0-9-]{1,30}$"),
    intake_by: str | None = Query(None, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$"),
    department: str | None = Query(
        None, pattern=r"^[a-z][a-z0-9-]{1,30}$", description="County admins and auditors only"
    ),
    township: str | None = Query(
        None, pattern=r"^[a-z][a-z0-9-]{1,30}$", description="County users only"
    ),
    receipt_code: str | None = Query(None, pattern=r"^[A-Z0-9]{6,32}$"),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = CURSOR,
) -> Response:
    """Queues, oldest intake first, with cursor pagination.

    Township staff see their own town (village staff their village); a county department's
    approvers see their department's applications across towns (categorised approval);
    county admins and auditors see everything.
    """
    return await _list(
        services,
        principal,
        page_size=page_size,
        cursor=cursor,
        states=list(state or []),
        item=item,
        overdue=overdue,
        channel=channel,
        village=village,
        intake_by=intake_by,
        department=department,
        township=township,
        receipt_code=receipt_code,
    )


@router.get("/agent/applications", response_model=ApplicationPageOut, summary="An agent's own work")
async def agent_work(
    services: ServicesDep,
    principal: Principal = require_roles("agent"),
    state: Annotated[list[State] | None, Query(max_length=10)] = None,
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = CURSOR,
) -> Response:
    """The applications the calling agent cadre (帮办代办) filed on applicants' behalf."""
    return await _list(
        services,
        principal,
        page_size=page_size,
        cursor=cursor,
        states=list(state or []),
        channel="agent",
        intake_by=principal.sub,
    )


async def _act(
    services: Services,
    principal: Principal,
    application_id: str,
    action: str,
    key: str | None,
    **fields: Any,
) -> Response:
    reply = await services.call(
        services.permits.Act,
        permits_pb2.ActRequest(id=application_id, action=action, **fields),
        principal,
        idempotency_key=key,
    )
    return FastJSON(application_dict(reply))


@router.post(
    "/applications/{application_id}/request-correction",
    response_model=ApplicationOut,
    summary="Request a correction (补正)",
)
async def request_correction(
    body: CorrectionIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = CLERK,
    application_id: str = ID,
) -> Response:
    """Clerk: list the missing materials once (within 5 working days); the clock pauses."""
    return await _act(
        services,
        principal,
        application_id,
        "request_correction",
        idempotency_key,
        reason=body.reason,
        missing_materials=body.missing_materials,
    )


@router.post(
    "/applications/{application_id}/resubmit",
    response_model=ApplicationOut,
    summary="Hand in the missing materials",
)
async def resubmit(
    body: ResubmitIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("clerk", "agent"),
    application_id: str = ID,
) -> Response:
    """Clerk or agent: the corrected file is back; the clock runs again."""
    return await _act(
        services,
        principal,
        application_id,
        "resubmit",
        idempotency_key,
        reason=body.reason,
        materials=[permits_pb2.Material(**m.model_dump()) for m in body.materials],
    )


def _simple(action: str, summary: str, doc: str, roles: Any, body_model: type) -> None:
    """Register ``POST /applications/{id}/<action>`` for a step with only a reason."""
    optional = body_model is OptionalReasonIn

    async def endpoint(
        services: ServicesDep,
        body: Any = Body(None) if optional else Body(),
        idempotency_key: IdempotencyKey = None,
        principal: Principal = roles,
        application_id: str = ID,
    ) -> Response:
        reason = body.reason if body is not None else ""
        return await _act(
            services, principal, application_id, action, idempotency_key, reason=reason
        )

    # The body model differs per step; FastAPI reads it from the annotations.
    endpoint.__annotations__["body"] = (body_model | None) if optional else body_model
    endpoint.__doc__ = doc
    endpoint.__name__ = action
    router.add_api_route(
        f"/applications/{{application_id}}/{action.replace('_', '-')}",
        endpoint,
        methods=["POST"],
        response_model=ApplicationOut,
        summary=summary,
        description=doc,
        name=action,
    )


_simple("accept", "Accept (受理)", "Clerk: accept the complete file.", CLERK, OptionalReasonIn)
_simple(
    "not_accept",
    "Refuse to accept (不予受理)",
    "Clerk: refuse the application, with the reason; final.",
    CLERK,
    ReasonIn,
)
_simple(
    "start_review",
    "Start the review",
    "Approver of the item's competent department: take the file into review.",
    APPROVER,
    OptionalReasonIn,
)
_simple(
    "suspend",
    "Suspend (中止)",
    "Approver of the competent department: suspend, with the reason; the clock pauses.",
    APPROVER,
    ReasonIn,
)
_simple(
    "resume",
    "Resume",
    "Approver of the competent department: resume the review; the clock runs again.",
    APPROVER,
    OptionalReasonIn,
)
_simple(
    "approve",
    "Approve (准予)",
    "Approver of the competent department: decide in favour.",
    APPROVER,
    OptionalReasonIn,
)
_simple(
    "deny",
    "Deny (不予许可)",
    "Approver of the competent department: refuse, with the reason; final.",
    APPROVER,
    ReasonIn,
)
_simple(
    "issue",
    "Issue (送达)",
    "Clerk or competent approver: hand over the licence or certificate.",
    require_roles("clerk", "approver"),
    OptionalReasonIn,
)
_simple(
    "close",
    "Close (办结归档)",
    "Clerk: archive the issued file.",
    CLERK,
    OptionalReasonIn,
)


@router.post(
    "/applications/{application_id}/extend",
    response_model=ApplicationOut,
    summary="Extend the statutory limit (延期)",
)
async def extend(
    body: ExtensionIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = APPROVER,
    application_id: str = ID,
) -> Response:
    """Approver of the competent department: lengthen the statutory limit, with a reason,
    within what the item allows (licensing: +10 working days)."""
    reply = await services.call(
        services.permits.ExtendTimeLimit,
        permits_pb2.ExtendTimeLimitRequest(id=application_id, days=body.days, reason=body.reason),
        principal,
        idempotency_key=idempotency_key,
    )
    return FastJSON(application_dict(reply))
