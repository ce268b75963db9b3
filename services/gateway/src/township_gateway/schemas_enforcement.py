"""Request and response bodies of the enforcement API (综合行政执法)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SHA256 = r"^[0-9a-f]{64}$"
ITEM = r"^ZF-[A-Z]{2}-\d{4}$"
SLUG = r"^[a-z][a-z0-9-]{1,30}$"
SUB = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
MONEY = r"^\d{1,9}(\.\d{1,2})?$"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here as a 422, never a 500 later.
        if _has_nul(data):
            raise ValueError("NUL characters are not allowed")
        return data


class EvidenceIn(_In):
    """An evidence item (证据): attachment metadata and its SHA-256 content hash."""

    name: str = Field(min_length=1, max_length=200)
    sha256: str = Field(pattern=SHA256)
    media_type: str = Field("", max_length=100)
    size: int = Field(0, ge=0, le=2**63 - 1, description="bytes")


class PartyIn(_In):
    """The party (当事人) a case is against."""

    name: str = Field("", max_length=200)
    kind: Literal["person", "organisation"] = "person"
    id_number: str = Field("", max_length=18)
    address: str = Field("", max_length=300)


class ComplainantIn(_In):
    """Who complains; kept for feedback, never published."""

    first_name: str = Field("", max_length=50)
    last_name: str = Field("", max_length=50)
    email: str = Field("", max_length=200)
    phone: str = Field("", max_length=30)


class ComplaintIn(_In):
    """A complaint or report entered by staff (phone, window)."""

    service_code: str = Field(min_length=1, max_length=64)
    description: str = Field("", max_length=4000)
    address: str = Field("", max_length=500)
    lat: str = Field("", max_length=32)
    long: str = Field("", max_length=32)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=50)
    complainant: ComplainantIn = Field(default_factory=ComplainantIn)
    channel: Literal["phone", "window", "staff"] = "staff"


class ComplaintDecisionIn(_In):
    """Accept (opening a clue for an item) or reject, within 7 working days."""

    accept: bool
    reason: str = Field("", max_length=1000)
    item_code: str = Field("", pattern=r"^(|ZF-[A-Z]{2}-\d{4})$")
    feedback: str = Field("", max_length=1000)
    departments: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list, max_length=12
    )


class ComplainantOut(BaseModel):
    """The complainant's details (staff only)."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""


class FeedbackOut(BaseModel):
    """Feedback sent to a real-name complainant."""

    at: str
    text: str
    by: str


class ComplaintOut(BaseModel):
    """A complaint as staff see it."""

    id: str
    township_id: str
    token: str
    service_code: str
    service_name: str
    channel: str
    state: str
    description: str
    address: str
    lat: str
    long: str
    complainant: ComplainantOut | None = None
    real_name: bool
    reason: str
    case_id: str
    received_at: str
    acceptance_due: str
    feedback: list[FeedbackOut]
    attributes: dict[str, str]
    overdue: bool = False


class ComplaintsOut(BaseModel):
    """A page of complaints."""

    complaints: list[ComplaintOut]
    next_cursor: str | None = None


class CaseOpenIn(_In):
    """Open a clue (线索) for an enforcement item the town may act on today."""

    item_code: str = Field(pattern=ITEM)
    source: Literal["referral", "complaint", "inspection"] = "referral"
    summary: str = Field("", max_length=4000)
    party: PartyIn = Field(default_factory=PartyIn)
    departments: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list, max_length=12
    )


Officers = list[Annotated[str, Field(pattern=SUB)]]


class VerifyIn(_In):
    action: Literal["verify"]
    note: str = Field("", max_length=4000)


class FileIn(_In):
    action: Literal["file"]
    officers: Officers = Field(max_length=20)
    party: PartyIn | None = None
    note: str = Field("", max_length=4000)


class DropIn(_In):
    action: Literal["drop"]
    reason: str = Field(min_length=1, max_length=1000)


