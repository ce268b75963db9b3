"""Request and response bodies of the permits API beyond intake: the application's steps,
queues, ratings (好差评), rectifications and the catalogue administration."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from township_gateway.schemas import ApplicationOut, MaterialIn, TimeLimitOut

ITEM_CODE = r"^(XK|GG|QT)-\d{5}-\d{3}$"
SLUG = r"^[a-z][a-z0-9-]{1,30}$"


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


class ReasonIn(_In):
    """A step that must state its reason (it is shown to the applicant)."""

    reason: str = Field(min_length=1, max_length=2000)


class OptionalReasonIn(_In):
    """A step with an optional note."""

    reason: str = Field("", max_length=2000)


class CorrectionIn(_In):
    """Request a correction (补正): the missing materials, listed once and for all."""

    reason: str = Field(min_length=1, max_length=2000)
    missing_materials: list[str] = Field(
        min_length=1, max_length=50, description="Material codes of the item's guide"
    )


class ResubmitIn(_In):
    """The applicant hands in the missing materials."""

    materials: list[MaterialIn] = Field(min_length=1, max_length=50)
    reason: str = Field("", max_length=2000)


class ExtensionIn(_In):
    """Extend the statutory limit (延期): approver of the competent department, with reason."""

    days: int = Field(ge=1, le=60)
    reason: str = Field(min_length=1, max_length=2000)


class ApplicationPageOut(BaseModel):
    """A page of a queue (history left out; fetch one application for it)."""

    applications: list[ApplicationOut]
    next_cursor: str | None


class RatingIn(_In):
    """A rating (好差评) of an intake by its receipt code: 1 very bad … 5 very good."""

    receipt_code: str = Field(pattern=r"^[A-Z0-9]{6,32}$")
    level: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=1000)


class RatingReceiptOut(BaseModel):
    """What a rater is told back: nothing about the staff or the applicant."""

    receipt_code: str
    level: int
    follow_up: bool
    rectification_opened: bool
    rated_at: str


class RatingOut(BaseModel):
    """A rating as staff see it."""

    id: str
    township: str
    receipt_code: str
    application_ids: list[str]
    departments: list[str]
    level: int
    channel: str
    comment: str
    responsible: str
    follow_up: bool
    rectification_id: str
    rated_at: str


class RatingPageOut(BaseModel):
    """A page of ratings."""

    ratings: list[RatingOut]
    next_cursor: str | None


class RectificationOut(BaseModel):
    """A rectification (整改) opened by a bad rating."""

    id: str
    township: str
    rating_id: str
    receipt_code: str
    responsible: str
    departments: list[str]
    state: str
    due_date: str
    overdue: bool
    remaining_working_days: int
    return_visit_note: str
    outcome: str
    resolution: str
    appeal_reason: str
    appeal_decision: str
    opened_at: str
    closed_at: str
    rating_level: int
    follow_up_level: int


class RectificationPageOut(BaseModel):
    """A page of rectifications."""

    rectifications: list[RectificationOut]
    next_cursor: str | None


class NoteIn(_In):
    """A rectification step with its note (what was done, said or decided)."""

    note: str = Field(min_length=1, max_length=2000)


class LocalizedIn(_In):
    """A text in Chinese and English."""

    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=300)


class TimeLimitIn(_In):
    """A time limit (0 = on the spot)."""

    amount: int = Field(ge=0, le=365)
    unit: Literal["working", "natural"]


class MaterialRequirementIn(_In):
    """A material of a service guide."""

    code: str = Field(pattern=SLUG)
    name: LocalizedIn
    form: Literal["original", "copy"]
    count: int = Field(1, ge=1, le=20)
    required: bool = True
    condition: LocalizedIn | None = None


Channel = Literal["window", "village_room", "online", "agent"]


class ServiceItemIn(_In):
    """A catalogue item with its full service guide (办事指南)."""

    name: LocalizedIn
    type: Literal["licensing", "public_service", "other"]
    department: str = Field(pattern=SLUG)
    legal_basis: list[str] = Field(min_length=1, max_length=20)
    statutory_limit: TimeLimitIn
    promised_limit: TimeLimitIn
    statutory_extension: TimeLimitIn | None = None
    fee: str = Field("0.00", pattern=r"^\d{1,9}\.\d{2}$")
    materials: list[MaterialRequirementIn] = Field(min_length=1, max_length=50)
    steps: list[LocalizedIn] = Field(min_length=1, max_length=30)
    visits: int = Field(1, ge=0, le=5)
    level: Literal["township", "village"] = "township"
    channels: list[Channel] = Field(min_length=1, max_length=4)


class MaterialRequirementOut(BaseModel):
    """A material to bring."""

    code: str
    name_zh: str
    name_en: str
    form: str
    count: int
    required: bool
    condition_zh: str
    condition_en: str


class StepOut(BaseModel):
    """One step of the procedure."""

    zh: str
    en: str


class ServiceGuideOut(BaseModel):
    """A service guide: what to bring, the steps, the time limits, the fee."""

    code: str
    name_zh: str
    name_en: str
    type: str
    department: str
    department_name_zh: str
    legal_basis: list[str]
    statutory_limit: TimeLimitOut
    promised_limit: TimeLimitOut
    statutory_extension: TimeLimitOut | None
    fee: str
    materials: list[MaterialRequirementOut]
    steps: list[StepOut]
    visits: int
    channels: list[str]
    level: str
    delegated_level: str = Field(description="As delegated to the asked township, if any")


class DelegationIn(_In):
    """Delegate an item to a township, or down to its village service rooms."""

    level: Literal["township", "village"]
    document_no: str = Field(min_length=1, max_length=100, examples=["旬政办发〔2023〕18号"])
    document_title: str = Field("", max_length=300)


class DelegationOut(BaseModel):
    """A delegation with its delegating document."""

    township: str
    item_code: str
    level: str
    document_no: str
    document_title: str
    source: str = Field(description="seed (packaged catalogue) or admin (changed via the API)")
