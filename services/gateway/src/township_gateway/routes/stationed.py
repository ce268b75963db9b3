"""Stationed units (驻镇单位)."""

from __future__ import annotations

from fastapi import APIRouter

from township.stationed.v1 import stationed_pb2
from township_gateway.auth import CurrentPrincipal
from township_gateway.deps import PROBLEM_RESPONSES, ServicesDep
from township_gateway.schemas import StationedUnitOut

router = APIRouter(prefix="/api/v1/stationed", tags=["stationed"], responses=PROBLEM_RESPONSES)


@router.get("/units", response_model=list[StationedUnitOut])
async def list_units(services: ServicesDep, principal: CurrentPrincipal) -> list[StationedUnitOut]:
    """The caller's township's stationed units (a county department: its own, every town)."""
    reply = await services.call(
        services.stationed.ListUnits, stationed_pb2.ListUnitsRequest(), principal
    )
    return [
        StationedUnitOut(code=u.code, name_zh=u.name_zh, name_en=u.name_en, department=u.department)
        for u in reply.units
    ]
