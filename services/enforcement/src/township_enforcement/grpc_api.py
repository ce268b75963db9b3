"""gRPC surface of enforcement."""

from __future__ import annotations

from datetime import date
from typing import Any

from grpc import aio

from township.enforcement.v1 import enforcement_pb2, enforcement_pb2_grpc
from township_enforcement import repository
from township_platform.errors import NotFound
from township_platform.rpc import current_uow


class EnforcementServicer(enforcement_pb2_grpc.EnforcementServiceServicer):
    """Integrated administrative law enforcement."""

    async def ListEntrustments(
        self,
        request: enforcement_pb2.ListEntrustmentsRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> enforcement_pb2.ListEntrustmentsResponse:
        """The entrusted-powers list a township publishes (valid today; public)."""
        rows = await repository.entrustments_valid_on(
            current_uow().session, request.township_id, date.today()
        )
        if not rows:
            raise NotFound(f"no entrusted powers published for {request.township_id!r}")
        return enforcement_pb2.ListEntrustmentsResponse(
            entrustments=[
                enforcement_pb2.Entrustment(
                    item_code=e.item_code,
                    item_name=i.name_zh,
                    entrusting_department=e.entrusting_department,
                    document_no=e.document_no,
                    valid_from=e.valid_from.isoformat(),
                    valid_to=e.valid_to.isoformat(),
                )
                for e, i in rows
            ]
        )
