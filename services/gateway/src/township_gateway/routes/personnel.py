"""Personnel: org units and the points ledger."""

from __future__ import annotations

from fastapi import APIRouter, Query

from township.common.v1 import common_pb2
from township.personnel.v1 import personnel_pb2
from township_gateway.auth import CurrentPrincipal
from township_gateway.deps import PROBLEM_RESPONSES, ServicesDep, iso
from township_gateway.schemas import OrgUnitOut, PointsEntryOut, PointsOut

router = APIRouter(prefix="/api/v1/personnel", tags=["personnel"], responses=PROBLEM_RESPONSES)


@router.get("/points", response_model=PointsOut)
async def list_points(
    services: ServicesDep,
    principal: CurrentPrincipal,
    person: str = Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$"),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", max_length=64, pattern=r"^[0-9a-fA-F-]*$"),
) -> PointsOut:
    """A person's points ledger in the caller's township, oldest first, with its total."""
    reply = await services.call(
        services.personnel.ListPoints,
        personnel_pb2.ListPointsRequest(
            person=person, page=common_pb2.PageRequest(page_size=page_size, cursor=cursor)
        ),
        principal,
    )
    return PointsOut(
        person=person,
        total=reply.total,
        entries=[
            PointsEntryOut(
                id=e.id,
                person=e.person,
                rule=e.rule_code,
                points=e.points,
                state=e.state,
                source_event_id=e.source_event_id,
                source_type=e.source_type,
                note=e.note,
                recorded_at=iso(e.recorded_at),
            )
            for e in reply.entries
        ],
        next_cursor=reply.page.next_cursor or None,
    )


@router.get("/org-units", response_model=list[OrgUnitOut])
async def list_org_units(services: ServicesDep, principal: CurrentPrincipal) -> list[OrgUnitOut]:
    """The caller's township's bodies (offices, centres, special bodies)."""
    reply = await services.call(
        services.personnel.ListOrgUnits, personnel_pb2.ListOrgUnitsRequest(), principal
    )
    return [
        OrgUnitOut(code=u.code, name_zh=u.name_zh, name_en=u.name_en, kind=u.kind)
        for u in reply.units
    ]
