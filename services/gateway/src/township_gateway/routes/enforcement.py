"""Enforcement (综合行政执法): entrusted powers, complaints, inspections, cases, disclosure."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Path, Query
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from township.common.v1 import common_pb2
from township.enforcement.v1 import enforcement_pb2 as pb
from township_gateway.auth import CurrentPrincipal, require_roles
from township_gateway.deps import PROBLEM_RESPONSES, IdempotencyKey, ServicesDep
from township_gateway.routing import PrefixRouter
from township_gateway.schemas import EntrustmentOut, EntrustmentsOut
from township_gateway.schemas_enforcement import (
    CaseActionIn,
    CaseOpenIn,
    CaseOut,
    CasesOut,
    ComplaintDecisionIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintsOut,
    DecisionDocumentOut,
    EnforcementItemsOut,
    HearingNoticeOut,
    InspectionCompleteIn,
    InspectionIn,
    InspectionOut,
    InspectionsOut,
    OfficersOut,
    PublishedDecisionOut,
    PublishedDecisionsOut,
)
from township_platform.principal import Principal

router = PrefixRouter(tags=["enforcement"], responses=PROBLEM_RESPONSES)

SLUG = Path(pattern=r"^[a-z][a-z0-9-]{1,30}$")


def _id() -> Any:
    """A path id (one Path object per parameter: FastAPI binds its alias to the first use)."""
    return Path(max_length=36, pattern=r"^[0-9a-fA-F-]{1,36}$")


API = "/api/v1/enforcement"
CURSOR = r"^[0-9a-fA-F-]{0,36}$"
STAFF = (
    "officer",
    "township_admin",
    "legal_reviewer",
    "clerk",
    "county_dept",
    "county_admin",
    "auditor",
)


def _dict(message: Message) -> dict[str, Any]:
    return MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _page(page_size: int, cursor: str) -> common_pb2.PageRequest:
    return common_pb2.PageRequest(page_size=page_size, cursor=cursor)


@router.get("/public/v1/townships/{township}/entrustments", response_model=EntrustmentsOut)
async def entrustments(services: ServicesDep, township: str = SLUG) -> EntrustmentsOut:
    """The enforcement powers entrusted to a township and valid today (委托执法事项目录)."""
    r = await services.call(
        services.enforcement.ListEntrustments,
        pb.ListEntrustmentsRequest(township_id=township),
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


@router.get("/public/v1/townships/{township}/enforcement/items", response_model=EnforcementItemsOut)
async def enforcement_items(services: ServicesDep, township: str = SLUG) -> EnforcementItemsOut:
    """Items the town may act on today (its own, market supervision jointly, entrusted)."""
    r = await services.call(
        services.enforcement.ListItems, pb.ListItemsRequest(township_id=township)
    )
    return EnforcementItemsOut.model_validate(
        {"township": township, "items": [_dict(i) for i in r.items]}
    )


@router.get(
    "/public/v1/townships/{township}/enforcement/decisions", response_model=PublishedDecisionsOut
)
async def published_decisions(
    services: ServicesDep,
    township: str = SLUG,
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", pattern=CURSOR),
) -> PublishedDecisionsOut:
    """Published penalty decisions (行政处罚决定公示); natural persons' names masked."""
    r = await services.call(
        services.enforcement.ListPublishedDecisions,
        pb.ListPublishedDecisionsRequest(township_id=township, page=_page(page_size, cursor)),
    )
    return PublishedDecisionsOut(
        township=township,
        decisions=[PublishedDecisionOut.model_validate(_dict(d)) for d in r.decisions],
        next_cursor=r.page.next_cursor or None,
    )


