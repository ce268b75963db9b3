"""gRPC surface of permits: proto in → domain and repository → proto out."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

import pydantic
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from township.common.v1 import common_pb2
from township.permits.v1 import permits_pb2, permits_pb2_grpc
from township_permits import convert, events, metrics, reads, repository, workflow
from township_permits.catalogue_data import ServiceItem, load_catalogue
from township_permits.domain.applications import ApplicationState, bundle_status
from township_permits.domain.deadlines import deadlines_on
from township_permits.domain.intake import (
    IntakeRequest,
    check_intake_role,
    items_to_open,
    new_receipt_code,
)
from township_permits.domain.ratings import (
    RatingKind,
    RectificationState,
    check_level,
    opens_rectification,
    rating_kind,
    rectification_step,
)
from township_permits.models import (
    ApplicationRow,
    RatingRow,
    ReceiptRow,
    RectificationRow,
    ServiceItemRow,
)
from township_permits.workflow import Runtime
from township_platform import clock, rpc
from township_platform.errors import InvalidArgument, NotFound, PermissionDenied
from township_platform.ids import new_id
from township_platform.pii import mask_name, validate_mobile, validate_resident_id
from township_platform.principal import Principal
from township_platform.rpc import current_principal, current_uow, optional_principal

_CURSOR = re.compile(r"^[0-9a-fA-F-]{0,36}$")
_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _visible(principal: Principal, app: ApplicationRow) -> bool:
    """Township staff see their own town (village staff their village); county users see
    their department's items; county admins and auditors see everything."""
    if principal.township:
        if app.township_id != principal.township:
            return False
        return not principal.village or app.village == principal.village
    if principal.has_role("county_admin", "auditor"):
        return True
    return bool(principal.department) and principal.department == app.department


def _page(page: common_pb2.PageRequest) -> tuple[int, str]:
    size = page.page_size or 50
    if not 1 <= size <= 200:
        raise InvalidArgument("page_size is 1 to 200", field="page_size", rule="between 1 and 200")
    if not _CURSOR.match(page.cursor):
        raise InvalidArgument("malformed cursor", field="cursor", rule="a cursor from next_cursor")
    return size, page.cursor


def _scope(principal: Principal, township: str, department: str) -> tuple[str | None, str | None]:
    """(township, department) a list may show: township users only their own town; county
    department users only their department; county admins and auditors whatever they ask."""
    if principal.township:
        return principal.township, department or None
    if principal.department and not principal.has_role("county_admin", "auditor"):
        return township or None, principal.department
    if principal.has_role("county_admin", "auditor"):
        return township or None, department or None
    raise PermissionDenied("this list needs a township or a county department", type="forbidden")


