"""Request and response bodies of the personnel API (posts, people, points, periods)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SLUG = r"^[a-z][a-z0-9-]{1,30}$"
SUB = r"^[A-Za-z0-9._:@-]{1,128}$"
POINTS = r"^-?\d{1,4}(\.\d{1,2})?$"
FACTOR = r"^\d{1,2}(\.\d{1,2})?$"
DATE = r"^\d{4}-\d{2}-\d{2}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EvidenceIn(_In):
    """A piece of evidence for a claim (its content lives in the document store)."""

    name: str = Field(min_length=1, max_length=200, examples=["走访记录表.pdf"])
    sha256: str = Field("", pattern=r"^(|[0-9a-f]{64})$")
    uri: str = Field("", max_length=500)


class ClaimIn(_In):
    """A claim of points by hand."""

    person: str | None = Field(
        None, pattern=SUB, description="Whose points (default: the caller; others: admin only)"
    )
    rule: str = Field(min_length=1, max_length=64, pattern=SLUG, examples=["liaison-work"])
    points: str | None = Field(
        None, pattern=POINTS, description="Default: the rule's points", examples=["2"]
    )
    period: int | None = Field(None, ge=2000, le=2100, description="Year (default: this year)")
    note: str = Field("", max_length=2000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)


class DecisionIn(_In):
    """A decision on an entry."""

    action: Literal["approve", "reject", "appeal", "uphold_appeal", "deny_appeal"]
    reason: str = Field("", max_length=2000)


class EvidenceOut(BaseModel):
    """Evidence on file."""

    name: str
    sha256: str
    uri: str


class EntryOut(BaseModel):
    """One ledger entry with its whole story."""

    id: str
    person: str
    rule: str
    points: str
    state: str
    period: int
    source_event_id: str
    source_type: str
    note: str
    evidence: list[EvidenceOut]
    claimed_by: str
    decided_by: str
    reason: str
    appeal_reason: str
    appealed_from: str
    recorded_at: str


class EntriesOut(BaseModel):
    """A page of ledger entries."""

    entries: list[EntryOut]
    next_cursor: str | None


class RuleOut(BaseModel):
    """A points rule."""

    code: str
    name_zh: str
    name_en: str
    points: str
    cap_per_period: str | None
    trigger: str
    evidence_required: bool
    approver_role: str
    claimable: bool


class OrgUnitIn(_In):
    """A new body of the township."""

    code: str = Field(pattern=SLUG, examples=["tourism-centre"])
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    kind: Literal["office", "centre", "special"]


class OrgUnitOut(BaseModel):
    """A township body."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    active: bool = True


class PostIn(_In):
    """A new post of the post catalogue."""

    code: str = Field(pattern=SLUG, examples=["militia"])
    org_unit: str = Field(pattern=SLUG)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    coefficient: str = Field(pattern=FACTOR, examples=["1.05"])
    workload_factor: str = Field("1.00", pattern=FACTOR)


class PostOut(BaseModel):
    """A post with its coefficient."""

    code: str
    org_unit: str
    name_zh: str
    name_en: str
    coefficient: str
    workload_factor: str
    effective_coefficient: str


class PersonIn(_In):
    """A new member of staff."""

    sub: str = Field(pattern=SUB)
    name: str = Field(min_length=1, max_length=100)
    status: Literal["administrative", "public-institution", "stationed", "contract"]


class AssignmentIn(_In):
    """A person takes a post."""

    person: str = Field(pattern=SUB)
    post: str = Field(pattern=SLUG)
    starts_on: str | None = Field(None, pattern=DATE)


class AssignmentEndIn(_In):
    """An assignment ends."""

    ends_on: str | None = Field(None, pattern=DATE)
    reason: str = Field("", max_length=200)


class AssignmentOut(BaseModel):
    """A person on a post over time."""

    id: str
    person: str
    post: str
    starts_on: str
    ends_on: str | None
    end_reason: str


class PersonOut(BaseModel):
    """A member of staff with their assignments."""

    sub: str
    name: str
    status: str
    assignments: list[AssignmentOut]


class PeopleOut(BaseModel):
    """A page of staff."""

    people: list[PersonOut]
    next_cursor: str | None


class PeriodIn(_In):
    """Open a year's appraisal period."""

    year: int = Field(ge=2000, le=2100)


class TransitionIn(_In):
    """Move a period one step."""

    to: Literal["SCORING", "PUBLIC_NOTICE", "APPEALS", "FINAL", "PAID"]


class PeriodStepOut(BaseModel):
    """One step of a period."""

    from_state: str
    to_state: str
    actor: str
    at: str


class PeriodOut(BaseModel):
    """An appraisal period."""

    year: int
    state: str
    history: list[PeriodStepOut]


class DistributionIn(_In):
    """Distribute a pool over a final period."""

    kind: Literal["annual_bonus", "transport_subsidy"]
    pool: str = Field(pattern=r"^\d{1,12}(\.\d{1,2})?$", examples=["100000.01"])


class DistributionOut(BaseModel):
    """A computed distribution with every line's explanation."""

    id: str
    year: int
    kind: str
    pool: str
    total: str
    computed_at: str
    document: dict[str, Any]


class RuleIn(_In):
    """A points rule as the county sets it."""

    points: str = Field(pattern=POINTS, examples=["2"])
    cap_per_period: str | None = Field(None, pattern=POINTS, description="None: no cap")
    evidence_required: bool = False
    approver_role: Literal[
        "clerk",
        "approver",
        "agent",
        "officer",
        "legal_reviewer",
        "township_admin",
        "county_dept",
        "county_admin",
        "auditor",
    ] = "township_admin"
    claimable: bool = False