class InvestigateIn(_In):
    action: Literal["investigate"]
    officers: Officers = Field(max_length=20)
    evidence: list[EvidenceIn] = Field(max_length=100)
    note: str = Field("", max_length=4000)


class SubmitReviewIn(_In):
    action: Literal["submit_review"]
    note: str = Field("", max_length=4000)


class ReviewIn(_In):
    action: Literal["review"]
    approve: bool
    opinion: str = Field("", max_length=4000)


class NoticeIn(_In):
    action: Literal["notice"]
    proposed: Literal["penalty", "no_penalty"] = "penalty"
    fine: str = Field("", pattern=r"^(|\d{1,9}(\.\d{1,2})?)$")
    note: str = Field("", max_length=4000)


class StatementIn(_In):
    action: Literal["statement"]
    statement: str = Field("", max_length=4000)
    waive_hearing: bool = False


class RequestHearingIn(_In):
    action: Literal["request_hearing"]
    note: str = Field("", max_length=4000)


class ScheduleHearingIn(_In):
    """第六十四条: told 7 working days ahead, public unless secret or private, presided over
    by someone who did not investigate the case. Scheduling again reschedules."""

    action: Literal["schedule_hearing"]
    hearing_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    place: str = Field(min_length=1, max_length=200)
    presiding_officer: str = Field(pattern=SUB)
    public: bool = True
    closed_reason: Literal["", "state_secret", "trade_secret", "privacy"] = ""
    note: str = Field("", max_length=4000)


class HearingIn(_In):
    """The hearing was held (on or after its notified day), or ended by the party's absence."""

    action: Literal["hearing"]
    held_on: str = Field("", pattern=r"^(|\d{4}-\d{2}-\d{2})$")
    note: str = Field("", max_length=4000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=100)
    party_absent: bool = False


class DecideIn(_In):
    action: Literal["decide"]
    kind: Literal["penalty", "no_penalty", "transfer"]
    fine: str = Field("", pattern=r"^(|\d{1,9}(\.\d{1,2})?)$")
    band: Literal["", "minor", "general", "serious"] = ""
    other_penalties: list[str] = Field(default_factory=list, max_length=10)
    reasoning: str = Field("", max_length=4000)


class ServeIn(_In):
    action: Literal["serve"]
    method: Literal["direct", "mail", "electronic", "left_at_address", "public_notice"]
    note: str = Field("", max_length=1000)


class PayIn(_In):
    action: Literal["pay"]
    amount: str = Field(pattern=MONEY)
    receipt_no: str = Field("", max_length=64)


class CloseIn(_In):
    action: Literal["close"]
    note: str = Field("", max_length=4000)


class PublishIn(_In):
    action: Literal["publish"]
    note: str = Field("", max_length=1000)


class RetractIn(_In):
    action: Literal["retract"]
    reason: str = Field(min_length=1, max_length=1000)


class ExtendIn(_In):
    action: Literal["extend"]
    days: int = Field(ge=1, le=90)
    reason: str = Field(min_length=1, max_length=1000)


class RevokeIn(_In):
    action: Literal["revoke"]
    reason: str = Field(min_length=1, max_length=1000)
    authority: str = Field("", max_length=200)


class RecuseIn(_In):
    action: Literal["recuse"]
    officer: str = Field("", pattern=r"^(|[A-Za-z0-9][A-Za-z0-9._:@-]{0,127})$")
    reason: str = Field(min_length=1, max_length=1000)


class AddDepartmentsIn(_In):
    action: Literal["add_departments"]
    departments: list[Annotated[str, Field(pattern=SLUG)]] = Field(min_length=1, max_length=12)


class TransferIn(_In):
    action: Literal["transfer"]
    step: Literal[
        "propose", "head_decide", "send", "receive", "police_decide", "reconsider", "resume"
    ]
    approve: bool = False
    receiving_agency: str = Field("", max_length=200)
    note: str = Field("", max_length=4000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=100)


