"""Personnel: org units, posts, people, the points ledger, appraisal periods, distributions."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from starlette.responses import Response

from township.common.v1 import common_pb2
from township.personnel.v1 import personnel_pb2
from township_gateway.auth import CurrentPrincipal, require_roles
from township_gateway.deps import PROBLEM_RESPONSES, IdempotencyKey, ServicesDep, iso
from township_gateway.routing import PrefixRouter
from township_gateway.schemas import PointsEntryOut, PointsOut
from township_gateway.schemas_personnel import (
    AssignmentEndIn,
    AssignmentIn,
    AssignmentOut,
    ClaimIn,
    DecisionIn,
    DistributionIn,
    DistributionOut,
    EntriesOut,
    EntryOut,
    EvidenceOut,
    OrgUnitIn,
    OrgUnitOut,
    PeopleOut,
    PeriodIn,
    PeriodOut,
    PeriodStepOut,
    PersonIn,
    PersonOut,
    PostIn,
    PostOut,
    RuleIn,
    RuleOut,
    TransitionIn,
)
from township_platform.principal import Principal

router = PrefixRouter(prefix="/api/v1/personnel", tags=["personnel"], responses=PROBLEM_RESPONSES)

STAFF = ("clerk", "approver", "agent", "officer", "legal_reviewer", "township_admin")


def ID() -> Any:
    """A fresh parameter declaration (FastAPI mutates them: one per route)."""
    return Path(max_length=36, pattern=r"^[0-9a-fA-F-]{1,36}$")


def CODE() -> Any:
    """A fresh parameter declaration (FastAPI mutates them: one per route)."""
    return Path(pattern=r"^[a-z][a-z0-9-]{1,30}$")


def SUBP() -> Any:
    """A fresh parameter declaration (FastAPI mutates them: one per route)."""
    return Path(pattern=r"^[A-Za-z0-9._:@-]{1,128}$")


def YEAR() -> Any:
    """A fresh parameter declaration (FastAPI mutates them: one per route)."""
    return Path(ge=2000, le=2100)


Admin = Annotated[Principal, require_roles("township_admin")]
Staff = Annotated[Principal, require_roles(*STAFF)]


def _entry(e: personnel_pb2.PointsEntry) -> EntryOut:
    return EntryOut(
        id=e.id,
        person=e.person,
        rule=e.rule_code,
        points=e.points,
        state=e.state,
        period=e.period,
        source_event_id=e.source_event_id,
        source_type=e.source_type,
        note=e.note,
        evidence=[EvidenceOut(name=v.name, sha256=v.sha256, uri=v.uri) for v in e.evidence],
        claimed_by=e.claimed_by,
        decided_by=e.decided_by,
        reason=e.reason,
        appeal_reason=e.appeal_reason,
        appealed_from=e.appealed_from,
        recorded_at=iso(e.recorded_at),
    )


def _rule(r: personnel_pb2.PointsRule) -> RuleOut:
    return RuleOut(
        code=r.code,
        name_zh=r.name_zh,
        name_en=r.name_en,
        points=r.points,
        cap_per_period=r.cap_per_period or None,
        trigger=r.trigger,
        evidence_required=r.evidence_required,
        approver_role=r.approver_role,
        claimable=r.claimable,
    )


def _unit(u: personnel_pb2.OrgUnit) -> OrgUnitOut:
    return OrgUnitOut(
        code=u.code, name_zh=u.name_zh, name_en=u.name_en, kind=u.kind, active=u.active
    )


def _post(p: personnel_pb2.Post) -> PostOut:
    return PostOut(
        code=p.code,
        org_unit=p.org_unit,
        name_zh=p.name_zh,
        name_en=p.name_en,
        coefficient=p.coefficient,
        workload_factor=p.workload_factor,
        effective_coefficient=p.effective_coefficient,
    )


def _assignment(a: personnel_pb2.Assignment) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        person=a.person,
        post=a.post,
        starts_on=a.starts_on,
        ends_on=a.ends_on or None,
        end_reason=a.end_reason,
    )


def _person(p: personnel_pb2.Person) -> PersonOut:
    return PersonOut(
        sub=p.sub,
        name=p.name,
        status=p.status,
        assignments=[_assignment(a) for a in p.assignments],
    )


def _period(p: personnel_pb2.Period) -> PeriodOut:
    return PeriodOut(
        year=p.year,
        state=p.state,
        history=[
            PeriodStepOut(from_state=h.from_state, to_state=h.to_state, actor=h.actor, at=iso(h.at))
            for h in p.history
        ],
    )


def _distribution(d: personnel_pb2.Distribution) -> DistributionOut:
    return DistributionOut(
        id=d.id,
        year=d.year,
        kind=d.kind,
        pool=d.pool,
        total=d.total,
        computed_at=iso(d.computed_at),
        document=json.loads(d.body),
    )


# points ledger ---------------------------------------------------------------------------
@router.get("/points", response_model=PointsOut)
async def list_points(
    services: ServicesDep,
    principal: CurrentPrincipal,
    person: str = Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$"),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", max_length=64, pattern=r"^[0-9a-fA-F-]*$"),
) -> PointsOut:
    """A person's points ledger in the caller's township, oldest first, with its total."""
    reply = await services.call(
        services.personnel.ListPoints,
        personnel_pb2.ListPointsRequest(
            person=person, page=common_pb2.PageRequest(page_size=page_size, cursor=cursor)
        ),
        principal,
    )
    return PointsOut(
        person=person,
        total=reply.total,
        entries=[
            PointsEntryOut(
                id=e.id,
                person=e.person,
                rule=e.rule_code,
                points=e.points,
                state=e.state,
                source_event_id=e.source_event_id,
                source_type=e.source_type,
                note=e.note,
                recorded_at=iso(e.recorded_at),
            )
            for e in reply.entries
        ],
        next_cursor=reply.page.next_cursor or None,
    )


@router.get("/entries", response_model=EntriesOut)
async def list_entries(
    services: ServicesDep,
    principal: CurrentPrincipal,
    state: Literal["AUTO", "CLAIMED", "APPROVED", "REJECTED", "APPEALED", "LATE"] | None = None,
    period: int | None = Query(None, ge=2000, le=2100),
    person: str | None = Query(None, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$"),
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", max_length=64, pattern=r"^[0-9a-fA-F-]*$"),
) -> EntriesOut:
    """The township's ledger entries by state, period and person (e.g. claims to decide)."""
    reply = await services.call(
        services.personnel.ListEntries,
        personnel_pb2.ListEntriesRequest(
            state=state or "",
            period=period or 0,
            person=person or "",
            page=common_pb2.PageRequest(page_size=page_size, cursor=cursor),
        ),
        principal,
    )
    return EntriesOut(
        entries=[_entry(e) for e in reply.entries], next_cursor=reply.page.next_cursor or None
    )


