"""gRPC surface of permits: proto in → domain and repository → proto out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from township.permits.v1 import permits_pb2, permits_pb2_grpc
from township_permits import events, repository
from township_permits.domain.applications import bundle_status
from township_permits.domain.intake import (
    IntakeRequest,
    check_intake_role,
    items_to_open,
    new_receipt_code,
)
from township_permits.models import ApplicationRow, HistoryRow, ReceiptRow
from township_platform import clock
from township_platform.errors import InvalidArgument, NotFound
from township_platform.ids import new_id
from township_platform.pii import mask_name
from township_platform.principal import Principal
from township_platform.rpc import current_principal, current_uow


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _visible(principal: Principal, app: ApplicationRow) -> bool:
    """Township staff see their own town; county users see their department's items."""
    if principal.township:
        return app.township_id == principal.township
    if principal.has_role("county_admin", "auditor"):
        return True
    return bool(principal.department) and principal.department == app.department


class PermitsServicer(permits_pb2_grpc.PermitsServiceServicer):
    """Unified intake, categorised approval."""

    async def SubmitIntake(
        self, request: permits_pb2.SubmitIntakeRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.SubmitIntakeResponse:
        """Open one application per item of the bundle (or the single item)."""
        principal = current_principal()
        township = principal.require_township()
        uow = current_uow()
        intake = IntakeRequest(
            bundle=request.bundle,
            item_code=request.item_code,
            channel=request.channel or "window",
            village=request.village,
            applicant_consent=request.applicant_consent,
        )
        check_intake_role(principal, intake)
        if not request.applicant.name.strip():
            raise InvalidArgument(
                "the applicant needs a name", field="applicant.name", rule="required"
            )
        session = uow.session
        bundle_items = (
            await repository.bundle_items(session, request.bundle) if request.bundle else None
        )
        codes = items_to_open(
            intake,
            bundle_items,
            await repository.delegated_levels(session, township),
            principal.village,
        )
        items = await repository.items_by_code(session, codes)
        now = clock.now()
        receipt = ReceiptRow(
            receipt_code=new_receipt_code(township, now.date()),
            township_id=township,
            bundle=request.bundle,
            applicant_masked=mask_name(request.applicant.name),
            submitted_at=now,
        )
        repository.add(session, receipt)
        await session.flush()
        response = permits_pb2.SubmitIntakeResponse(receipt_code=receipt.receipt_code)
        applicant = {
            "name": request.applicant.name,
            "id_number": request.applicant.id_number,
            "phone": request.applicant.phone,
            "kind": request.applicant.kind or "person",
        }
        materials = [
            {"code": m.code, "name": m.name, "sha256": m.sha256} for m in request.materials
        ]
        for code in codes:
            item = items[code]
            app = ApplicationRow(
                id=new_id(),
                township_id=township,
                receipt_code=receipt.receipt_code,
                bundle=request.bundle,
                item_code=code,
                department=item.department,
                state="SUBMITTED",
                channel=intake.channel,
                village=request.village or principal.village or "",
                applicant=applicant,
                materials=materials,
                submitted_by=principal.sub,
                submitted_at=now,
            )
            repository.add(
                session,
                app,
                HistoryRow(
                    application_id=app.id,
                    township_id=township,
                    from_state="",
                    to_state="SUBMITTED",
                    action="submit",
                    actor_sub=principal.sub,
                    at=now,
                ),
            )
            await session.flush()
            await events.application_submitted(uow, app)
            response.applications.append(
                permits_pb2.ApplicationSummary(
                    id=app.id,
                    item_code=code,
                    item_name=item.name_zh,
                    department=item.department,
                    state=app.state,
                )
            )
        return response

    async def GetApplication(
        self, request: permits_pb2.GetApplicationRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.Application:
        """One application with its history, if the caller may see it."""
        principal = current_principal()
        session = current_uow().session
        app = await repository.application(session, request.id)
        if app is None or not _visible(principal, app):
            raise NotFound(f"application {request.id} not found")
        item = (await repository.items_by_code(session, [app.item_code]))[app.item_code]
        out = permits_pb2.Application(
            id=app.id,
            township_id=app.township_id,
            receipt_code=app.receipt_code,
            bundle=app.bundle,
            item_code=app.item_code,
            item_name=item.name_zh,
            department=app.department,
            state=app.state,
            channel=app.channel,
            village=app.village,
            applicant=permits_pb2.Applicant(**app.applicant),
            submitted_by=app.submitted_by,
            submitted_at=_ts(app.submitted_at),
        )
        for m in app.materials:
            out.materials.append(permits_pb2.Material(**m))
        for h in await repository.history(session, app.id):
            out.history.append(
                permits_pb2.HistoryEntry(
                    from_state=h.from_state,
                    to_state=h.to_state,
                    action=h.action,
                    actor_sub=h.actor_sub,
                    reason=h.reason,
                    at=_ts(h.at),
                )
            )
        return out

    async def GetPublicStatus(
        self, request: permits_pb2.GetPublicStatusRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.PublicStatus:
        """Status of every part of an intake, by receipt code, with no personal data."""
        found = await repository.receipt_with_parts(current_uow().session, request.receipt_code)
        if found is None:
            raise NotFound(f"receipt {request.receipt_code} not found")
        receipt, parts = found
        items = await repository.items_by_code(current_uow().session, [p.item_code for p in parts])
        return permits_pb2.PublicStatus(
            receipt_code=receipt.receipt_code,
            township_id=receipt.township_id,
            bundle=receipt.bundle,
            state=str(bundle_status([p.state for p in parts])),
            parts=[
                permits_pb2.PublicPart(
                    item_code=p.item_code,
                    item_name=items[p.item_code].name_zh,
                    department=p.department,
                    state=p.state,
                )
                for p in parts
            ],
            submitted_at=_ts(receipt.submitted_at),
            applicant_masked=receipt.applicant_masked,
        )

    async def ListCatalogue(
        self, request: permits_pb2.ListCatalogueRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ListCatalogueResponse:
        """The items a township offers (public)."""
        rows = await repository.catalogue(
            current_uow().session, request.township_id, bool(request.village)
        )
        if not rows:
            raise NotFound(f"no catalogue for township {request.township_id!r}")
        return permits_pb2.ListCatalogueResponse(
            township_id=request.township_id,
            items=[
                permits_pb2.CatalogueItem(
                    code=item.code,
                    name_zh=item.name_zh,
                    name_en=item.name_en,
                    type=item.type,
                    department=item.department,
                    level=level,
                    statutory_limit=permits_pb2.TimeLimit(
                        amount=item.statutory_amount, unit=item.statutory_unit
                    ),
                    promised_limit=permits_pb2.TimeLimit(
                        amount=item.promised_amount, unit=item.promised_unit
                    ),
                    fee=item.fee,
                    visits=item.visits,
                )
                for item, level in rows
            ],
        )
