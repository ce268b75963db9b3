"""Public permits endpoints (no token): catalogue, guides, application status."""

from __future__ import annotations

from fastapi import Path, Query

from township.permits.v1 import permits_pb2
from township_gateway.deps import PROBLEM_RESPONSES, IdempotencyKey, ServicesDep, iso
from township_gateway.routes.catalogue import guide_out
from township_gateway.routes.ratings import rating_receipt_out
from township_gateway.routing import PrefixRouter
from township_gateway.schemas import (
    CatalogueItemOut,
    CatalogueOut,
    PublicPartOut,
    PublicStatusOut,
    TimeLimitOut,
)
from township_gateway.schemas_permits import RatingIn, RatingReceiptOut, ServiceGuideOut

router = PrefixRouter(prefix="/public/v1", tags=["public"], responses=PROBLEM_RESPONSES)

SLUG = Path(pattern=r"^[a-z][a-z0-9-]{1,30}$")
RECEIPT = Path(pattern=r"^[A-Z0-9]{6,32}$")
ITEM = Path(pattern=r"^(XK|GG|QT)-\d{5}-\d{3}$")


@router.get(
    "/applications/{receipt_code}",
    response_model=PublicStatusOut,
    summary="Public status by receipt code",
)
async def public_status(services: ServicesDep, receipt_code: str = RECEIPT) -> PublicStatusOut:
    """Status of every part of an intake by its receipt code (masked name only)."""
    s = await services.call(
        services.permits.GetPublicStatus,
        permits_pb2.GetPublicStatusRequest(receipt_code=receipt_code),
    )
    return PublicStatusOut(
        receipt_code=s.receipt_code,
        township=s.township_id,
        bundle=s.bundle,
        status=s.state,
        parts=[
            PublicPartOut(
                item=p.item_code,
                item_name=p.item_name,
                department=p.department,
                state=p.state,
                promised_due_date=p.promised_due_date,
                remaining_working_days=p.remaining_working_days,
            )
            for p in s.parts
        ],
        submitted_at=iso(s.submitted_at),
        applicant=s.applicant_masked,
        rated=s.rated,
        follow_up_rating_open=s.follow_up_rating_open,
    )


@router.get(
    "/townships/{township}/catalogue",
    response_model=CatalogueOut,
    summary="A township's catalogue",
)
async def catalogue(
    services: ServicesDep,
    township: str = SLUG,
    village: str | None = Query(
        None,
        pattern=r"^[a-z][a-z0-9-]{1,30}$",
        description="Only the items delegated down to village service rooms",
    ),
) -> CatalogueOut:
    """The licensing and public-service items delegated to a township (or its villages)."""
    c = await services.call(
        services.permits.ListCatalogue,
        permits_pb2.ListCatalogueRequest(township_id=township, village=village or ""),
    )
    return CatalogueOut(
        township=c.township_id,
        items=[
            CatalogueItemOut(
                code=i.code,
                name_zh=i.name_zh,
                name_en=i.name_en,
                type=i.type,
                department=i.department,
                level=i.level,
                statutory_limit=TimeLimitOut(
                    amount=i.statutory_limit.amount, unit=i.statutory_limit.unit
                ),
                promised_limit=TimeLimitOut(
                    amount=i.promised_limit.amount, unit=i.promised_limit.unit
                ),
                fee=i.fee,
                visits=i.visits,
            )
            for i in c.items
        ],
    )


@router.get(
    "/townships/{township}/catalogue/{item_code}",
    response_model=ServiceGuideOut,
    summary="A service guide as a township offers it",
)
async def township_guide(
    services: ServicesDep, township: str = SLUG, item_code: str = ITEM
) -> ServiceGuideOut:
    """What to bring, the steps and the time limits of an item delegated to the township."""
    g = await services.call(
        services.permits.GetServiceGuide,
        permits_pb2.GetServiceGuideRequest(code=item_code, township_id=township),
    )
    return guide_out(g)


@router.get("/items/{item_code}", response_model=ServiceGuideOut, summary="A service guide")
async def guide(services: ServicesDep, item_code: str = ITEM) -> ServiceGuideOut:
    """The county catalogue's service guide (办事指南) of one item."""
    g = await services.call(
        services.permits.GetServiceGuide, permits_pb2.GetServiceGuideRequest(code=item_code)
    )
    return guide_out(g)


@router.post(
    "/ratings",
    status_code=201,
    response_model=RatingReceiptOut,
    summary="Rate a service (好差评) by receipt code",
)
async def public_rating(
    body: RatingIn, services: ServicesDep, idempotency_key: IdempotencyKey = None
) -> RatingReceiptOut:
    """Rate an intake 1 (very bad) to 5 (very good) with its receipt code; one rating, and one
    follow-up after a bad rating's rectification is closed. Nothing about staff or the
    applicant is returned."""
    r = await services.call(
        services.permits.SubmitRating,
        permits_pb2.SubmitRatingRequest(
            receipt_code=body.receipt_code, level=body.level, comment=body.comment
        ),
        idempotency_key=idempotency_key,
    )
    return rating_receipt_out(r)