class PermitsServicer(permits_pb2_grpc.PermitsServiceServicer):
    """Unified intake, categorised approval."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def _load(self, app_id: str, *, lock: bool) -> tuple[ApplicationRow, Any]:
        principal = current_principal()
        session = current_uow().session
        if not _CURSOR.match(app_id) or not app_id:
            raise NotFound(f"application {app_id} not found")
        app = await (
            repository.application_for_update(session, app_id)
            if lock
            else repository.application(session, app_id)
        )
        if app is None or not _visible(principal, app):
            raise NotFound(f"application {app_id} not found")
        item = await repository.item(session, app.item_code)
        assert item is not None  # foreign key
        return app, item

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
        self.runtime.check_village(township, request.village)
        if not request.applicant.name.strip():
            raise InvalidArgument(
                "the applicant needs a name", field="applicant.name", rule="required"
            )
        bundle_items, levels, items = await reads.intake_context(
            uow.driver, township, request.bundle, request.item_code
        )
        codes = items_to_open(intake, bundle_items, levels, principal.village)
        for code in codes:
            offered = items[code].channels
            if offered and intake.channel not in offered:
                raise InvalidArgument(
                    f"item {code} is not offered through the {intake.channel} channel",
                    field="channel",
                    rule=f"one of {', '.join(offered)}",
                )
        now = clock.now()
        today = clock.today()
        receipt = ReceiptRow(
            receipt_code=new_receipt_code(township, now.date()),
            township_id=township,
            bundle=request.bundle,
            applicant_masked=mask_name(request.applicant.name),
            submitted_at=now,
        )
        response = permits_pb2.SubmitIntakeResponse(receipt_code=receipt.receipt_code)
        # Validated here, not only at the gateway: every caller of the service is checked.
        id_number = (
            validate_resident_id(request.applicant.id_number, field="applicant.id_number")
            if request.applicant.id_number
            else ""
        )
        phone = (
            validate_mobile(request.applicant.phone, field="applicant.phone")
            if request.applicant.phone
            else ""
        )
        applicant = {
            "name": request.applicant.name,
            "id_number": id_number,
            "phone": phone,
            "kind": request.applicant.kind or "person",
        }
        materials = [
            {"code": m.code, "name": m.name, "sha256": m.sha256} for m in request.materials
        ]
        apps: list[ApplicationRow] = []
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
                # village staff always file for their own village
                village=principal.village or request.village or "",
                applicant=applicant,
                materials=materials,
                submitted_by=principal.sub,
                submitted_at=now,
                applicant_consent=request.applicant_consent,
                received_on=today,
                correction_window_from=today,
                pauses=[],
                extension_days=0,
                missing_materials=[],
            )
            workflow.refresh_due_dates(
                app, cast(ServiceItemRow, item), self.runtime.calendar, today
            )
            apps.append(app)
            response.applications.append(
                permits_pb2.ApplicationSummary(
                    id=app.id,
                    item_code=code,
                    item_name=item.name_zh,
                    department=item.department,
                    state=app.state,
                )
            )
        reads.stage_intake(uow, receipt, apps, actor=principal.sub)
        for app in apps:
            await events.application_submitted(uow, app)
        return response

    async def GetApplication(
        self, request: permits_pb2.GetApplicationRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.Application:
        """One application with its history and deadlines, if the caller may see it."""
        principal = current_principal()
        if not request.id or not _CURSOR.match(request.id):
            raise NotFound(f"application {request.id} not found")
        found = await reads.application_with_history(rpc.reads(), principal.township, request.id)
        if found is None or not _visible(principal, found[0]):
            raise NotFound(f"application {request.id} not found")
        app, item, history = found
        return convert.application(
            app, item, self.runtime.calendar, clock.today(), principal, history
        )

    async def GetPublicStatus(
        self, request: permits_pb2.GetPublicStatusRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.PublicStatus:
        """Status of every part of an intake, by receipt code, with no personal data."""
        found = await repository.receipt_with_parts(current_uow().session, request.receipt_code)
        if found is None:
            raise NotFound(f"receipt {request.receipt_code} not found")
        receipt, parts = found
        session = current_uow().session
        items = await repository.items_by_code(session, [p.item_code for p in parts])
        today = clock.today()
        deadlines = {
            p.id: deadlines_on(
                workflow.app_clock(p, items[p.item_code]), self.runtime.calendar, today
            )
            for p in parts
        }
        ratings = await repository.ratings_of_receipt(session, receipt.receipt_code)
        follow_up_open = False
        if len(ratings) == 1:
            rect = await repository.rectification_of_rating(session, ratings[0].id)
            follow_up_open = rect is not None and rect.state == RectificationState.CLOSED
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
                    promised_due_date=convert.day(deadlines[p.id].promised_due),
                    remaining_working_days=deadlines[p.id].promised_remaining,
                )
                for p in parts
            ],
            submitted_at=_ts(receipt.submitted_at),
            applicant_masked=receipt.applicant_masked,
            rated=bool(ratings),
            follow_up_rating_open=follow_up_open,
        )

    async def ListCatalogue(
        self, request: permits_pb2.ListCatalogueRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ListCatalogueResponse:
        """The items a township offers (public)."""
        if request.village and not _SLUG.match(request.village):
            raise InvalidArgument("malformed village code", field="village", rule="a village code")
        self.runtime.check_village(request.township_id, request.village)
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

    # state machine ------------------------------------------------------------------

    async def Act(
        self, request: permits_pb2.ActRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.Application:
        """One step of the state machine, by the role the step needs."""
        principal = current_principal()
        uow = current_uow()
        app, item = await self._load(request.id, lock=True)
        await workflow.act(
            uow,
            self.runtime,
            app,
            item,
            principal,
            request.action,
            reason=request.reason.strip(),
            missing_materials=list(request.missing_materials),
            materials=[
                {"code": m.code, "name": m.name, "sha256": m.sha256} for m in request.materials
            ],
        )
        history = await repository.history(uow.session, app.id)
        return convert.application(
            app, item, self.runtime.calendar, clock.today(), principal, history
        )

    async def ExtendTimeLimit(
        self, request: permits_pb2.ExtendTimeLimitRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.Application:
        """Extend the statutory limit (approver of the competent department, with a reason)."""
        principal = current_principal()
        uow = current_uow()
        app, item = await self._load(request.id, lock=True)
        await workflow.extend(
            uow, self.runtime, app, item, principal, request.days, request.reason.strip()
        )
        history = await repository.history(uow.session, app.id)
        return convert.application(
            app, item, self.runtime.calendar, clock.today(), principal, history
        )

    async def ListApplications(
        self, request: permits_pb2.ListApplicationsRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ListApplicationsResponse:
        """A queue: the caller's town, or the caller's department across towns, filtered."""
        principal = current_principal()
        size, cursor = _page(request.page)
        township, department = _scope(principal, request.township_id, request.department)
        states = list(request.states)
        for state in states:
            if state not in ApplicationState.__members__:
                raise InvalidArgument(
                    f"unknown state {state!r}", field="state", rule="a state of the application"
                )
        today = clock.today()
        rows = await reads.application_page(
            rpc.reads(),
            principal.township,
            repository.ApplicationFilter(
                township=township,
                department=department,
                village=principal.village or request.village or None,
                states=states,
                item_code=request.item_code or None,
                channel=request.channel or None,
                intake_by=request.intake_by or None,
                receipt_code=request.receipt_code or None,
                overdue_on=today if request.overdue_only else None,
            ),
            page_size=size,
            after=cursor,
        )
        calendar = self.runtime.calendar
        return permits_pb2.ListApplicationsResponse(
            applications=[
                convert.application(app, item, calendar, today, principal) for app, item in rows
            ],
            page=common_pb2.PageResponse(next_cursor=rows[-1][0].id if len(rows) == size else ""),
        )

    # ratings and rectifications -----------------------------------------------------

    async def SubmitRating(
        self, request: permits_pb2.SubmitRatingRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.RatingReceipt:
        """A rating by receipt code: public without a principal, window device with one."""
        principal = optional_principal()
        level = check_level(request.level)
        uow = current_uow()
        session = uow.session
        receipt = await repository.receipt_for_update(session, request.receipt_code)
        if receipt is None:
            raise NotFound(f"receipt {request.receipt_code} not found")
        channel = "public"
        if principal is not None:
            principal.require_role("clerk", "agent")
            if receipt.township_id != principal.require_township():
                raise NotFound(f"receipt {request.receipt_code} not found")
            channel = "window_device"
        found = await repository.receipt_with_parts(session, receipt.receipt_code)
        assert found is not None
        parts = found[1]
        existing = await repository.ratings_of_receipt(session, receipt.receipt_code)
        first = next((r for r in existing if not r.follow_up), None)
        rect = await repository.rectification_of_rating(session, first.id) if first else None
        kind = rating_kind(
            first is not None,
            any(r.follow_up for r in existing),
            rect.state if rect else None,
        )
        now = clock.now()
        rating = RatingRow(
            id=new_id(),
            township_id=receipt.township_id,
            receipt_code=receipt.receipt_code,
            application_ids=[p.id for p in parts],
            departments=sorted({p.department for p in parts}),
            level=level,
            channel=channel,
            comment=request.comment.strip()[:1000],
            responsible=parts[0].submitted_by if parts else "",
            follow_up=kind is RatingKind.FOLLOW_UP,
            rated_at=now,
        )
        repository.add(session, rating)
        await session.flush()
        opened: RectificationRow | None = None
        if kind is RatingKind.FIRST and opens_rectification(level):
            today = clock.today()
            opened = RectificationRow(
                id=new_id(),
                township_id=rating.township_id,
                rating_id=rating.id,
                receipt_code=rating.receipt_code,
                responsible=rating.responsible,
                departments=rating.departments,
                state=RectificationState.OPEN.value,
                opened_on=today,
                due_date=self.runtime.calendar.add_working_days(
                    today, self.runtime.rectification_days
                ),
                overdue=False,
                return_visit_note="",
                outcome="",
                resolution="",
                appeal_reason="",
                appeal_decision="",
                rating_level=level,
                follow_up_level=0,
                opened_at=now,
            )
            repository.add(session, opened)
            await session.flush()
        if kind is RatingKind.FOLLOW_UP and rect is not None:
            rect.follow_up_level = level
        await events.rating_submitted(uow, rating, opened)
        if opened is not None:
            await events.rectification_opened(uow, opened, rating.application_ids[0])
        metrics.rating(rating.township_id, level)
        return permits_pb2.RatingReceipt(
            receipt_code=rating.receipt_code,
            level=level,
            follow_up=rating.follow_up,
            rectification_opened=opened is not None,
            rated_at=_ts(now),
        )

    async def ListRatings(
        self, request: permits_pb2.ListRatingsRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ListRatingsResponse:
        """Ratings per town, department or responsible clerk."""
        principal = current_principal()
        size, cursor = _page(request.page)
        township, department = _scope(principal, request.township_id, request.department)
        if request.max_level and not 1 <= request.max_level <= 5:
            raise InvalidArgument("max_level is 1 to 5", field="max_level", rule="between 1 and 5")
        session = current_uow().session
        rows = await repository.list_ratings(
            session,
            township=township,
            department=department,
            responsible=request.responsible or None,
            max_level=request.max_level,
            page_size=size,
            after=cursor,
        )
        rects = await repository.rectifications_of_ratings(session, [r.id for r in rows])
        return permits_pb2.ListRatingsResponse(
            ratings=[convert.rating(r, rects.get(r.id, "")) for r in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if len(rows) == size else ""),
        )

    async def ListRectifications(
        self,
        request: permits_pb2.ListRectificationsRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> permits_pb2.ListRectificationsResponse:
        """Rectifications per town, department or responsible clerk."""
        principal = current_principal()
        size, cursor = _page(request.page)
        township, department = _scope(principal, request.township_id, request.department)
        if request.state and request.state not in RectificationState.__members__:
            raise InvalidArgument(
                f"unknown state {request.state!r}",
                field="state",
                rule="OPEN, VISITED, APPEALED or CLOSED",
            )
        rows = await repository.list_rectifications(
            current_uow().session,
            township=township,
            department=department,
            responsible=request.responsible or None,
            state=request.state or None,
            overdue_only=request.overdue_only,
            page_size=size,
            after=cursor,
        )
        today = clock.today()
        return permits_pb2.ListRectificationsResponse(
            rectifications=[convert.rectification(r, self.runtime.calendar, today) for r in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if len(rows) == size else ""),
        )

    async def _rectification(self, rect_id: str, *, lock: bool) -> RectificationRow:
        principal = current_principal()
        session = current_uow().session
        rect = (
            await repository.rectification_for_update(session, rect_id)
            if lock
            else await session.get(RectificationRow, rect_id)
        )
        visible = rect is not None and (
            (principal.township and rect.township_id == principal.township)
            or (not principal.township and principal.has_role("county_admin", "auditor"))
            or (
                not principal.township
                and bool(principal.department)
                and principal.department in rect.departments
            )
        )
        if rect is None or not visible:
            raise NotFound(f"rectification {rect_id} not found")
        return rect

    async def GetRectification(
        self, request: permits_pb2.GetRectificationRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.Rectification:
        """One rectification."""
        rect = await self._rectification(request.id, lock=False)
        return convert.rectification(rect, self.runtime.calendar, clock.today())

    async def ActOnRectification(
        self,
        request: permits_pb2.RectificationActionRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> permits_pb2.Rectification:
        """Return visit, fix, explanation, appeal, and the appeal's decision."""
        principal = current_principal()
        uow = current_uow()
        rect = await self._rectification(request.id, lock=True)
        note = request.note.strip()
        step = rectification_step(rect.state, request.action, principal.roles, note)
        action = request.action
        if action == "return_visit":
            rect.return_visit_note = note
        elif action in ("fix", "explain"):
            rect.resolution = note
        elif action == "appeal":
            rect.appeal_reason = note
        else:
            rect.appeal_decision = note
        rect.state = step.state.value
        if step.state is RectificationState.CLOSED:
            rect.outcome = step.outcome
            rect.closed_at = clock.now()
            await uow.session.flush()
            await events.rectification_closed(uow, rect)
        return convert.rectification(rect, self.runtime.calendar, clock.today())

    # catalogue administration -------------------------------------------------------

    async def GetServiceGuide(
        self, request: permits_pb2.GetServiceGuideRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ServiceGuide:
        """An item's full guide: what to bring, steps, time limits (public)."""
        session = current_uow().session
        item = await repository.item(session, request.code)
        if item is None:
            raise NotFound(f"service item {request.code} not found")
        level = ""
        if request.township_id:
            d = await repository.delegation(session, request.township_id, request.code)
            if d is None:
                raise NotFound(
                    f"service item {request.code} is not offered by {request.township_id}"
                )
            level = d.level
        return convert.guide(item, level, _department_name(item.department))

    async def ListServiceItems(
        self, request: permits_pb2.ListServiceItemsRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ListServiceItemsResponse:
        """The whole county catalogue with guides, delegated or not (public)."""
        rows = await repository.service_items(
            current_uow().session, request.department or None, request.type or None
        )
        return permits_pb2.ListServiceItemsResponse(
            items=[convert.guide(r, "", _department_name(r.department)) for r in rows]
        )

    async def UpsertServiceItem(
        self, request: permits_pb2.UpsertServiceItemRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ServiceGuide:
        """Create or replace a catalogue item (county admins), validated like the seed."""
        current_principal().require_role("county_admin")
        g = request.item
        data = {
            "code": g.code,
            "name": {"zh": g.name_zh, "en": g.name_en},
            "type": g.type,
            "department": g.department,
            "legal_basis": list(g.legal_basis),
            "statutory_limit": {"amount": g.statutory_limit.amount, "unit": g.statutory_limit.unit},
            "promised_limit": {"amount": g.promised_limit.amount, "unit": g.promised_limit.unit},
            "statutory_extension": (
                {"amount": g.statutory_extension.amount, "unit": g.statutory_extension.unit}
                if g.statutory_extension.amount
                else None
            ),
            "fee": g.fee,
            "materials": [
                {
                    "code": m.code,
                    "name": {"zh": m.name_zh, "en": m.name_en},
                    "form": m.form,
                    "count": m.count,
                    "required": m.required,
                    "condition": (
                        {"zh": m.condition_zh, "en": m.condition_en} if m.condition_zh else None
                    ),
                }
                for m in g.materials
            ],
            "steps": [{"zh": s.zh, "en": s.en} for s in g.steps],
            "visits": g.visits,
            "level": g.level,
            "channels": list(g.channels),
        }
        try:
            item = ServiceItem.model_validate(data)
        except pydantic.ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "item"
            raise InvalidArgument(
                f"invalid service item: {first.get('msg', '')}", field=loc, rule=first["type"]
            ) from None
        if item.department not in {d.code for d in load_catalogue().departments}:
            raise InvalidArgument(
                f"unknown department {item.department!r}",
                field="department",
                rule="a department of the county catalogue",
            )
        session = current_uow().session
        await repository.upsert_item(
            session,
            item.code,
            {
                "name_zh": item.name.zh,
                "name_en": item.name.en,
                "type": item.type,
                "department": item.department,
                "legal_basis": "；".join(item.legal_basis),
                "statutory_amount": item.statutory_limit.amount,
                "statutory_unit": item.statutory_limit.unit,
                "promised_amount": item.promised_limit.amount,
                "promised_unit": item.promised_limit.unit,
                "fee": item.fee,
                "visits": item.visits,
                "guide": item.model_dump(
                    mode="json",
                    include={"materials", "steps", "channels", "statutory_extension", "level"},
                ),
            },
        )
        row = await repository.item(session, item.code)
        assert row is not None
        await session.refresh(row)
        return convert.guide(row, "", _department_name(row.department))

    def _check_township(self, township: str) -> None:
        known = self.runtime.towns
        if not _SLUG.match(township) or (known is not None and township not in known):
            raise InvalidArgument(
                f"township {township!r} is not configured",
                field="township",
                rule="a configured township",
            )

    async def PutDelegation(
        self, request: permits_pb2.PutDelegationRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.Delegation:
        """Delegate an item to a township or down to its villages (county admins)."""
        current_principal().require_role("county_admin")
        d = request.delegation
        self._check_township(d.township_id)
        session = current_uow().session
        item = await repository.item(session, d.item_code)
        if item is None:
            raise InvalidArgument(
                f"unknown service item {d.item_code}", field="item_code", rule="a catalogue item"
            )
        if d.level not in ("township", "village"):
            raise InvalidArgument("level is township or village", field="level", rule="enum")
        if d.level == "village" and "village_room" not in (item.guide.get("channels") or []):
            raise InvalidArgument(
                f"item {d.item_code} is not offered in village service rooms",
                field="level",
                rule="village level needs the village_room channel",
            )
        if not d.document_no.strip():
            raise InvalidArgument(
                "a delegation cites its document", field="document_no", rule="required"
            )
        await repository.put_delegation(
            session,
            d.township_id,
            d.item_code,
            {
                "level": d.level,
                "document_no": d.document_no.strip(),
                "document_title": d.document_title.strip(),
            },
        )
        row = await repository.delegation(session, d.township_id, d.item_code)
        assert row is not None
        await session.refresh(row)
        return convert.delegation(row)

    async def RemoveDelegation(
        self, request: permits_pb2.RemoveDelegationRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.RemoveDelegationResponse:
        """Withdraw a delegation (county admins); open applications are not affected."""
        current_principal().require_role("county_admin")
        removed = await repository.remove_delegation(
            current_uow().session, request.township_id, request.item_code
        )
        if not removed:
            raise NotFound(f"{request.item_code} is not delegated to {request.township_id}")
        return permits_pb2.RemoveDelegationResponse(removed=True)

    async def ListDelegations(
        self, request: permits_pb2.ListDelegationsRequest, context: aio.ServicerContext[Any, Any]
    ) -> permits_pb2.ListDelegationsResponse:
        """Delegations: a township's own for its staff, any for county admins and auditors."""
        principal = current_principal()
        township = request.township_id
        if principal.township:
            township = principal.township
        elif not principal.has_role("county_admin", "auditor"):
            raise PermissionDenied("delegations are listed for admins and auditors")
        rows = await repository.list_delegations(
            current_uow().session, township or None, request.item_code or None
        )
        return permits_pb2.ListDelegationsResponse(
            delegations=[convert.delegation(d) for d in rows]
        )


def _department_name(code: str) -> str:
    try:
        return load_catalogue().department(code).name.zh
    except KeyError:
        return ""
