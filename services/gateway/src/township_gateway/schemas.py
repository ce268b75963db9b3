"""Request and response bodies of the HTTP API (the OpenAPI document is built from these)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

SHA256 = r"^[0-9a-f]{64}$"
CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here, naming the field, not with a 5xx.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise PydanticCustomError("no_nul", "must not contain NUL characters")
        return value


class ApplicantIn(_In):
    """The person or organisation applying."""

    name: str = Field(min_length=1, max_length=100, examples=["张玉祥"])
    id_number: str = Field(
        "",
        max_length=18,
        pattern=r"^(|[0-9]{17}[0-9Xx])$",
        description="Resident identity number (18 characters) for a person",
    )
    phone: str = Field("", max_length=11, pattern=r"^(|1[3-9][0-9]{9})$")
    kind: Literal["person", "organisation"] = "person"


class MaterialIn(_In):
    """A material handed in at intake (its content lives in the document store)."""

    code: str = Field(min_length=1, max_length=64, pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    sha256: str = Field("", pattern=r"^(|[0-9a-f]{64})$")


class IntakeIn(_In):
    """One intake: a bundle (一件事一次办) or a single item."""

    bundle: str | None = Field(None, max_length=64, pattern=CODE, examples=["newborn"])
    item_code: str | None = Field(None, max_length=32, pattern=CODE)
    applicant: ApplicantIn
    materials: list[MaterialIn] = Field(default_factory=list, max_length=50)
    channel: Literal["window", "village_room", "online", "agent"] = "window"
    village: str | None = Field(None, max_length=64, pattern=CODE)
    applicant_consent: bool = False


class ApplicationSummaryOut(BaseModel):
    """One application opened by an intake."""

    id: str
    item: str
    item_name: str
    department: str
    state: str


class IntakeOut(BaseModel):
    """The receipt of an intake and the applications it opened."""

    receipt_code: str
    applications: list[ApplicationSummaryOut]


class HistoryOut(BaseModel):
    """One step of an application's history."""

    from_state: str
    to_state: str
    action: str
    actor: str
    reason: str
    at: str


class ApplicantOut(BaseModel):
    """The applicant as staff see it."""

    name: str
    id_number: str
    phone: str
    kind: str


class MaterialOut(BaseModel):
    """A material on file."""

    code: str
    name: str
    sha256: str


class TimeLimitOut(BaseModel):
    """A time limit: amount and unit (working or natural days)."""

    amount: int
    unit: str


class DeadlinesOut(BaseModel):
    """An application's time limits as seen today (working days follow the official calendar,
    调休 make-up workdays included)."""

    promised_limit: TimeLimitOut
    statutory_limit: TimeLimitOut
    received_on: str = Field(description="The day the clock started (收件之日), YYYY-MM-DD")
    promised_due_date: str = Field(description="Empty while the clock is paused")
    statutory_due_date: str = Field(description="Includes approved extensions")
    remaining_working_days: int = Field(
        description="Working days left to the promised due date; negative when late"
    )
    statutory_remaining_working_days: int
    overdue: bool = Field(description="Past the promised due date and still undecided")
    clock_paused: bool = Field(description="Correction requested or suspended")
    correction_deadline: str = Field(
        description="While SUBMITTED: last day to request correction, else it counts as accepted"
    )
    extension_days: int
    decided_on: str
    working_days_used: int


class ApplicationOut(BaseModel):
    """An application as its township's staff (or its competent department) see it."""

    id: str
    township: str
    receipt_code: str
    bundle: str
    item: str
    item_name: str
    department: str
    state: str
    channel: str
    village: str
    applicant: ApplicantOut
    materials: list[MaterialOut]
    submitted_by: str
    submitted_at: str
    history: list[HistoryOut]
    applicant_consent: bool = False
    missing_materials: list[str] = Field(default_factory=list)
    deadlines: DeadlinesOut | None = None
    allowed_actions: list[str] = Field(
        default_factory=list, description="What the caller may do now, in the current state"
    )


class PublicPartOut(BaseModel):
    """One part of an intake, publicly."""

    item: str
    item_name: str
    department: str
    state: str
    promised_due_date: str = ""
    remaining_working_days: int = 0


class PublicStatusOut(BaseModel):
    """Public status of an intake by receipt code: no personal data beyond a masked name."""

    receipt_code: str
    township: str
    bundle: str
    status: str
    parts: list[PublicPartOut]
    submitted_at: str
    applicant: str
    rated: bool = False
    follow_up_rating_open: bool = False


class CatalogueItemOut(BaseModel):
    """A delegated item in a town's public catalogue."""

    code: str
    name_zh: str
    name_en: str
    type: str
    department: str
    level: str
    statutory_limit: TimeLimitOut
    promised_limit: TimeLimitOut
    fee: str
    visits: int


class CatalogueOut(BaseModel):
    """A township's public catalogue."""

    township: str
    items: list[CatalogueItemOut]


class EntrustmentOut(BaseModel):
    """One entrusted enforcement power, as published."""

    item_code: str
    item_name: str
    entrusting_department: str
    document_no: str
    valid_from: str
    valid_to: str


class EntrustmentsOut(BaseModel):
    """A township's published list of entrusted powers."""

    township: str
    entrustments: list[EntrustmentOut]


class PointsEntryOut(BaseModel):
    """One entry of a points ledger."""

    id: str
    person: str
    rule: str
    points: str
    state: str
    source_event_id: str
    source_type: str
    note: str
    recorded_at: str


class PointsOut(BaseModel):
    """A page of a person's points ledger."""

    person: str
    total: str
    entries: list[PointsEntryOut]
    next_cursor: str | None


class OrgUnitOut(BaseModel):
    """A township body."""

    code: str
    name_zh: str
    name_en: str
    kind: str


class StationedUnitOut(BaseModel):
    """A stationed county office."""

    code: str
    name_zh: str
    name_en: str
    department: str


class Health(BaseModel):
    """Liveness / readiness answer."""

    status: str
    services: dict[str, bool] = Field(default_factory=dict)
