"""Request and response bodies of the stationed-units API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SLUG = r"^[a-z][a-z0-9-]{1,30}$"
SUB = r"^[A-Za-z0-9._:@-]{1,128}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
AMOUNT = r"^\d{1,9}(\.\d{1,2})?$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StationedUnitOut(BaseModel):
    """A stationed county office."""

    code: str
    name_zh: str
    name_en: str
    department: str
    township: str = ""


class MatrixRowOut(BaseModel):
    """Who decides, advises and is informed for one function."""

    function: str
    decides: str
    advises: str
    informed: str


class MatrixOut(BaseModel):
    """The responsibility matrix of a township."""

    township: str
    rows: list[MatrixRowOut]


class SecondIn(_In):
    """A county department seconds a person to a unit (hiring)."""

    person: str = Field(pattern=SUB)
    name: str = Field(min_length=1, max_length=100)
    post: str = Field("", pattern=r"^(|[a-z][a-z0-9-]{1,30})$")
    starts_on: str | None = Field(None, pattern=DATE)
    township: str | None = Field(None, pattern=SLUG, description="County users: the unit's town")


class StaffOut(BaseModel):
    """A stationed person."""

    person: str
    name: str
    township: str
    unit: str
    department: str
    post: str
    state: str
    seconded_on: str
    left_on: str | None


class BudgetLineIn(_In):
    """City finance allocates money to a unit's (or a person's) yearly line."""

    township: str = Field(pattern=SLUG)
    person: str = Field("", pattern=r"^(|[A-Za-z0-9._:@-]{1,128})$")
    year: int = Field(ge=2000, le=2100)
    category: Literal["salary", "allowances", "appraisal_bonus", "benefits"]
    amount: str = Field(pattern=AMOUNT, examples=["86400.00"])
    note: str = Field("", max_length=500)


class DisbursementIn(_In):
    """The township pays out against a line."""

    amount: str = Field(pattern=AMOUNT, examples=["7200.00"])
    note: str = Field("", max_length=500)


class CorrectionIn(_In):
    """A correction of a ledger entry (a new signed entry; nothing is edited)."""

    amount: str = Field(pattern=r"^-?\d{1,9}(\.\d{1,2})?$", examples=["-0.01"])
    note: str = Field(min_length=1, max_length=500)


class LedgerEntryOut(BaseModel):
    """One movement of the funding ledger."""

    id: str
    line_id: str
    kind: str
    amount: str
    note: str
    corrects: str
    actor: str
    at: str


class BudgetLineOut(BaseModel):
    """A budget line and its ledger."""

    id: str
    township: str
    unit: str
    person: str
    year: int
    category: str
    allocated: str
    disbursed: str
    remaining: str
    entries: list[LedgerEntryOut]


class AttendanceIn(_In):
    """A day of attendance."""

    person: str = Field(pattern=SUB)
    date: str | None = Field(None, pattern=DATE)
    status: Literal["present", "absent", "leave", "business_trip"]
    note: str = Field("", max_length=500)


class AttendanceOut(BaseModel):
    """A recorded day."""

    id: str
    person: str
    unit: str
    date: str
    status: str
    note: str


class AttendanceLineOut(BaseModel):
    """One person's quarter."""

    person: str
    present: int
    absent: int
    leave: int
    business_trip: int


class AttendanceReportOut(BaseModel):
    """The quarterly attendance report of a unit for its county department."""

    township: str
    unit: str
    department: str
    year: int
    quarter: int
    lines: list[AttendanceLineOut]


class AppraisalIn(_In):
    """The township's appraisal of a stationed person."""

    person: str = Field(pattern=SUB)
    period: str = Field(pattern=r"^\d{4}(-Q[1-4]|-H[12])?$", examples=["2026"])
    grade: Literal["excellent", "competent", "basically_competent", "incompetent"]
    comment: str = Field("", max_length=2000)


class AppraisalOut(BaseModel):
    """An appraisal."""

    id: str
    person: str
    unit: str
    period: str
    grade: str
    comment: str
    by: str


class TrainingIn(_In):
    """Professional training recorded by the county department."""

    township: str | None = Field(None, pattern=SLUG)
    person: str = Field(pattern=SUB)
    course: str = Field(min_length=1, max_length=200)
    hours: str = Field(pattern=r"^\d{1,3}(\.\d)?$")
    date: str | None = Field(None, pattern=DATE)


class TrainingOut(BaseModel):
    """A training record."""

    id: str
    person: str
    township: str
    unit: str
    course: str
    hours: str
    date: str


class RedeploymentIn(_In):
    """The county department proposes a redeployment."""

    township: str | None = Field(None, pattern=SLUG)
    person: str = Field(pattern=SUB)
    to_township: str = Field("", pattern=r"^(|[a-z][a-z0-9-]{1,30})$")
    to_unit: str = Field("", pattern=r"^(|[a-z][a-z0-9-]{1,30})$")
    reason: str = Field(min_length=1, max_length=2000)


class OpinionIn(_In):
    """The township's opinion."""

    opinion: Literal["agree", "object"]
    note: str = Field("", max_length=2000)


class RedeploymentDecisionIn(_In):
    """The county's decision."""

    decision: Literal["confirm", "withdraw"]
    effective_on: str | None = Field(None, pattern=DATE)
    note: str = Field("", max_length=2000)


class RedeploymentStepOut(BaseModel):
    """One step of a redeployment."""

    from_state: str
    to_state: str
    actor: str
    note: str
    at: str


class RedeploymentOut(BaseModel):
    """A redeployment with its history."""

    id: str
    person: str
    township: str
    from_unit: str
    to_township: str
    to_unit: str
    state: str
    reason: str
    opinion: str
    effective_on: str | None
    history: list[RedeploymentStepOut]


class MatrixRowIn(_In):
    """Who decides, advises and is informed for one function in one town."""

    township: str = Field(pattern=SLUG)
    decides: Literal["township", "county"]
    advises: Literal["", "township", "county"] = ""
    informed: Literal["", "township", "county"] = ""