CaseActionIn = Annotated[
    VerifyIn
    | FileIn
    | DropIn
    | InvestigateIn
    | SubmitReviewIn
    | ReviewIn
    | NoticeIn
    | StatementIn
    | RequestHearingIn
    | ScheduleHearingIn
    | HearingIn
    | DecideIn
    | ServeIn
    | PayIn
    | CloseIn
    | PublishIn
    | RetractIn
    | ExtendIn
    | RevokeIn
    | RecuseIn
    | AddDepartmentsIn
    | TransferIn,
    Field(discriminator="action"),
]


class EvidenceOut(BaseModel):
    name: str
    sha256: str
    media_type: str
    size: int


class PartyOut(BaseModel):
    name: str
    kind: str
    id_number: str
    address: str


class RecordEntryOut(BaseModel):
    """One entry of the full-process record (全过程记录)."""

    seq: int
    action: str
    from_state: str
    to_state: str
    actor: str
    actor_certificate: str
    officers: list[str]
    evidence: list[EvidenceOut]
    note: str
    at: str


class DecisionOut(BaseModel):
    kind: str
    fine: str
    band: str
    other_penalties: list[str]
    decision_no: str
    decided_on: str
    reasoning: str
    revoked_on: str = ""


class TransferOut(BaseModel):
    stage: str
    proposed_at: str
    head_decided_at: str
    sent_at: str
    received_at: str
    police_decided_at: str
    police_decision: str
    receiving_agency: str
    note: str


class HearingScheduleOut(BaseModel):
    hearing_on: str
    place: str
    presiding_officer: str
    public: bool
    closed_reason: str
    notified_on: str


class HearingNoticeOut(BaseModel):
    """The hearing notice (听证通知书) of a case's scheduled hearing, ready to print and serve.

    It goes out in the name of the department that entrusted the item to the town
    (行政处罚法 第二十条) and tells the party what 第六十四条 requires: the time and place,
    public or not and why, who presides, and the party's rights.
    """

    case_id: str
    case_no: str
    notice_no: str = Field(description="the case number with -TZ (听证通知)")
    issuer: str = Field(description="code of the entrusting department")
    issuer_name: str = Field(description="the department in whose name the notice goes out")
    carried_out_by: str = Field(description="the town's team that handles the case")
    entrustment_document: str
    party_name: str
    matter: str = Field(description="the enforcement item the case is about")
    hearing_on: str
    place: str
    presiding_officer: str
    presiding_officer_name: str
    public: bool
    closed_reason: str
    notified_on: str
    rights: list[str] = Field(description="the party's rights at the hearing, in the law's order")
    text: str = Field(description="the whole notice as served, in Chinese")


class DecisionDocumentOut(BaseModel):
    """The decision document (行政处罚决定书, or 不予行政处罚决定书) of a decided case.

    What 行政处罚法 第五十九条 says it holds: the party, the facts and evidence, the penalty
    and its legal basis, how and by when to pay (15 days, then 3 % a day), how to contest it
    (reconsideration within 60 days or a suit within six months), the authority and the date;
    in the name of the department that entrusted the item (第二十条).
    """

    case_id: str
    case_no: str
    decision_no: str
    kind: str = Field(description="penalty | no_penalty")
    title: str
    issuer: str = Field(description="code of the entrusting department")
    issuer_name: str
    carried_out_by: str
    entrustment_document: str
    party_name: str
    matter: str
    legal_basis: str
    fine: str = Field(description="yuan, 0.00 when none")
    penalties: list[str] = Field(description="what the party must do, in words")
    evidence: list[str] = Field(description="names of the evidence on the record")
    decided_on: str
    text: str = Field(description="the whole document as served, in Chinese")


class DeadlineOut(BaseModel):
    kind: str
    due: str
    breached: bool
    warning: bool = False