# ---------------------------------------------------------------- complaints
@router.post(f"{API}/complaints", status_code=201, response_model=ComplaintOut)
async def submit_complaint(
    body: ComplaintIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("clerk", "officer", "township_admin"),
) -> ComplaintOut:
    """A complaint or report taken by staff (phone, window); same intake as Open311."""
    r = await services.call(
        services.enforcement.SubmitComplaint,
        pb.SubmitComplaintRequest(
            service_code=body.service_code,
            description=body.description,
            address=body.address,
            lat=body.lat,
            long=body.long,
            attributes=body.attributes,
            complainant=pb.Complainant(**body.complainant.model_dump()),
            channel=body.channel,
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return ComplaintOut.model_validate(_dict(r))


@router.get(f"{API}/complaints", response_model=ComplaintsOut)
async def list_complaints(
    services: ServicesDep,
    principal: Principal = require_roles("clerk", "officer", "township_admin", "auditor"),
    state: str = Query("", pattern=r"^(|RECEIVED|ACCEPTED|REJECTED)$"),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", pattern=CURSOR),
) -> ComplaintsOut:
    """The town's complaints, newest first (``state=RECEIVED``: the acceptance queue)."""
    r = await services.call(
        services.enforcement.ListComplaints,
        pb.ListComplaintsRequest(page=_page(page_size, cursor), state=state),
        principal,
    )
    return ComplaintsOut.model_validate(
        {"complaints": [_dict(c) for c in r.complaints], "next_cursor": r.page.next_cursor or None}
    )


@router.get(f"{API}/complaints/{{complaint_id}}", response_model=ComplaintOut)
async def get_complaint(
    services: ServicesDep, principal: CurrentPrincipal, complaint_id: str = _id()
) -> ComplaintOut:
    """A complaint with the complainant's details (its township's staff only)."""
    r = await services.call(
        services.enforcement.GetComplaint, pb.GetComplaintRequest(id=complaint_id), principal
    )
    return ComplaintOut.model_validate(_dict(r))


@router.post(f"{API}/complaints/{{complaint_id}}/decision", response_model=ComplaintOut)
async def decide_complaint(
    body: ComplaintDecisionIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("officer", "township_admin"),
    complaint_id: str = _id(),
) -> ComplaintOut:
    """Accept (opening a clue) or reject a complaint within 7 working days."""
    r = await services.call(
        services.enforcement.DecideComplaint,
        pb.DecideComplaintRequest(id=complaint_id, **body.model_dump()),
        principal,
        idempotency_key=idempotency_key,
    )
    return ComplaintOut.model_validate(_dict(r))


# ---------------------------------------------------------------- cases
@router.get(f"{API}/officers", response_model=OfficersOut)
async def list_officers(
    services: ServicesDep,
    principal: Principal = require_roles("officer", "township_admin", "legal_reviewer"),
) -> OfficersOut:
    """Certified officers known to the town (an officer is known once they have acted)."""
    r = await services.call(services.enforcement.ListOfficers, pb.ListOfficersRequest(), principal)
    return OfficersOut.model_validate({"officers": [_dict(o) for o in r.officers]})


@router.post(f"{API}/cases", status_code=201, response_model=CaseOut)
async def open_case(
    body: CaseOpenIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("officer", "township_admin"),
) -> CaseOut:
    """Open a clue for an item entrusted to the town and valid today (or the town's own)."""
    r = await services.call(
        services.enforcement.OpenCase,
        pb.OpenCaseRequest(
            item_code=body.item_code,
            source=body.source,
            summary=body.summary,
            party=pb.Party(**body.party.model_dump()),
            departments=body.departments,
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return CaseOut.model_validate(_dict(r))


@router.get(f"{API}/cases", response_model=CasesOut)
async def list_cases(
    services: ServicesDep,
    principal: Principal = require_roles(*STAFF),
    state: str = Query("", pattern=r"^(|[A-Z_]{2,32})$"),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", pattern=CURSOR),
) -> CasesOut:
    """The town's cases; for a county department, the joint cases it takes part in."""
    r = await services.call(
        services.enforcement.ListCases,
        pb.ListCasesRequest(page=_page(page_size, cursor), state=state),
        principal,
    )
    return CasesOut.model_validate(
        {"cases": [_dict(c) for c in r.cases], "next_cursor": r.page.next_cursor or None}
    )


@router.get(f"{API}/cases/{{case_id}}", response_model=CaseOut)
async def get_case(
    services: ServicesDep, principal: CurrentPrincipal, case_id: str = _id()
) -> CaseOut:
    """A case with its full-process record (全过程记录) and running time limits."""
    r = await services.call(services.enforcement.GetCase, pb.GetCaseRequest(id=case_id), principal)
    return CaseOut.model_validate(_dict(r))


@router.get(f"{API}/cases/{{case_id}}/hearing-notice", response_model=HearingNoticeOut)
async def get_hearing_notice(
    services: ServicesDep, principal: CurrentPrincipal, case_id: str = _id()
) -> HearingNoticeOut:
    """The hearing notice (听证通知书) of the case's scheduled hearing, to print and serve.

    Made from the case's `schedule_hearing` step; 409 `hearing-not-scheduled` before it.
    """
    r = await services.call(
        services.enforcement.GetHearingNotice, pb.GetCaseRequest(id=case_id), principal
    )
    return HearingNoticeOut.model_validate(_dict(r))


@router.get(f"{API}/cases/{{case_id}}/decision-document", response_model=DecisionDocumentOut)
async def get_decision_document(
    services: ServicesDep, principal: CurrentPrincipal, case_id: str = _id()
) -> DecisionDocumentOut:
    """The decision document (行政处罚决定书) of a decided case, to print and serve.

    Made from the case's `decide` step and its record; 409 `not-decided` before it.
    """
    r = await services.call(
        services.enforcement.GetDecisionDocument, pb.GetCaseRequest(id=case_id), principal
    )
    return DecisionDocumentOut.model_validate(_dict(r))


@router.post(f"{API}/cases/{{case_id}}/actions", response_model=CaseOut)
async def act_on_case(
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: CaseActionIn = Body(),
    idempotency_key: IdempotencyKey = None,
    case_id: str = _id(),
) -> CaseOut:
    """One procedural step (``action`` names it); refused steps write nothing."""
    fields = body.model_dump(exclude={"action"})
    message_type = {
        "verify": pb.VerifyAction,
        "file": pb.FileAction,
        "drop": pb.DropAction,
        "investigate": pb.InvestigateAction,
        "submit_review": pb.SubmitReviewAction,
        "review": pb.ReviewAction,
        "notice": pb.NoticeAction,
        "statement": pb.StatementAction,
        "request_hearing": pb.RequestHearingAction,
        "schedule_hearing": pb.ScheduleHearingAction,
        "hearing": pb.HearingAction,
        "decide": pb.DecideAction,
        "serve": pb.ServeAction,
        "pay": pb.PayAction,
        "close": pb.CloseAction,
        "publish": pb.PublishAction,
        "retract": pb.RetractAction,
        "extend": pb.ExtendAction,
        "revoke": pb.RevokeAction,
        "recuse": pb.RecuseAction,
        "add_departments": pb.AddDepartmentsAction,
        "transfer": pb.TransferAction,
    }[body.action]
    if fields.get("party") is not None:
        fields["party"] = pb.Party(**fields["party"])
    else:
        fields.pop("party", None)
    if "evidence" in fields:
        fields["evidence"] = [pb.Evidence(**e) for e in fields["evidence"]]
    request = pb.CaseActionRequest(case_id=case_id, **{body.action: message_type(**fields)})
    r = await services.call(
        services.enforcement.ActOnCase, request, principal, idempotency_key=idempotency_key
    )
    return CaseOut.model_validate(_dict(r))


# ---------------------------------------------------------------- inspections
def _checklist(items: list[Any]) -> list[pb.ChecklistEntry]:
    return [pb.ChecklistEntry(code=c.code, text=c.text, result=c.result) for c in items]


@router.post(f"{API}/inspections", status_code=201, response_model=InspectionOut)
async def create_inspection(
    body: InspectionIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("officer", "township_admin"),
) -> InspectionOut:
    """Plan an inspection (routine, market-day stall patrol, joint) with two or more officers."""
    r = await services.call(
        services.enforcement.CreateInspection,
        pb.CreateInspectionRequest(
            kind=body.kind,
            place=body.place,
            scheduled_on=body.scheduled_on,
            officers=body.officers,
            departments=body.departments,
            checklist=_checklist(body.checklist),
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return InspectionOut.model_validate(_dict(r))


@router.post(f"{API}/inspections/{{inspection_id}}/completion", response_model=InspectionOut)
async def complete_inspection(
    body: InspectionCompleteIn,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = require_roles("officer", "township_admin"),
    inspection_id: str = _id(),
) -> InspectionOut:
    """Record checklist results and findings; findings marked as clues open cases."""
    r = await services.call(
        services.enforcement.CompleteInspection,
        pb.CompleteInspectionRequest(
            id=inspection_id,
            checklist=_checklist(body.checklist),
            findings=[
                pb.Finding(
                    text=f.text,
                    item_code=f.item_code,
                    becomes_clue=f.becomes_clue,
                    party_name=f.party_name,
                    evidence=[pb.Evidence(**e.model_dump()) for e in f.evidence],
                )
                for f in body.findings
            ],
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return InspectionOut.model_validate(_dict(r))


@router.get(f"{API}/inspections", response_model=InspectionsOut)
async def list_inspections(
    services: ServicesDep,
    principal: Principal = require_roles(*STAFF),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", pattern=CURSOR),
) -> InspectionsOut:
    """The town's inspections; for a county department, the joint ones it takes part in."""
    r = await services.call(
        services.enforcement.ListInspections,
        pb.ListInspectionsRequest(page=_page(page_size, cursor)),
        principal,
    )
    return InspectionsOut.model_validate(
        {
            "inspections": [_dict(i) for i in r.inspections],
            "next_cursor": r.page.next_cursor or None,
        }
    )


@router.get(f"{API}/inspections/{{inspection_id}}", response_model=InspectionOut)
async def get_inspection(
    services: ServicesDep, principal: CurrentPrincipal, inspection_id: str = _id()
) -> InspectionOut:
    """An inspection of the town, or a joint one of the caller's department."""
    r = await services.call(
        services.enforcement.GetInspection, pb.GetInspectionRequest(id=inspection_id), principal
    )
    return InspectionOut.model_validate(_dict(r))
