"""Public permits endpoints (no token): catalogue, guides, application status."""

from __future__ import annotations

from fastapi import APIRouter, Path

from township.permits.v1 import permits_pb2
from township_gateway.deps import PROBLEM_RESPONSES, ServicesDep, iso
from township_gateway.schemas import (
    CatalogueItemOut,
    CatalogueOut,
    PublicPartOut,
    PublicStatusOut,
    TimeLimitOut,
)

router = APIRouter(prefix="/public/v1", tags=["public"], responses=PROBLEM_RESPONSES)

SLUG = Path(pattern=r"^[a-z][a-z0-9-]{1,30}$")
RECEIPT = Path(pattern=r"^[A-Z0-9]{6,32}$")


@router.get("/applications/{receipt_code}", response_model=PublicStatusOut)
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
                item=p.item_code, item_name=p.item_name, department=p.department, state=p.state
            )
            for p in s.parts
        ],
        submitted_at=iso(s.submitted_at),
        applicant=s.applicant_masked,
    )


@router.get("/townships/{township}/catalogue", response_model=CatalogueOut)
async def catalogue(services: ServicesDep, township: str = SLUG) -> CatalogueOut:
    """The licensing and public-service items delegated to a township."""
    c = await services.call(
        services.permits.ListCatalogue, permits_pb2.ListCatalogueRequest(township_id=township)
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