class CaseOut(BaseModel):
    """A case with its full-process record and running limits."""

    id: str
    township_id: str
    case_no: str
    item_code: str
    item_name: str
    item_category: str
    state: str
    source: str
    complaint_id: str
    inspection_id: str
    summary: str
    party: PartyOut | None = None
    departments: list[str]
    officers: list[str]
    recused: list[str]
    filed_on: str
    decision_due: str
    review_passed: bool
    notice_on: str
    hearing_waived: bool
    hearing_on: str
    hearing: HearingScheduleOut | None = None
    decision: DecisionOut | None = None
    served_on: str
    publication: str
    paid: str
    surcharge: str
    transfer: TransferOut | None = None
    closed_on: str
    record: list[RecordEntryOut]
    deadlines: list[DeadlineOut]
    entrustment_document: str


class CaseSummaryOut(BaseModel):
    id: str
    township_id: str
    case_no: str
    item_code: str
    state: str
    departments: list[str]
    filed_on: str


class CasesOut(BaseModel):
    cases: list[CaseSummaryOut]
    next_cursor: str | None = None


class ChecklistIn(_In):
    code: str = Field(min_length=1, max_length=64)
    text: str = Field("", max_length=500)
    result: Literal["", "ok", "issue", "n/a"] = ""


class FindingIn(_In):
    text: str = Field(min_length=1, max_length=4000)
    item_code: str = Field("", pattern=r"^(|ZF-[A-Z]{2}-\d{4})$")
    becomes_clue: bool = False
    party_name: str = Field("", max_length=200)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=100)


class InspectionIn(_In):
    """Plan an inspection: at least two certified officers, its checklist."""

    kind: Literal["routine", "market_day", "joint"]
    place: str = Field(min_length=1, max_length=300)
    scheduled_on: str = Field("", pattern=r"^(|\d{4}-\d{2}-\d{2})$")
    officers: Officers = Field(max_length=20)
    departments: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list, max_length=12
    )
    checklist: list[ChecklistIn] = Field(default_factory=list, max_length=100)


class InspectionCompleteIn(_In):
    """Results of the checklist and the findings (a finding may become a clue)."""

    checklist: list[ChecklistIn] = Field(default_factory=list, max_length=100)
    findings: list[FindingIn] = Field(default_factory=list, max_length=100)


class ChecklistOut(BaseModel):
    code: str
    text: str
    result: str


class FindingOut(BaseModel):
    text: str
    item_code: str
    becomes_clue: bool
    party_name: str
    case_id: str
    evidence: list[EvidenceOut]


class InspectionOut(BaseModel):
    id: str
    township_id: str
    kind: str
    place: str
    scheduled_on: str
    state: str
    officers: list[str]
    departments: list[str]
    checklist: list[ChecklistOut]
    findings: list[FindingOut]
    created_by: str
    completed_at: str


class InspectionsOut(BaseModel):
    inspections: list[InspectionOut]
    next_cursor: str | None = None


class PublishedDecisionOut(BaseModel):
    """A published decision (公示): organisations by name, natural persons masked."""

    case_no: str
    decision_no: str
    item_code: str
    item_name: str
    legal_basis: str
    party: str
    kind: str
    fine: str
    other_penalties: list[str]
    decided_on: str
    published_on: str
    agency: str


class PublishedDecisionsOut(BaseModel):
    township: str
    decisions: list[PublishedDecisionOut]
    next_cursor: str | None = None


class DiscretionBandOut(BaseModel):
    """One band of the discretion standard (裁量基准)."""

    level: str
    min_fine: str
    max_fine: str
    other_penalties: list[str]


class EnforcementItemOut(BaseModel):
    """An enforcement item a town may act on today."""

    code: str
    name_zh: str
    name_en: str
    category: str
    department: str
    legal_basis: str
    bands: list[DiscretionBandOut]
    entrustment_document: str
    joint_with_market_supervision: bool


class EnforcementItemsOut(BaseModel):
    township: str
    items: list[EnforcementItemOut]


class OfficerOut(BaseModel):
    """A certified enforcement officer (执法证) known to the town."""

    sub: str
    name: str
    certificate: str
    seen_at: str


class OfficersOut(BaseModel):
    officers: list[OfficerOut]
