"""gRPC surface of stationed."""

from __future__ import annotations

from typing import Any

from grpc import aio

from township.stationed.v1 import stationed_pb2, stationed_pb2_grpc
from township_platform.errors import PermissionDenied
from township_platform.rpc import current_principal, current_uow
from township_stationed import repository


class StationedServicer(stationed_pb2_grpc.StationedServiceServicer):
    """County offices stationed in townships."""

    async def ListUnits(
        self, request: stationed_pb2.ListUnitsRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.ListUnitsResponse:
        """A township's units; a county department sees its own units across towns."""
        principal = current_principal()
        if principal.township:
            rows = await repository.units(current_uow().session, principal.township, None)
        elif principal.department:
            rows = await repository.units(current_uow().session, None, principal.department)
        else:
            raise PermissionDenied("a township or a county department is needed")
        return stationed_pb2.ListUnitsResponse(
            units=[
                stationed_pb2.StationedUnit(
                    code=r.code, name_zh=r.name_zh, name_en=r.name_en, department=r.department
                )
                for r in rows
            ]
        )
