"""gRPC surface of enforcement: proto in → domain rules and repository → proto out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from grpc import aio

from township.enforcement.v1 import enforcement_pb2 as pb
from township.enforcement.v1 import enforcement_pb2_grpc
from township_enforcement import events, repository
from township_enforcement.catalogue_data import load_enforcement_catalogue
from township_enforcement.domain import cases as rules
from township_enforcement.domain import complaints as intake
from township_enforcement.domain import notices, transfers
from township_enforcement.domain.deadlines import case_limits
from township_enforcement.jobs import case_clocks
from township_enforcement.models import CaseRecordRow, CaseRow, ComplaintRow, InspectionRow
from township_platform import clock
from township_platform.calendar import WorkCalendar
from township_platform.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from township_platform.ids import new_id
from township_platform.pii import mask_name
from township_platform.principal import Principal
from township_platform.rpc import current_principal, current_uow, optional_principal
from township_platform.towns import TownshipsConfig

Ctx = aio.ServicerContext[Any, Any]
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PAGE = 200
INTAKE_ROLES = ("clerk", "officer", "township_admin")
INSPECTION_KINDS = frozenset({"routine", "market_day", "joint"})
Step = tuple[list[str], list[dict[str, Any]], str]
"""What a step adds to the record: acting officers, evidence, note."""
SERVICE_METHODS = frozenset({"direct", "mail", "electronic", "left_at_address", "public_notice"})


def _iso(value: dt.datetime | None) -> str:
    """An instant in China local time, ISO 8601 with offset (W3C)."""
    return value.astimezone(clock.CHINA).isoformat(timespec="seconds") if value else ""


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _page_size(size: int) -> int:
    if size < 0 or size > MAX_PAGE:
        raise InvalidArgument(
            f"page_size must be between 1 and {MAX_PAGE}", field="page_size", rule="1..200"
        )
    return size or 50


def _departments(values: Sequence[str]) -> list[str]:
    known = {d.code for d in load_enforcement_catalogue().departments if d.code != "township"}
    out = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    unknown = [d for d in out if d not in known]
    if unknown:
        raise InvalidArgument(
            f"unknown county departments: {', '.join(unknown)}",
            field="departments",
            rule="known county department",
        )
    return out


def _evidence(items: Sequence[pb.Evidence], *, required: bool = False) -> list[dict[str, Any]]:
    out = []
    for n, e in enumerate(items):
        if not e.name.strip():
            raise InvalidArgument(
                "every evidence item needs a name", field=f"evidence[{n}].name", rule="required"
            )
        if not SHA256.match(e.sha256):
            raise InvalidArgument(
                "evidence needs its content hash: 64 lowercase hex characters of SHA-256",
                field=f"evidence[{n}].sha256",
                rule="sha256 hex",
            )
        out.append({"name": e.name, "sha256": e.sha256, "media_type": e.media_type, "size": e.size})
    if required and not out:
        raise InvalidArgument(
            "an investigation record lists its evidence", field="evidence", rule="at least one"
        )
    return out


def _required(value: str, field: str, limit: int = 4000) -> str:
    text = value.strip()
    if not text:
        raise InvalidArgument(f"{field} is required", field=field, rule="required")
    if len(text) > limit:
        raise InvalidArgument(f"{field} is too long", field=field, rule=f"at most {limit}")
    return text


def _party(p: pb.Party) -> dict[str, str]:
    kind = p.kind or "person"
    if kind not in ("person", "organisation"):
        raise InvalidArgument(
            "party.kind is person or organisation", field="party.kind", rule="enum"
        )
    return {"name": p.name, "kind": kind, "id_number": p.id_number, "address": p.address}


def _viewer(principal: Principal) -> tuple[str | None, str | None]:
    """(township, department) scoping what a caller may read."""
    if principal.township:
        return principal.township, None
    if principal.department:
        return None, principal.department
    if principal.has_role("county_admin", "auditor"):
        return None, repository.COUNTY_WIDE
    return None, None


def _public_party(party: dict[str, Any]) -> str:
    """Organisations are published by name; natural persons only masked (个人信息保护)."""
    name = str(party.get("name", ""))
    return name if party.get("kind") == "organisation" else mask_name(name)


class EnforcementServicer(enforcement_pb2_grpc.EnforcementServiceServicer):
    """Integrated administrative law enforcement."""

    def __init__(self, calendar: WorkCalendar, towns: TownshipsConfig | None) -> None:
        self.calendar = calendar
        self.towns = towns

    # ------------------------------------------------------------ helpers
    def _known_town(self, township: str) -> None:
        if self.towns is not None and self.towns.get(township) is None:
            raise NotFound(f"township {township!r} is not configured")

    def _agency(self, township: str) -> str:
        town = self.towns.get(township) if self.towns else None
        name = town.name.zh if town else township
        return f"{name}综合行政执法队"

    async def _staff(self, *roles: str) -> tuple[Principal, str]:
        """The township staff caller (remembering a certified officer's certificate)."""
        principal = current_principal()
        township = principal.require_township()
        if roles:
            principal.require_role(*roles)
        if principal.has_role("officer") and principal.certificate:
            await repository.remember_officer(
                current_uow().session,
                township,
                principal.sub,
                principal.certificate,
                principal.name,
                clock.now(),
            )
        return principal, township

    async def _team(
        self, township: str, officers: Sequence[str], recused: Sequence[str], actor: str | None
    ) -> list[str]:
        known = await repository.certified_officers(
            current_uow().session, township, [o.strip() for o in officers]
        )
        return rules.check_officers(officers, known, recused, actor)

    async def _actionable(
        self, township: str, code: str, departments: Sequence[str]
    ) -> rules.EntrustmentFacts | None:
        session = current_uow().session
        row = await repository.item(session, code)
        item = rules.ItemFacts(row.code, row.name_zh, row.category, row.department) if row else None
        ents = [
            rules.EntrustmentFacts(e.document_no, e.valid_from, e.valid_to)
            for e in await repository.entrustments_of(session, township, code)
        ]
        return rules.check_item_actionable(code, item, ents, departments, clock.today())

    async def _open_case(
        self,
        principal: Principal,
        township: str,
        *,
        item_code: str,
        departments: Sequence[str],
        source: str,
        summary: str,
        party: dict[str, str],
        complaint_id: str | None = None,
        inspection_id: str | None = None,
    ) -> CaseRow:
        session = current_uow().session
        depts = _departments(departments)
        entrustment = await self._actionable(township, item_code.strip(), depts)
        now = clock.now()
        year = clock.today().year  # case numbers run by the local (China) year
        n = await repository.next_case_no(session, township, year)
        case = CaseRow(
            id=new_id(),
            township_id=township,
            case_no=f"{township.upper()}-ZF-{year}-{n:04d}",
            item_code=item_code.strip(),
            state=rules.CLUE,
            source=source,
            complaint_id=complaint_id,
            inspection_id=inspection_id,
            summary=summary,
            party=party,
            departments=depts,
            officers=[],
            recused=[],
            entrustment_document=entrustment.document_no if entrustment else "",
            extensions=[],
            proposed={},
            decision={},
            transfer={},
            created_at=now,
            updated_at=now,
        )
        repository.add(session, case)
        await session.flush()
        await self._record(case, principal, "open", "", rules.CLUE, note=summary)
        return case

    async def _record(
        self,
        case: CaseRow,
        principal: Principal,
        action: str,
        from_state: str,
        to_state: str,
        *,
        officers: Sequence[str] = (),
        evidence: Sequence[dict[str, Any]] = (),
        note: str = "",
    ) -> None:
        session = current_uow().session
        repository.add(
            session,
            CaseRecordRow(
                case_id=case.id,
                township_id=case.township_id,
                seq=await repository.next_record_seq(session, case.id),
                action=action,
                from_state=from_state,
                to_state=to_state,
                actor_sub=principal.sub,
                actor_certificate=principal.certificate or "",
                officers=list(officers),
                evidence=list(evidence),
                note=note,
                at=clock.now(),
            ),
        )
        await session.flush()

    async def _case_out(self, case: CaseRow) -> pb.Case:
        session = current_uow().session
        item = await repository.item(session, case.item_code)
        d = case.decision
        t = case.transfer
        out = pb.Case(
            id=case.id,
            township_id=case.township_id,
            case_no=case.case_no,
            item_code=case.item_code,
            item_name=item.name_zh if item else "",
            item_category=item.category if item else "",
            state=case.state,
            source=case.source,
            complaint_id=case.complaint_id or "",
            inspection_id=case.inspection_id or "",
            summary=case.summary,
            party=pb.Party(**case.party),
            departments=case.departments,
            officers=case.officers,
            recused=case.recused,
            filed_on=_day(case.filed_on),
            decision_due=_day(rules.decision_due(case.filed_on, case.extensions, self.calendar))
            if case.filed_on
            else "",
            review_passed=case.review_passed,
            notice_on=_day(case.notice_on),
            hearing_waived=case.hearing_waived,
            hearing_on=_day(case.hearing_on),
            served_on=_day(case.served_on),
            publication=case.publication,
            paid=case.paid,
            surcharge=str(self._surcharge(case)),
            closed_on=_day(case.closed_on),
            entrustment_document=case.entrustment_document,
        )
        if d:
            out.decision.CopyFrom(
                pb.Decision(
                    kind=d.get("kind", ""),
                    fine=d.get("fine", ""),
                    band=d.get("band", ""),
                    other_penalties=d.get("other_penalties", []),
                    decision_no=d.get("decision_no", ""),
                    decided_on=_day(case.decided_on),
                    reasoning=d.get("reasoning", ""),
                    revoked_on=d.get("revoked_on", ""),
                )
            )
        h = case.hearing
        if h:
            out.hearing.CopyFrom(
                pb.HearingSchedule(
                    hearing_on=h.get("hearing_on", ""),
                    place=h.get("place", ""),
                    presiding_officer=h.get("presiding", ""),
                    public=bool(h.get("public", True)),
                    closed_reason=h.get("closed_reason", ""),
                    notified_on=h.get("notified_on", ""),
                )
            )
        if t:
            out.transfer.CopyFrom(
                pb.Transfer(
                    stage=t.get("stage", ""),
                    proposed_at=t.get("proposed_at", ""),
                    head_decided_at=t.get("head_decided_at", ""),
                    sent_at=t.get("sent_at", ""),
                    received_at=t.get("received_at", ""),
                    police_decided_at=t.get("police_decided_at", ""),
                    police_decision=t.get("police_decision", ""),
                    receiving_agency=t.get("receiving_agency", ""),
                    note=t.get("note", ""),
                )
            )
        for r in await repository.record(session, case.id):
            out.record.append(
                pb.RecordEntry(
                    seq=r.seq,
                    action=r.action,
                    from_state=r.from_state,
                    to_state=r.to_state,
                    actor=r.actor_sub,
                    actor_certificate=r.actor_certificate,
                    officers=r.officers,
                    evidence=[pb.Evidence(**e) for e in r.evidence],
                    note=r.note,
                    at=_iso(r.at),
                )
            )
        breached = {
            k for k in await repository.breaches(session, case.id) if not k.endswith(":warning")
        }
        try:
            limits = case_limits(case_clocks(case), self.calendar, clock.today(), clock.now())
        except InvalidArgument:
            limits = []
        shown = {lim.kind for lim in limits}
        for lim in limits:
            out.deadlines.append(
                pb.Deadline(
                    kind=lim.kind,
                    due=lim.due,
                    breached=lim.breached or lim.kind in breached,
                    warning=lim.warning,
                )
            )
        for kind in sorted(breached - shown):
            out.deadlines.append(pb.Deadline(kind=kind, breached=True))
        return out

    def _surcharge(self, case: CaseRow) -> Decimal:
        fine = Decimal(str(case.decision.get("fine") or "0"))
        if case.decision.get("kind") != "penalty" or case.served_on is None:
            return Decimal("0.00")
        if case.state == rules.CLOSED and case.closed_on is not None:
            return rules.late_surcharge(fine, case.served_on, case.closed_on)
        return rules.late_surcharge(fine, case.served_on, clock.today())

    # ------------------------------------------------------------ entrustments
    async def ListEntrustments(
        self, request: pb.ListEntrustmentsRequest, context: Ctx
    ) -> pb.ListEntrustmentsResponse:
        """The entrusted-powers list a township publishes (valid today; public)."""
        rows = await repository.entrustments_valid_on(
            current_uow().session, request.township_id, clock.today()
        )
        if not rows:
            raise NotFound(f"no entrusted powers published for {request.township_id!r}")
        return pb.ListEntrustmentsResponse(
            entrustments=[
                pb.Entrustment(
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

    async def ListItems(self, request: pb.ListItemsRequest, context: Ctx) -> pb.ListItemsResponse:
        """Items a township may act on today: its own, market supervision (jointly), entrusted."""
        self._known_town(request.township_id)
        session = current_uow().session
        entrusted = await repository.entrustments_valid_on(
            session, request.township_id, clock.today()
        )
        rows = [(i, "") for i in await repository.own_and_market_items(session)]
        rows += [(i, e.document_no) for e, i in entrusted]
        out = pb.ListItemsResponse()
        for item, document in sorted(rows, key=lambda r: r[0].code):
            out.items.append(
                pb.EnforcementItem(
                    code=item.code,
                    name_zh=item.name_zh,
                    name_en=item.name_en,
                    category=item.category,
                    department=item.department,
                    legal_basis=item.legal_basis,
                    bands=[
                        pb.DiscretionBand(
                            level=b["level"],
                            min_fine=b["min_fine"],
                            max_fine=b["max_fine"],
                            other_penalties=b.get("other_penalties", []),
                        )
                        for b in item.discretion
                    ],
                    entrustment_document=document,
                    joint_with_market_supervision=item.category == "market_supervision",
                )
            )
        return out

    # ------------------------------------------------------------ complaints
    def _complaint_out(self, c: ComplaintRow, *, staff: bool) -> pb.Complaint:
        kind = intake.complaint_type(c.service_code)
        out = pb.Complaint(
            id=c.id,
            township_id=c.township_id,
            token=c.token,
            service_code=c.service_code,
            service_name=kind.name,
            channel=c.channel,
            state=c.state,
            description=c.description,
            address=c.address,
            lat=c.lat,
            long=c.long,
            real_name=c.real_name,
            reason=c.reason,
            case_id=c.case_id or "",
            received_at=_iso(c.received_at),
            acceptance_due=_day(c.acceptance_due),
            service_notice=self._notice(),
            attributes=c.attributes,
            overdue=c.state == intake.RECEIVED and clock.today() > c.acceptance_due,
        )
        if staff:
            out.complainant.CopyFrom(pb.Complainant(**c.complainant))
            for f in c.feedback:
                out.feedback.append(pb.FeedbackEntry(**f))
        return out

    @staticmethod
    def _notice() -> str:
        return (
            "投诉举报将在7个工作日内作出是否受理的决定 "
            "The complaint will be accepted or rejected within 7 working days"
        )

    async def SubmitComplaint(
        self, request: pb.SubmitComplaintRequest, context: Ctx
    ) -> pb.Complaint:
        """A complaint or report from the public (Open311) or entered by staff."""
        principal = optional_principal()
        if principal is not None:
            principal, township = await self._staff(*INTAKE_ROLES)
            channel = request.channel or "staff"
            if channel not in intake.CHANNELS:
                raise InvalidArgument(
                    f"channel is one of {', '.join(sorted(intake.CHANNELS))}",
                    field="channel",
                    rule="enum",
                )
        else:
            township = request.township_id
            self._known_town(township)
            channel = "open311"
        kind = intake.complaint_type(request.service_code)
        attributes = intake.validate_attributes(kind, dict(request.attributes))
        intake.check_location(request.lat, request.long, request.address, request.address_id)
        description = request.description.strip()
        if len(description) > 4000:
            raise InvalidArgument(
                "description is at most 4000 characters", field="description", rule="max 4000"
            )
        who = request.complainant
        now = clock.now()
        received_on = now.astimezone(clock.CHINA).date()
        row = ComplaintRow(
            id=new_id(),
            township_id=township,
            token=new_id(),
            service_code=kind.code,
            channel=channel,
            state=intake.RECEIVED,
            description=description,
            address=request.address.strip()[:500],
            address_id=request.address_id.strip()[:100],
            lat=request.lat,
            long=request.long,
            media_url=request.media_url[:1000],
            attributes=attributes,
            complainant={
                "first_name": who.first_name,
                "last_name": who.last_name,
                "email": who.email,
                "phone": who.phone,
                "device_id": who.device_id,
                "account_id": who.account_id,
            },
            real_name=intake.is_real_name(who.first_name, who.last_name, who.phone, who.email),
            reason="",
            case_id=None,
            feedback=[],
            received_at=now,
            acceptance_due=intake.acceptance_due(self.calendar, received_on),
            updated_at=now,
        )
        session = current_uow().session
        repository.add(session, row)
        await session.flush()
        await events.complaint(current_uow(), row, "received", principal.sub if principal else "")
        return self._complaint_out(row, staff=principal is not None)

    async def GetComplaint(self, request: pb.GetComplaintRequest, context: Ctx) -> pb.Complaint:
        """A complaint with the complainant's details (its township's staff only)."""
        _, township = await self._staff()
        row = await repository.complaint(current_uow().session, township, request.id)
        if row is None:
            raise NotFound(f"complaint {request.id} not found")
        return self._complaint_out(row, staff=True)

    async def ListComplaints(
        self, request: pb.ListComplaintsRequest, context: Ctx
    ) -> pb.ListComplaintsResponse:
        """The town's complaints, newest first; ``state=RECEIVED`` is the intake queue."""
        _, township = await self._staff()
        size = _page_size(request.page.page_size)
        rows = await repository.list_complaints(
            current_uow().session,
            township,
            state=request.state,
            before=request.page.cursor,
            limit=size + 1,
        )
        out = pb.ListComplaintsResponse(
            complaints=[self._complaint_out(c, staff=True) for c in rows[:size]]
        )
        if len(rows) > size:
            out.page.next_cursor = rows[size - 1].id
        return out

    async def DecideComplaint(
        self, request: pb.DecideComplaintRequest, context: Ctx
    ) -> pb.Complaint:
        """Accept (opening a clue for an item) or reject; feedback to a real-name complainant."""
        principal, township = await self._staff("officer", "township_admin")
        session = current_uow().session
        row = await repository.complaint(session, township, request.id, lock=True)
        if row is None:
            raise NotFound(f"complaint {request.id} not found")
        intake.check_decidable(row.state)
        now = clock.now()
        if request.accept:
            code = _required(request.item_code, "item_code", 32)
            case = await self._open_case(
                principal,
                township,
                item_code=code,
                departments=request.departments,
                source="complaint",
                summary=row.description[:1000],
                party={},
                complaint_id=row.id,
            )
            row.state = intake.ACCEPTED
            row.case_id = case.id
            row.reason = request.reason.strip()
            verb = "accepted"
            default = "您的投诉举报已受理 Your complaint was accepted"
        else:
            row.state = intake.REJECTED
            row.reason = _required(request.reason, "reason", 1000)
            verb = "rejected"
            default = f"您的投诉举报不予受理：{row.reason} Not accepted: {row.reason}"
        if row.real_name:
            text = request.feedback.strip() or default
            row.feedback = [*row.feedback, {"at": _iso(now), "text": text, "by": principal.sub}]
        row.updated_at = now
        await session.flush()
        await events.complaint(current_uow(), row, verb, principal.sub)
        return self._complaint_out(row, staff=True)

    # ------------------------------------------------------------ Open311 views
    def _service_out(self, kind: intake.ComplaintType, *, full: bool) -> pb.ComplaintService:
        out = pb.ComplaintService(
            service_code=kind.code,
            service_name=kind.name,
            description=kind.description,
            metadata=bool(kind.attributes),
            type="realtime",
            keywords=list(kind.keywords),
            group=kind.group,
        )
        if full:
            for a in kind.attributes:
                out.attributes.append(
                    pb.ServiceAttribute(
                        code=a.code,
                        variable=a.variable,
                        datatype=a.datatype,
                        required=a.required,
                        datatype_description=a.datatype_description,
                        order=a.order,
                        description=a.description,
                        values=[pb.AttributeValue(key=k, name=n) for k, n in a.values],
                    )
                )
        return out

    async def ListComplaintServices(
        self, request: pb.ListComplaintServicesRequest, context: Ctx
    ) -> pb.ListComplaintServicesResponse:
        """The complaint types a township takes (Open311 services; public)."""
        self._known_town(request.township_id)
        return pb.ListComplaintServicesResponse(
            services=[self._service_out(k, full=False) for k in intake.COMPLAINT_TYPES]
        )

    async def GetComplaintService(
        self, request: pb.GetComplaintServiceRequest, context: Ctx
    ) -> pb.ComplaintService:
        """One complaint type with its attributes (Open311 service definition; public)."""
        self._known_town(request.township_id)
        try:
            kind = intake.complaint_type(request.service_code)
        except InvalidArgument:
            raise NotFound(f"service_code {request.service_code!r} not found") from None
        return self._service_out(kind, full=True)

    async def ListPublicRequests(
        self, request: pb.ListPublicRequestsRequest, context: Ctx
    ) -> pb.ListPublicRequestsResponse:
        """Complaints as Open311 service requests: status follows the case; no personal data."""
        township = request.township_id
        self._known_town(township)

        def instant(value: str, field: str) -> dt.datetime | None:
            if not value:
                return None
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidArgument(
                    f"{field} must be an ISO 8601 date and time (W3C)", field=field, rule="w3c"
                ) from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=clock.CHINA)

        start = instant(request.start, "start_date")
        end = instant(request.end, "end_date")
        if request.status not in ("", "open", "closed"):
            raise InvalidArgument("status is open or closed", field="status", rule="open|closed")
        ids = [i for i in request.ids if i]
        if not ids and not request.token and start is None:
            start = (end or clock.now()) - dt.timedelta(days=90)
        limit = min(request.limit or 1000, 1000)
        rows = await repository.public_complaints(
            current_uow().session,
            township,
            ids=ids,
            token=request.token,
            service_code=request.service_code,
            start=start,
            end=end,
            limit=limit,
        )
        out = pb.ListPublicRequestsResponse()
        agency = self._agency(township)
        for c, case in rows:
            status, notes = intake.public_status(c.state, c.reason, case.state if case else None)
            if request.status and status != request.status:
                continue
            updated = max(c.updated_at, case.updated_at) if case else c.updated_at
            expected = ""
            if c.state == intake.RECEIVED:
                expected = _iso(
                    dt.datetime.combine(c.acceptance_due, dt.time(17, 30), tzinfo=clock.CHINA)
                )
            kind = intake.complaint_type(c.service_code)
            out.requests.append(
                pb.PublicRequest(
                    service_request_id=c.id,
                    status=status,
                    status_notes=notes,
                    service_name=kind.name,
                    service_code=c.service_code,
                    description=c.description,
                    agency_responsible=agency,
                    service_notice=self._notice(),
                    requested_datetime=_iso(c.received_at),
                    updated_datetime=_iso(updated),
                    expected_datetime=expected,
                    address=c.address,
                    address_id=c.address_id,
                    lat=c.lat,
                    long=c.long,
                    media_url=c.media_url,
                    token=c.token,
                )
            )
        return out

    # ------------------------------------------------------------ cases
    async def ListOfficers(
        self, request: pb.ListOfficersRequest, context: Ctx
    ) -> pb.ListOfficersResponse:
        """Certified officers of the caller's town (to pick the two or more of a step)."""
        _, township = await self._staff()
        return pb.ListOfficersResponse(
            officers=[
                pb.Officer(
                    sub=o.sub, name=o.name, certificate=o.certificate, seen_at=_iso(o.seen_at)
                )
                for o in await repository.officers(current_uow().session, township)
            ]
        )

    async def OpenCase(self, request: pb.OpenCaseRequest, context: Ctx) -> pb.Case:
        """Open a clue for an item the town may act on today (entrusted and valid, or its own)."""
        principal, township = await self._staff("officer", "township_admin")
        source = request.source or "referral"
        if source not in ("referral", "complaint", "inspection"):
            raise InvalidArgument(
                "source is referral, complaint or inspection", field="source", rule="enum"
            )
        case = await self._open_case(
            principal,
            township,
            item_code=_required(request.item_code, "item_code", 32),
            departments=request.departments,
            source=source,
            summary=request.summary.strip()[:4000],
            party=_party(request.party),
        )
        return await self._case_out(case)

    async def GetCase(self, request: pb.GetCaseRequest, context: Ctx) -> pb.Case:
        """A case with its full-process record, for its town or a participating department."""
        return await self._case_out(await self._visible_case(request.id))

    async def _visible_case(self, case_id: str) -> CaseRow:
        """The case, if the caller may see it (its town, or a participating department)."""
        principal = current_principal()
        case = await repository.case_visible(current_uow().session, case_id, *_viewer(principal))
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    async def GetHearingNotice(self, request: pb.GetCaseRequest, context: Ctx) -> pb.HearingNotice:
        """The notice (听证通知书) of the case's scheduled hearing, for whoever may see the case."""
        case = await self._visible_case(request.id)
        session = current_uow().session
        if not case.hearing:
            raise Conflict(
                f"case {case.case_no} has no scheduled hearing: the notice is made from the "
                "schedule_hearing step",
                type="hearing-not-scheduled",
            )
        schedule = rules.HearingSchedule.from_json(case.hearing)
        item = await repository.item(session, case.item_code)
        presiding = await repository.officer_names(session, case.township_id, [schedule.presiding])
        notice = notices.hearing_notice(
            case_no=case.case_no,
            issuer_name=self._issuer_name(case.township_id, item.department if item else ""),
            carried_out_by=self._agency(case.township_id),
            entrustment_document=case.entrustment_document,
            party_name=str(case.party.get("name", "")),
            matter=item.name_zh if item else case.item_code,
            presiding_name=presiding.get(schedule.presiding) or schedule.presiding,
            schedule=schedule,
            notice_on=case.notice_on,
        )
        return pb.HearingNotice(
            case_id=case.id,
            case_no=case.case_no,
            notice_no=notice.notice_no,
            issuer=item.department if item else "",
            issuer_name=notice.issuer_name,
            carried_out_by=notice.carried_out_by,
            entrustment_document=notice.entrustment_document,
            party_name=notice.party_name,
            matter=notice.matter,
            hearing_on=_day(schedule.hearing_on),
            place=schedule.place,
            presiding_officer=schedule.presiding,
            presiding_officer_name=notice.presiding_name,
            public=schedule.public,
            closed_reason=schedule.closed_reason,
            notified_on=_day(schedule.notified_on),
            rights=notice.rights,
            text=notice.text,
        )

    async def GetDecisionDocument(
        self, request: pb.GetCaseRequest, context: Ctx
    ) -> pb.DecisionDocument:
        """The decision document (行政处罚决定书) of a decided case, for whoever may see it."""
        case = await self._visible_case(request.id)
        session = current_uow().session
        if not case.decision or case.decided_on is None:
            raise Conflict(
                f"case {case.case_no} is not decided: the document is made from the decide step",
                type="not-decided",
            )
        item = await repository.item(session, case.item_code)
        department = item.department if item else ""
        evidence = [
            str(e.get("name", ""))
            for r in await repository.record(session, case.id)
            for e in r.evidence
            if e.get("name")
        ]
        doc = notices.decision_document(
            decision=case.decision,
            issuer_name=self._issuer_name(case.township_id, department),
            carried_out_by=self._agency(case.township_id),
            entrustment_document=case.entrustment_document,
            party=case.party,
            matter=item.name_zh if item else case.item_code,
            facts=case.summary,
            evidence=evidence,
            legal_basis=item.legal_basis if item else "",
            decided_on=case.decided_on,
        )
        return pb.DecisionDocument(
            case_id=case.id,
            case_no=case.case_no,
            decision_no=doc.decision_no,
            kind=doc.kind,
            title=doc.title,
            issuer=department,
            issuer_name=doc.issuer_name,
            carried_out_by=doc.carried_out_by,
            entrustment_document=doc.entrustment_document,
            party_name=doc.party_name,
            matter=doc.matter,
            legal_basis=doc.legal_basis,
            fine=f"{doc.fine:.2f}",
            penalties=doc.penalties,
            evidence=doc.evidence,
            decided_on=_day(doc.decided_on),
            text=doc.text,
        )

    def _issuer_name(self, township: str, department: str) -> str:
        town = self.towns.get(township) if self.towns else None
        names = {d.code: d.name.zh for d in load_enforcement_catalogue().departments}
        return notices.issuer_name(department, names, town.name.zh if town else township)

    async def ListCases(self, request: pb.ListCasesRequest, context: Ctx) -> pb.ListCasesResponse:
        """Cases of the caller's town, or the joint cases of a county department (all towns)."""
        principal = current_principal()
        size = _page_size(request.page.page_size)
        rows = await repository.list_cases(
            current_uow().session,
            *_viewer(principal),
            state=request.state,
            after=request.page.cursor,
            limit=size + 1,
        )
        out = pb.ListCasesResponse()
        for c in rows[:size]:
            out.cases.append(
                pb.CaseSummary(
                    id=c.id,
                    township_id=c.township_id,
                    case_no=c.case_no,
                    item_code=c.item_code,
                    state=c.state,
                    departments=c.departments,
                    filed_on=_day(c.filed_on),
                )
            )
        if len(rows) > size:
            out.page.next_cursor = rows[size - 1].id
        return out

    async def ActOnCase(self, request: pb.CaseActionRequest, context: Ctx) -> pb.Case:
        """One procedural step; refused steps write nothing (the unit of work rolls back)."""
        principal, township = await self._staff()
        action = request.WhichOneof("action")
        if action is None:
            raise InvalidArgument("an action is required", field="action", rule="one action")
        uow = current_uow()
        case = await repository.case_for_update(uow.session, township, request.case_id)
        if case is None:
            raise NotFound(f"case {request.case_id} not found")
        rules.check_actor(
            action, principal.roles, principal.certificate, principal.sub, case.recused
        )
        before = case.state
        target = rules.check_transition(action, before)
        step = getattr(request, action)
        handler = getattr(self, f"_do_{action}")
        officers, evidence, note = await handler(case, step, principal, township)
        if target is not None and case.state == before:
            case.state = target
        case.updated_at = clock.now()
        await uow.session.flush()
        await self._record(
            case,
            principal,
            action if action != "transfer" else f"transfer:{step.step}",
            before,
            case.state,
            officers=officers,
            evidence=evidence,
            note=note,
        )
        return await self._case_out(case)

    async def _do_verify(self, case: CaseRow, a: pb.VerifyAction, p: Principal, t: str) -> Step:
        return [p.sub], [], a.note

    async def _do_file(self, case: CaseRow, a: pb.FileAction, p: Principal, t: str) -> Step:
        entrustment = await self._actionable(t, case.item_code, case.departments)
        team = await self._team(t, a.officers, case.recused, None)
        if a.party.name.strip():
            case.party = _party(a.party)
        case.officers = team
        case.filed_on = clock.today()
        case.entrustment_document = entrustment.document_no if entrustment else ""
        case.state = rules.FILED
        await current_uow().session.flush()
        await events.case_filed(current_uow(), case)
        return team, [], a.note

    async def _do_drop(self, case: CaseRow, a: pb.DropAction, p: Principal, t: str) -> Step:
        reason = _required(a.reason, "reason", 1000)
        case.outcome = "dropped"
        case.closed_on = clock.today()
        await self._tell_complainant(
            case, p, f"经核查不予立案：{reason} Checked; no case was filed: {reason}"
        )
        return [], [], reason

    async def _tell_complainant(self, case: CaseRow, p: Principal, text: str) -> None:
        """Feedback on the outcome to a real-name complainant (实名举报人)."""
        if not case.complaint_id:
            return
        row = await repository.complaint(
            current_uow().session, case.township_id, case.complaint_id, lock=True
        )
        if row is not None and row.real_name:
            now = clock.now()
            row.feedback = [*row.feedback, {"at": _iso(now), "text": text, "by": p.sub}]
            row.updated_at = now

    async def _do_investigate(
        self, case: CaseRow, a: pb.InvestigateAction, p: Principal, t: str
    ) -> Step:
        team = await self._team(t, a.officers, case.recused, p.sub)
        evidence = _evidence(a.evidence, required=True)
        case.officers = list(dict.fromkeys([*case.officers, *team]))
        return team, evidence, a.note

    async def _do_submit_review(
        self, case: CaseRow, a: pb.SubmitReviewAction, p: Principal, t: str
    ) -> Step:
        case.review_passed = False
        return [p.sub], [], a.note

    async def _do_review(self, case: CaseRow, a: pb.ReviewAction, p: Principal, t: str) -> Step:
        if a.approve:
            case.review_passed = True
            return [], [], a.opinion
        case.review_passed = False
        case.state = rules.INVESTIGATING
        return [], [], _required(a.opinion, "opinion", 4000)

    async def _do_notice(self, case: CaseRow, a: pb.NoticeAction, p: Principal, t: str) -> Step:
        if not case.review_passed:
            raise Conflict("the legal review has not passed yet", type="legal-review-pending")
        proposed = a.proposed or "penalty"
        if proposed not in ("penalty", "no_penalty"):
            raise InvalidArgument(
                "proposed is penalty or no_penalty", field="proposed", rule="enum"
            )
        fine = ""
        if proposed == "penalty":
            amount = rules.parse_money(a.fine or "0", "fine")
            rules.check_fine_in_band(await self._bands(case), "", amount)
            fine = str(amount)
        case.proposed = {"kind": proposed, "fine": fine}
        case.notice_on = clock.today()
        return [p.sub], [], a.note

    async def _bands(self, case: CaseRow) -> list[rules.Band]:
        item = await repository.item(current_uow().session, case.item_code)
        return [rules.Band.from_json(b) for b in (item.discretion if item else [])]

    async def _do_statement(
        self, case: CaseRow, a: pb.StatementAction, p: Principal, t: str
    ) -> Step:
        if a.waive_hearing:
            case.hearing_waived = True
        return (
            [p.sub],
            [],
            a.statement.strip()[:4000] + (" [waives hearing]" if a.waive_hearing else ""),
        )

    async def _do_request_hearing(
        self, case: CaseRow, a: pb.RequestHearingAction, p: Principal, t: str
    ) -> Step:
        if case.notice_on and not rules.hearing_window_open(
            case.notice_on, clock.today(), self.calendar
        ):
            raise Conflict("the 5-day window to ask for a hearing has passed", type="hearing-late")
        if case.hearing_waived:
            raise Conflict("the party waived the hearing", type="hearing-waived")
        return [p.sub], [], a.note

    async def _do_schedule_hearing(
        self, case: CaseRow, a: pb.ScheduleHearingAction, p: Principal, t: str
    ) -> Step:
        schedule = rules.schedule_hearing(
            hearing_on=a.hearing_on,
            place=a.place[:200],
            presiding=a.presiding_officer,
            public=a.public,
            closed_reason=a.closed_reason,
            investigators=case.officers,
            recused=case.recused,
            today=clock.today(),
            calendar=self.calendar,
        )
        again = " (rescheduled)" if case.hearing else ""
        case.hearing = schedule.as_json()
        told = (
            f"hearing on {schedule.hearing_on} at {schedule.place}, presided over by "
            f"{schedule.presiding}, {'public' if schedule.public else 'closed: '}"
            f"{schedule.closed_reason}; party notified {schedule.notified_on}{again}"
        )
        return [p.sub], [], f"{told}. {a.note.strip()[:4000]}".strip()

    async def _do_hearing(self, case: CaseRow, a: pb.HearingAction, p: Principal, t: str) -> Step:
        today = clock.today()
        held = today
        if a.held_on:
            try:
                held = dt.date.fromisoformat(a.held_on)
            except ValueError:
                raise InvalidArgument("held_on is a date", field="held_on", rule="date") from None
        scheduled = case.hearing.get("hearing_on")
        rules.check_hearing_held(
            dt.date.fromisoformat(scheduled) if scheduled else None, held, today
        )
        case.hearing_on = held
        note = a.note.strip()[:4000]
        if a.party_absent:
            # 第六十四条(六): absent without good reason, the party waived the hearing
            case.hearing_waived = True
            note = f"party absent without good reason: hearing ended, right waived. {note}"
        return [p.sub], _evidence(a.evidence), note.strip()

    async def _do_decide(self, case: CaseRow, a: pb.DecideAction, p: Principal, t: str) -> Step:
        kind = a.kind
        if kind not in ("penalty", "no_penalty", "transfer"):
            raise InvalidArgument(
                "kind is penalty, no_penalty or transfer", field="kind", rule="enum"
            )
        if kind == "transfer":
            await self._start_transfer(case, a.reasoning)
            return [], [], a.reasoning
        rules.check_may_decide(
            case.state, case.notice_on, case.hearing_waived, clock.today(), self.calendar
        )
        decision: dict[str, Any] = {"kind": kind, "reasoning": a.reasoning}
        if kind == "penalty":
            fine = rules.parse_money(a.fine or "0", "fine")
            band = rules.check_fine_in_band(await self._bands(case), a.band, fine)
            rules.check_other_penalties(band, a.other_penalties)
            decision.update(
                fine=str(fine), band=band.level, other_penalties=list(a.other_penalties)
            )
        decision["decision_no"] = f"{case.case_no}-JD"
        case.decision = decision
        case.decided_on = clock.today()
        case.state = rules.DECIDED
        await current_uow().session.flush()
        await events.case_decided(current_uow(), case)
        return [], [], a.reasoning

    async def _do_serve(self, case: CaseRow, a: pb.ServeAction, p: Principal, t: str) -> Step:
        if a.method not in SERVICE_METHODS:
            raise InvalidArgument(
                f"method is one of {', '.join(sorted(SERVICE_METHODS))}",
                field="method",
                rule="service method",
            )
        case.served_on = clock.today()
        return [p.sub], [], f"{a.method}: {a.note}".strip()

    async def _do_pay(self, case: CaseRow, a: pb.PayAction, p: Principal, t: str) -> Step:
        if case.decision.get("kind") != "penalty":
            raise Conflict("only a fine can be paid", type="no-fine")
        if case.decision.get("revoked_on"):
            raise Conflict("the decision was revoked", type="decision-revoked")
        amount = rules.parse_money(a.amount, "amount")
        if amount <= 0:
            raise InvalidArgument("amount must be positive", field="amount", rule="positive")
        owed = Decimal(case.decision["fine"]) + self._surcharge(case) - Decimal(case.paid)
        if amount > owed:
            raise InvalidArgument(
                f"only {owed} yuan is owed", field="amount", rule="not more than owed"
            )
        case.paid = str(Decimal(case.paid) + amount)
        return [p.sub], [], f"paid {amount} ({a.receipt_no})"

    async def _do_close(self, case: CaseRow, a: pb.CloseAction, p: Principal, t: str) -> Step:
        kind = str(case.decision.get("kind", ""))
        fine = Decimal(str(case.decision.get("fine") or "0"))
        case.outcome = rules.check_can_close(
            case.state,
            kind,
            fine,
            Decimal(case.paid),
            self._surcharge(case),
            str(case.transfer.get("stage", "")),
            revoked=bool(case.decision.get("revoked_on")),
        )
        today = clock.today()
        case.closed_on = today
        within = True
        if case.filed_on is not None and case.decided_on is not None:
            within = case.decided_on <= rules.decision_due(
                case.filed_on, case.extensions, self.calendar
            )
        case.state = rules.CLOSED
        await self._tell_complainant(
            case, p, f"案件已办结（{case.case_no}）The case was closed ({case.case_no})"
        )
        await current_uow().session.flush()
        await events.case_closed(current_uow(), case, within)
        return [], [], a.note

    async def _do_publish(self, case: CaseRow, a: pb.PublishAction, p: Principal, t: str) -> Step:
        if case.decision.get("kind") != "penalty":
            raise Conflict("only penalty decisions are published", type="nothing-to-publish")
        if case.publication:
            raise Conflict(f"the decision is already {case.publication.lower()}", type="published")
        case.publication = "PUBLISHED"
        case.published_on = clock.today()
        await current_uow().session.flush()
        await events.decision_publicity(current_uow(), case, "published")
        return [], [], a.note

    async def _do_retract(self, case: CaseRow, a: pb.RetractAction, p: Principal, t: str) -> Step:
        if case.publication != "PUBLISHED":
            raise Conflict("the decision is not published", type="not-published")
        reason = _required(a.reason, "reason", 1000)
        case.publication = "RETRACTED"
        case.retracted_on = clock.today()
        await current_uow().session.flush()
        await events.decision_publicity(current_uow(), case, "retracted")
        return [], [], reason

    async def _do_revoke(self, case: CaseRow, a: pb.RevokeAction, p: Principal, t: str) -> Step:
        if not case.decision.get("kind"):
            raise Conflict("there is no decision to revoke", type="no-decision")
        if case.decision.get("revoked_on"):
            raise Conflict("the decision is already revoked", type="decision-revoked")
        reason = _required(a.reason, "reason", 1000)
        case.decision = {
            **case.decision,
            "revoked_on": clock.today().isoformat(),
            "revoked_by": a.authority,
        }
        note = f"revoked ({a.authority or 'the organ'}): {reason}"
        if case.publication == "PUBLISHED":
            note += "; the publication must be retracted within 3 days"
        return [], [], note

    async def _do_extend(self, case: CaseRow, a: pb.ExtendAction, p: Principal, t: str) -> Step:
        if not 1 <= a.days <= 90:
            raise InvalidArgument("days is 1 to 90", field="days", rule="1..90")
        reason = _required(a.reason, "reason", 1000)
        if case.filed_on is None:
            raise Conflict("only a filed case has a decision deadline", type="not-filed")
        case.extensions = [*case.extensions, a.days]
        return [], [], f"+{a.days} days: {reason}"

    async def _do_recuse(self, case: CaseRow, a: pb.RecuseAction, p: Principal, t: str) -> Step:
        officer = a.officer.strip() or p.sub
        if officer != p.sub and not p.has_role("township_admin"):
            raise PermissionDenied(
                "an officer declares their own conflict; the head records others'",
                type="role-required",
            )
        reason = _required(a.reason, "reason", 1000)
        case.recused = list(dict.fromkeys([*case.recused, officer]))
        case.officers = [o for o in case.officers if o != officer]
        return [officer], [], reason

    async def _do_add_departments(
        self, case: CaseRow, a: pb.AddDepartmentsAction, p: Principal, t: str
    ) -> Step:
        added = _departments(a.departments)
        if not added:
            raise InvalidArgument("name a department", field="departments", rule="at least one")
        case.departments = list(dict.fromkeys([*case.departments, *added]))
        return [], [], "joint enforcement with " + ", ".join(added)

    async def _start_transfer(self, case: CaseRow, note: str) -> None:
        now = _iso(clock.now())
        case.transfer = {
            "stage": "proposed",
            "previous_state": case.state,
            "proposed_at": now,
            "since": clock.now().isoformat(),
            "note": note,
        }
        case.state = rules.TRANSFERRED
        await current_uow().session.flush()
        await events.case_transferred(current_uow(), case, "proposed")

    async def _do_transfer(self, case: CaseRow, a: pb.TransferAction, p: Principal, t: str) -> Step:
        stage = str(case.transfer.get("stage", "")) if case.state == rules.TRANSFERRED else ""
        target = transfers.next_stage(a.step, stage, p.roles, a.approve)
        evidence = _evidence(a.evidence)
        if a.step == "propose":
            await self._start_transfer(case, a.note)
            return [p.sub], evidence, a.note
        now = clock.now()
        data = dict(case.transfer)
        if a.step == "head_decide":
            data["head_decided_at"] = _iso(now)
            if not target:
                case.state = str(data.get("previous_state") or rules.INVESTIGATING)
                data["stage"] = ""
                case.transfer = data
                return [], evidence, "head refused the transfer: " + a.note
        elif a.step == "send":
            data["receiving_agency"] = _required(a.receiving_agency, "receiving_agency", 200)
            data["sent_at"] = _iso(now)
        elif a.step == "receive":
            data["received_at"] = _iso(now)
        elif a.step == "police_decide":
            data["police_decided_at"] = _iso(now)
            data["police_decision"] = target
        elif a.step == "resume":
            previous = str(data.get("previous_state") or rules.INVESTIGATING)
            case.state = previous if previous in rules.BEFORE_DECISION else rules.INVESTIGATING
        data["stage"] = target
        data["since"] = now.isoformat()
        case.transfer = data
        await current_uow().session.flush()
        await events.case_transferred(current_uow(), case, target or "resumed")
        return [p.sub], evidence, a.note

    # ------------------------------------------------------------ inspections
    def _inspection_out(self, r: InspectionRow) -> pb.Inspection:
        return pb.Inspection(
            id=r.id,
            township_id=r.township_id,
            kind=r.kind,
            place=r.place,
            scheduled_on=_day(r.scheduled_on),
            state=r.state,
            officers=r.officers,
            departments=r.departments,
            checklist=[pb.ChecklistEntry(**c) for c in r.checklist],
            findings=[
                pb.Finding(
                    text=f.get("text", ""),
                    item_code=f.get("item_code", ""),
                    becomes_clue=bool(f.get("becomes_clue")),
                    party_name=f.get("party_name", ""),
                    case_id=f.get("case_id", ""),
                    evidence=[pb.Evidence(**e) for e in f.get("evidence", [])],
                )
                for f in r.findings
            ],
            created_by=r.created_by,
            completed_at=_iso(r.completed_at),
        )

    async def CreateInspection(
        self, request: pb.CreateInspectionRequest, context: Ctx
    ) -> pb.Inspection:
        """Plan an inspection with at least two certified officers and its checklist."""
        principal, township = await self._staff("officer", "township_admin")
        if request.kind not in INSPECTION_KINDS:
            raise InvalidArgument("kind is routine, market_day or joint", field="kind", rule="enum")
        depts = _departments(request.departments)
        if request.kind == "joint" and not depts:
            raise InvalidArgument(
                "a joint inspection names its county departments",
                field="departments",
                rule="at least one for joint",
            )
        team = await self._team(township, request.officers, (), None)
        scheduled = clock.today()
        if request.scheduled_on:
            try:
                scheduled = dt.date.fromisoformat(request.scheduled_on)
            except ValueError:
                raise InvalidArgument(
                    "scheduled_on is a date", field="scheduled_on", rule="date"
                ) from None
        checklist = []
        for n, c in enumerate(request.checklist):
            checklist.append(
                {
                    "code": _required(c.code, f"checklist[{n}].code", 64),
                    "text": _required(c.text, f"checklist[{n}].text", 500),
                    "result": "",
                }
            )
        row = InspectionRow(
            id=new_id(),
            township_id=township,
            kind=request.kind,
            place=_required(request.place, "place", 300),
            scheduled_on=scheduled,
            state="PLANNED",
            officers=team,
            departments=depts,
            checklist=checklist,
            findings=[],
            created_by=principal.sub,
            created_at=clock.now(),
            completed_at=None,
        )
        repository.add(current_uow().session, row)
        await current_uow().session.flush()
        return self._inspection_out(row)

    async def CompleteInspection(
        self, request: pb.CompleteInspectionRequest, context: Ctx
    ) -> pb.Inspection:
        """Record results and findings; a finding marked as a clue opens one (same checks)."""
        principal, township = await self._staff("officer", "township_admin")
        session = current_uow().session
        row = await repository.inspection(session, request.id, township, None, lock=True)
        if row is None:
            raise NotFound(f"inspection {request.id} not found")
        if row.state != "PLANNED":
            raise Conflict("the inspection is already completed", type="inspection-completed")
        if principal.has_role("officer") and principal.sub not in row.officers:
            raise PermissionDenied(
                "only the inspection's officers record its results", type="not-on-inspection"
            )
        results = {c.code: c.result for c in request.checklist}
        for code, result in results.items():
            if result not in ("ok", "issue", "n/a"):
                raise InvalidArgument(
                    "a checklist result is ok, issue or n/a",
                    field=f"checklist[{code}].result",
                    rule="enum",
                )
        row.checklist = [
            {**c, "result": results.get(c["code"], c["result"])} for c in row.checklist
        ]
        findings = []
        for n, f in enumerate(request.findings):
            finding: dict[str, Any] = {
                "text": _required(f.text, f"findings[{n}].text"),
                "item_code": f.item_code,
                "becomes_clue": f.becomes_clue,
                "party_name": f.party_name,
                "evidence": _evidence(f.evidence),
                "case_id": "",
            }
            if f.becomes_clue:
                case = await self._open_case(
                    principal,
                    township,
                    item_code=_required(f.item_code, f"findings[{n}].item_code", 32),
                    departments=row.departments,
                    source="inspection",
                    summary=finding["text"],
                    party={"name": f.party_name, "kind": "person", "id_number": "", "address": ""},
                    inspection_id=row.id,
                )
                finding["case_id"] = case.id
            findings.append(finding)
        row.findings = findings
        row.state = "COMPLETED"
        row.completed_at = clock.now()
        await session.flush()
        return self._inspection_out(row)

    async def GetInspection(self, request: pb.GetInspectionRequest, context: Ctx) -> pb.Inspection:
        """An inspection of the caller's town, or a joint one of its department."""
        p = current_principal()
        row = await repository.inspection(current_uow().session, request.id, *_viewer(p))
        if row is None:
            raise NotFound(f"inspection {request.id} not found")
        return self._inspection_out(row)

    async def ListInspections(
        self, request: pb.ListInspectionsRequest, context: Ctx
    ) -> pb.ListInspectionsResponse:
        """Inspections the caller may see."""
        p = current_principal()
        size = _page_size(request.page.page_size)
        rows = await repository.list_inspections(
            current_uow().session,
            *_viewer(p),
            after=request.page.cursor,
            limit=size + 1,
        )
        out = pb.ListInspectionsResponse(inspections=[self._inspection_out(r) for r in rows[:size]])
        if len(rows) > size:
            out.page.next_cursor = rows[size - 1].id
        return out

    # ------------------------------------------------------------ disclosure
    async def ListPublishedDecisions(
        self, request: pb.ListPublishedDecisionsRequest, context: Ctx
    ) -> pb.ListPublishedDecisionsResponse:
        """Published decisions of a town (公示): no personal data beyond what the law publishes."""
        self._known_town(request.township_id)
        size = _page_size(request.page.page_size)
        rows = await repository.published_decisions(
            current_uow().session, request.township_id, after=request.page.cursor, limit=size + 1
        )
        out = pb.ListPublishedDecisionsResponse()
        agency = self._agency(request.township_id)
        for case, item in rows[:size]:
            d = case.decision
            out.decisions.append(
                pb.PublishedDecision(
                    case_no=case.case_no,
                    decision_no=d.get("decision_no", ""),
                    item_code=item.code,
                    item_name=item.name_zh,
                    legal_basis=item.legal_basis,
                    party=_public_party(case.party),
                    kind=d.get("kind", ""),
                    fine=d.get("fine", ""),
                    other_penalties=d.get("other_penalties", []),
                    decided_on=_day(case.decided_on),
                    published_on=_day(case.published_on),
                    agency=agency,
                )
            )
        if len(rows) > size:
            out.page.next_cursor = rows[size - 1][0].id
        return out
