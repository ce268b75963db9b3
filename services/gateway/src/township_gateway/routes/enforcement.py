"""Enforcement (综合行政执法): entrusted powers, complaints, inspections, cases, disclosure."""

from __future__ import annotations

from fastapi import APIRouter, Path

from township.enforcement.v1 import enforcement_pb2
from township_gateway.deps import PROBLEM_RESPONSES, ServicesDep
from township_gateway.schemas import EntrustmentOut, EntrustmentsOut

router = APIRouter(tags=["enforcement"], responses=PROBLEM_RESPONSES)

SLUG = Path(pattern=r"^[a-z][a-z0-9-]{1,30}$")


@router.get("/public/v1/townships/{township}/entrustments", response_model=EntrustmentsOut)
async def entrustments(services: ServicesDep, township: str = SLUG) -> EntrustmentsOut:
    """The enforcement powers entrusted to a township and valid today (委托执法事项目录)."""
    r = await services.call(
        services.enforcement.ListEntrustments,
        enforcement_pb2.ListEntrustmentsRequest(township_id=township),
    )
    return EntrustmentsOut(
        township=township,
        entrustments=[
            EntrustmentOut(
                item_code=e.item_code,
                item_name=e.item_name,
                entrusting_department=e.entrusting_department,
                document_no=e.document_no,
                valid_from=e.valid_from,
                valid_to=e.valid_to,
            )
            for e in r.entrustments
        ],
    )