@router.get("/entries/{entry_id}", response_model=EntryOut)
async def get_entry(
    services: ServicesDep, principal: CurrentPrincipal, entry_id: str = ID()
) -> EntryOut:
    """One ledger entry with its evidence, decisions and appeal."""
    reply = await services.call(
        services.personnel.GetEntry, personnel_pb2.GetEntryRequest(id=entry_id), principal
    )
    return _entry(reply)


@router.get("/rules", response_model=list[RuleOut])
async def list_rules(services: ServicesDep, principal: CurrentPrincipal) -> list[RuleOut]:
    """The points rules: points, cap per period, evidence, approver, automatic trigger."""
    reply = await services.call(
        services.personnel.ListRules, personnel_pb2.ListRulesRequest(), principal
    )
    return [_rule(r) for r in reply.rules]


@router.put("/rules/{code}", response_model=RuleOut)
async def update_rule(
    body: RuleIn,
    services: ServicesDep,
    principal: Annotated[Principal, require_roles("county_admin")],
    code: str = CODE(),
) -> RuleOut:
    """County admin: set a rule's points, cap per period, evidence, approver, claimability."""
    r = await services.call(
        services.personnel.UpdateRule,
        personnel_pb2.UpdateRuleRequest(
            rule=personnel_pb2.PointsRule(
                code=code,
                points=body.points,
                cap_per_period=body.cap_per_period or "",
                evidence_required=body.evidence_required,
                approver_role=body.approver_role,
                claimable=body.claimable,
            )
        ),
        principal,
    )
    return _rule(r)


