"""gRPC surface of personnel."""

from __future__ import annotations

from typing import Any

from grpc import aio

from township.common.v1 import common_pb2
from township.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from township_personnel import repository
from township_personnel.grpc_convert import entry_to_proto
from township_platform.errors import InvalidArgument, NotFound
from township_platform.rpc import current_principal, current_uow

MAX_PAGE = 200


class PersonnelServicer(personnel_pb2_grpc.PersonnelServiceServicer):
    """Posts, people and the points ledger."""

    async def ListPoints(
        self, request: personnel_pb2.ListPointsRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListPointsResponse:
        """A person's ledger in the caller's township (404 when unknown there)."""
        principal = current_principal()
        township = principal.require_township()
        if not request.person:
            raise InvalidArgument("person is required", field="person", rule="required")
        size = request.page.page_size or 50
        if not 1 <= size <= MAX_PAGE:
            raise InvalidArgument(
                "page_size out of range", field="page_size", rule=f"1..{MAX_PAGE}"
            )
        session = current_uow().session
        if not await repository.person_known(session, township, request.person):
            raise NotFound(f"person {request.person} not found")
        rows = await repository.points_page(
            session, township, request.person, request.page.cursor, size + 1
        )
        more = len(rows) > size
        rows = rows[:size]
        return personnel_pb2.ListPointsResponse(
            entries=[entry_to_proto(r) for r in rows],
            total=str(await repository.points_total(session, township, request.person)),
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if more else ""),
        )

    async def ListOrgUnits(
        self, request: personnel_pb2.ListOrgUnitsRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListOrgUnitsResponse:
        """The caller's township's bodies."""
        township = current_principal().require_township()
        rows = await repository.org_units(current_uow().session, township)
        return personnel_pb2.ListOrgUnitsResponse(
            units=[
                personnel_pb2.OrgUnit(
                    code=r.code, name_zh=r.name_zh, name_en=r.name_en, kind=r.kind
                )
                for r in rows
            ]
        )
