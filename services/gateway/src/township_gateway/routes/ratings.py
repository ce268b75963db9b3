"""Ratings (好差评) at the window device, and the lists and steps of ratings and
rectifications (整改) for staff."""

from __future__ import annotations

from typing import Literal

from fastapi import Path, Query

from township.common.v1 import common_pb2
from township.permits.v1 import permits_pb2
from township_gateway.auth import require_roles
from township_gateway.deps import PROBLEM_RESPONSES, IdempotencyKey, ServicesDep, iso
from township_gateway.routing import PrefixRouter
from township_gateway.schemas_permits import (
    NoteIn,
    RatingIn,
    RatingOut,
    RatingPageOut,
    RatingReceiptOut,
    RectificationOut,
    RectificationPageOut,
)
from township_platform.principal import Principal

router = PrefixRouter(prefix="/api/v1", tags=["ratings"], responses=PROBLEM_RESPONSES)

ID = Path(max_length=36, pattern=r"^[0-9a-fA-F-]{1,36}$")
CURSOR = Query("", max_length=64, pattern=r"^[0-9a-fA-F-]*$")
SLUG_Q = r"^[a-z][a-z0-9-]{1,30}$"
PERSON_Q = r"^[A-Za-z0-9._:@-]+$"
READERS = require_roles(
    "clerk", "township_admin", "approver", "county_dept", "county_admin", "auditor"
)
RectificationAction = Literal[
    "return-visit", "fix", "explain", "appeal", "uphold-appeal", "reject-appeal"
]


def rating_receipt_out(r: permits_pb2.RatingReceipt) -> RatingReceiptOut:
    """What a rater gets back."""
    return RatingReceiptOut(
        receipt_code=r.receipt_code,
        level=r.level,
        follow_up=r.follow_up,
        rectification_opened=r.rectification_opened,
        rated_at=iso(r.rated_at),
    )


def rating_out(r: permits_pb2.Rating) -> RatingOut:
    """A rating for staff."""
    return RatingOut(
        id=r.id,
        township=r.township_id,
        receipt_code=r.receipt_code,
        application_ids=list(r.application_ids),
        departments=list(r.departments),
        level=r.level,
        channel=r.channel,
        comment=r.comment,
        responsible=r.responsible,
        follow_up=r.follow_up,
        rectification_id=r.rectification_id,
        rated_at=iso(r.rated_at),
    )


def rectification_out(r: permits_pb2.Rectification) -> RectificationOut:
    """A rectification for staff."""
    return RectificationOut(
        id=r.id,
        township=r.township_id,
        rating_id=r.rating_id,
        receipt_code=r.receipt_code,
        responsible=r.responsible,
        departments=list(r.departments),
        state=r.state,
        due_date=r.due_date,
        overdue=r.overdue,
        remaining_working_days=r.remaining_working_days,
        return_visit_note=r.return_visit_note,
        outcome=r.outcome,
        resolution=r.resolution,
        appeal_reason=r.appeal_reason,
        appeal_decision=r.appeal_decision,
        opened_at=iso(r.opened_at),
        closed_at=iso(r.closed_at),
        rating_level=r.rating_level,
        follow_up_level=r.follow_up_level,
    )


@router.post(
    "/ratings",
    status_code=201,
    response_model=RatingReceiptOut,
    summary="Rate at the window device",
)
async def window_rating(
    body: RatingIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("clerk", "agent"),
) -> RatingReceiptOut:
    """The window's rating device (评价仪) records the applicant's rating of an intake of this
    township; a level 1–2 rating opens a rectification."""
    r = await services.call(
        services.permits.SubmitRating,
        permits_pb2.SubmitRatingRequest(
            receipt_code=body.receipt_code, level=body.level, comment=body.comment
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return rating_receipt_out(r)


@router.get("/ratings", response_model=RatingPageOut, summary="Ratings")
async def list_ratings(
    services: ServicesDep,
    principal: Principal = READERS,
    township: str | None = Query(None, pattern=SLUG_Q, description="County users only"),
    department: str | None = Query(None, pattern=SLUG_Q),
    responsible: str | None = Query(None, max_length=128, pattern=PERSON_Q),
    max_level: int | None = Query(None, ge=1, le=5, description="e.g. 2 for bad ratings"),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = CURSOR,
) -> RatingPageOut:
    """Ratings per town, per department or per clerk (the staff member responsible)."""
    reply = await services.call(
        services.permits.ListRatings,
        permits_pb2.ListRatingsRequest(
            page=common_pb2.PageRequest(page_size=page_size, cursor=cursor),
            township_id=township or "",
            department=department or "",
            responsible=responsible or "",
            max_level=max_level or 0,
        ),
        principal,
    )
    return RatingPageOut(
        ratings=[rating_out(r) for r in reply.ratings], next_cursor=reply.page.next_cursor or None
    )


@router.get("/rectifications", response_model=RectificationPageOut, summary="Rectifications")
async def list_rectifications(
    services: ServicesDep,
    principal: Principal = READERS,
    township: str | None = Query(None, pattern=SLUG_Q, description="County users only"),
    department: str | None = Query(None, pattern=SLUG_Q),
    responsible: str | None = Query(None, max_length=128, pattern=PERSON_Q),
    state: Literal["OPEN", "VISITED", "APPEALED", "CLOSED"] | None = None,
    overdue: bool = False,
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = CURSOR,
) -> RectificationPageOut:
    """Rectifications per town, per department or per clerk; ``overdue=true`` for late ones."""
    reply = await services.call(
        services.permits.ListRectifications,
        permits_pb2.ListRectificationsRequest(
            page=common_pb2.PageRequest(page_size=page_size, cursor=cursor),
            township_id=township or "",
            department=department or "",
            responsible=responsible or "",
            state=state or "",
            overdue_only=overdue,
        ),
        principal,
    )
    return RectificationPageOut(
        rectifications=[rectification_out(r) for r in reply.rectifications],
        next_cursor=reply.page.next_cursor or None,
    )


@router.get(
    "/rectifications/{rectification_id}",
    response_model=RectificationOut,
    summary="One rectification",
)
async def get_rectification(
    services: ServicesDep, principal: Principal = READERS, rectification_id: str = ID
) -> RectificationOut:
    """One rectification with its deadline and remaining working days."""
    r = await services.call(
        services.permits.GetRectification,
        permits_pb2.GetRectificationRequest(id=rectification_id),
        principal,
    )
    return rectification_out(r)


@router.post(
    "/rectifications/{rectification_id}/{action}",
    response_model=RectificationOut,
    summary="A step of a rectification",
)
async def act_on_rectification(
    action: RectificationAction,
    body: NoteIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("clerk", "township_admin", "county_admin"),
    rectification_id: str = ID,
) -> RectificationOut:
    """``return-visit`` (回访), then ``fix`` or ``explain`` (closes it); or ``appeal`` (申诉),
    decided by a township or county admin with ``uphold-appeal`` (closes it) or
    ``reject-appeal`` (back to work). Every step records its note."""
    r = await services.call(
        services.permits.ActOnRectification,
        permits_pb2.RectificationActionRequest(
            id=rectification_id, action=action.replace("-", "_"), note=body.note
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return rectification_out(r)