@router.post("/claims", status_code=201, response_model=EntryOut)
async def claim_points(
    body: ClaimIn,
    services: ServicesDep,
    principal: Staff,
    idempotency_key: IdempotencyKey = None,
) -> EntryOut:
    """Claim points by hand under a claimable rule, with evidence, within the rule's cap."""
    reply = await services.call(
        services.personnel.ClaimPoints,
        personnel_pb2.ClaimPointsRequest(
            person=body.person or "",
            rule_code=body.rule,
            points=body.points or "",
            period=body.period or 0,
            note=body.note,
            evidence=[personnel_pb2.Evidence(**e.model_dump()) for e in body.evidence],
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _entry(reply)


@router.post("/entries/{entry_id}/decisions", response_model=EntryOut)
async def decide_entry(
    body: DecisionIn,
    services: ServicesDep,
    principal: Staff,
    idempotency_key: IdempotencyKey = None,
    entry_id: str = ID(),
) -> EntryOut:
    """Approve or reject a claim (its approver), appeal (the person), decide an appeal."""
    reply = await services.call(
        services.personnel.DecideEntry,
        personnel_pb2.DecideEntryRequest(id=entry_id, action=body.action, reason=body.reason),
        principal,
        idempotency_key=idempotency_key,
    )
    return _entry(reply)


# org units and posts ---------------------------------------------------------------------
@router.get("/org-units", response_model=list[OrgUnitOut])
async def list_org_units(services: ServicesDep, principal: CurrentPrincipal) -> list[OrgUnitOut]:
    """The caller's township's bodies (offices, centres, special bodies), dissolved included."""
    reply = await services.call(
        services.personnel.ListOrgUnits, personnel_pb2.ListOrgUnitsRequest(), principal
    )
    return [_unit(u) for u in reply.units]


@router.post("/org-units", status_code=201, response_model=OrgUnitOut)
async def create_org_unit(
    body: OrgUnitIn, services: ServicesDep, principal: Admin, idempotency_key: IdempotencyKey = None
) -> OrgUnitOut:
    """Set up a body, within the town's cap (10 by default); the 11th is refused (409)."""
    reply = await services.call(
        services.personnel.CreateOrgUnit,
        personnel_pb2.CreateOrgUnitRequest(**body.model_dump()),
        principal,
        idempotency_key=idempotency_key,
    )
    return _unit(reply)


@router.post("/org-units/{code}/dissolve", response_model=OrgUnitOut)
async def dissolve_org_unit(
    services: ServicesDep,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
    code: str = CODE(),
) -> OrgUnitOut:
    """Dissolve a body (kept for history, frees a place under the cap)."""
    reply = await services.call(
        services.personnel.DissolveOrgUnit,
        personnel_pb2.DissolveOrgUnitRequest(code=code),
        principal,
        idempotency_key=idempotency_key,
    )
    return _unit(reply)


@router.get("/posts", response_model=list[PostOut])
async def list_posts(services: ServicesDep, principal: CurrentPrincipal) -> list[PostOut]:
    """The post catalogue (岗位目录) with coefficients."""
    reply = await services.call(
        services.personnel.ListPosts, personnel_pb2.ListPostsRequest(), principal
    )
    return [_post(p) for p in reply.posts]


@router.post("/posts", status_code=201, response_model=PostOut)
async def create_post(
    body: PostIn, services: ServicesDep, principal: Admin, idempotency_key: IdempotencyKey = None
) -> PostOut:
    """Add a post to the catalogue (coefficient from the post and its workload)."""
    reply = await services.call(
        services.personnel.CreatePost,
        personnel_pb2.CreatePostRequest(post=personnel_pb2.Post(**body.model_dump())),
        principal,
        idempotency_key=idempotency_key,
    )
    return _post(reply)


# people and assignments ------------------------------------------------------------------
@router.get("/people", response_model=PeopleOut)
async def list_people(
    services: ServicesDep,
    principal: CurrentPrincipal,
    page_size: int = Query(50, ge=1, le=200),
    cursor: str = Query("", max_length=128, pattern=r"^[A-Za-z0-9._:@-]*$"),
) -> PeopleOut:
    """The township's staff, whatever their staffing status, with their posts over time."""
    reply = await services.call(
        services.personnel.ListPeople,
        personnel_pb2.ListPeopleRequest(
            page=common_pb2.PageRequest(page_size=page_size, cursor=cursor)
        ),
        principal,
    )
    return PeopleOut(
        people=[_person(p) for p in reply.people], next_cursor=reply.page.next_cursor or None
    )


@router.post("/people", status_code=201, response_model=PersonOut)
async def register_person(
    body: PersonIn, services: ServicesDep, principal: Admin, idempotency_key: IdempotencyKey = None
) -> PersonOut:
    """Register a member of staff (the status decides salary only, never the appraisal)."""
    reply = await services.call(
        services.personnel.RegisterPerson,
        personnel_pb2.RegisterPersonRequest(**body.model_dump()),
        principal,
        idempotency_key=idempotency_key,
    )
    return _person(reply)


@router.get("/people/{sub}", response_model=PersonOut)
async def get_person(
    services: ServicesDep, principal: CurrentPrincipal, sub: str = SUBP()
) -> PersonOut:
    """A member of staff with their assignments."""
    reply = await services.call(
        services.personnel.GetPerson, personnel_pb2.GetPersonRequest(sub=sub), principal
    )
    return _person(reply)


@router.post("/assignments", status_code=201, response_model=AssignmentOut)
async def assign(
    body: AssignmentIn,
    services: ServicesDep,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> AssignmentOut:
    """Give a person a post (their current post ends the day before)."""
    reply = await services.call(
        services.personnel.Assign,
        personnel_pb2.AssignRequest(
            person=body.person, post=body.post, starts_on=body.starts_on or ""
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _assignment(reply)


@router.post("/assignments/{assignment_id}/end", response_model=AssignmentOut)
async def end_assignment(
    body: AssignmentEndIn,
    services: ServicesDep,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
    assignment_id: str = ID(),
) -> AssignmentOut:
    """End an assignment."""
    reply = await services.call(
        services.personnel.EndAssignment,
        personnel_pb2.EndAssignmentRequest(
            id=assignment_id, ends_on=body.ends_on or "", reason=body.reason
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _assignment(reply)


# periods and distributions ---------------------------------------------------------------
@router.post("/periods", status_code=201, response_model=PeriodOut)
async def open_period(
    body: PeriodIn, services: ServicesDep, principal: Admin, idempotency_key: IdempotencyKey = None
) -> PeriodOut:
    """Open a year's appraisal period."""
    reply = await services.call(
        services.personnel.OpenPeriod,
        personnel_pb2.OpenPeriodRequest(year=body.year),
        principal,
        idempotency_key=idempotency_key,
    )
    return _period(reply)


@router.get("/periods/{year}", response_model=PeriodOut)
async def get_period(
    services: ServicesDep, principal: CurrentPrincipal, year: int = YEAR()
) -> PeriodOut:
    """A period and its history."""
    reply = await services.call(
        services.personnel.GetPeriod, personnel_pb2.GetPeriodRequest(year=year), principal
    )
    return _period(reply)


@router.post("/periods/{year}/transitions", response_model=PeriodOut)
async def advance_period(
    body: TransitionIn,
    services: ServicesDep,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
    year: int = YEAR(),
) -> PeriodOut:
    """OPEN → SCORING → PUBLIC_NOTICE (公示) → APPEALS → FINAL (entries locked) → PAID."""
    reply = await services.call(
        services.personnel.AdvancePeriod,
        personnel_pb2.AdvancePeriodRequest(year=year, to=body.to),
        principal,
        idempotency_key=idempotency_key,
    )
    return _period(reply)


@router.post("/periods/{year}/distributions", status_code=201, response_model=DistributionOut)
async def compute_distribution(
    body: DistributionIn,
    services: ServicesDep,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
    year: int = YEAR(),
) -> DistributionOut:
    """Split a pool by coefficient × points, to the fen, summing exactly (final periods)."""
    reply = await services.call(
        services.personnel.ComputeDistribution,
        personnel_pb2.ComputeDistributionRequest(year=year, kind=body.kind, pool=body.pool),
        principal,
        idempotency_key=idempotency_key,
    )
    return _distribution(reply)


@router.get(
    "/distributions/{distribution_id}",
    response_model=DistributionOut,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_distribution(
    services: ServicesDep,
    principal: CurrentPrincipal,
    distribution_id: str = ID(),
    format: Literal["json", "csv"] = Query("json"),
) -> DistributionOut | Response:
    """A distribution, line by line, as JSON or as CSV (``?format=csv``, text/csv)."""
    reply = await services.call(
        services.personnel.GetDistribution,
        personnel_pb2.GetDistributionRequest(id=distribution_id, format=format),
        principal,
    )
    if format == "csv":
        return Response(
            content=reply.body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="distribution-{reply.year}-{reply.kind}.csv"'
                )
            },
        )
    return _distribution(reply)
