"""gRPC surface of personnel: proto in → domain and repository → proto out."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncSession

from township.common.v1 import common_pb2
from township.personnel.events.v1 import events_pb2 as personnel_events
from township.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from township_personnel import events, repository
from township_personnel.domain import ledger, org, periods
from township_personnel.domain.distribution import (
    ShareInput,
    distribute_bonus,
    render_csv,
    render_json,
)
from township_personnel.grpc_convert import (
    assignment_to_proto,
    entry_to_proto,
    period_to_proto,
    person_to_proto,
    post_to_proto,
    rule_to_proto,
    ts,
    unit_to_proto,
)
from township_personnel.models import (
    DistributionRow,
    OrgUnitRow,
    PeriodRow,
    PersonRow,
    PointsEntryRow,
    PostRow,
)
from township_platform import clock
from township_platform.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from township_platform.ids import new_id
from township_platform.principal import ROLES, Principal
from township_platform.rpc import current_principal, current_uow
from township_platform.towns import TownshipsConfig

MAX_PAGE = 200
ADMIN = "township_admin"
CODE = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
SUB = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("annual_bonus", "transport_subsidy")


def _page_size(page: common_pb2.PageRequest) -> int:
    size = page.page_size or 50
    if not 1 <= size <= MAX_PAGE:
        raise InvalidArgument("page_size out of range", field="page_size", rule=f"1..{MAX_PAGE}")
    return size


def _code(value: str, field: str) -> str:
    if not CODE.match(value):
        raise InvalidArgument(f"{field} must be a slug", field=field, rule=CODE.pattern)
    return value


def _name(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidArgument(f"{field} is required", field=field, rule=f"1..{limit} chars")
    return value


def _date(value: str, field: str) -> date:
    if not value:
        return clock.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{field} must be a date", field=field, rule="YYYY-MM-DD") from None


def _year(value: int) -> int:
    if value == 0:
        return clock.today().year
    if not 2000 <= value <= 2100:
        raise InvalidArgument("year out of range", field="year", rule="2000..2100")
    return value


def _admin(principal: Principal) -> str:
    township = principal.require_township()
    principal.require_role(ADMIN)
    return township


async def _known_person(session: AsyncSession, township: str, sub: str) -> PersonRow:
    person = await repository.person(session, township, sub)
    if person is None:
        raise NotFound(f"person {sub} not found", type="person-not-found")
    return person


class PersonnelServicer(personnel_pb2_grpc.PersonnelServiceServicer):
    """Org units, posts, people, the points ledger, appraisal periods and distributions."""

    def __init__(self, towns: TownshipsConfig | None = None) -> None:
        self.towns = towns

    def _max_bodies(self, township: str) -> int:
        town = self.towns.get(township) if self.towns else None
        return town.max_bodies if town else 10

    # points ledger -----------------------------------------------------------------------
    async def ListPoints(
        self, request: personnel_pb2.ListPointsRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListPointsResponse:
        """A person's ledger in the caller's township (404 when unknown there)."""
        principal = current_principal()
        township = principal.require_township()
        if not request.person:
            raise InvalidArgument("person is required", field="person", rule="required")
        size = _page_size(request.page)
        session = current_uow().session
        if not await repository.person_known(session, township, request.person):
            raise NotFound(f"person {request.person} not found")
        rows = await repository.points_page(
            session, township, request.person, request.page.cursor, size + 1
        )
        more = len(rows) > size
        rows = rows[:size]
        return personnel_pb2.ListPointsResponse(
            entries=[entry_to_proto(r) for r in rows],
            total=str(await repository.points_total(session, township, request.person)),
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if more else ""),
        )

    async def GetEntry(
        self, request: personnel_pb2.GetEntryRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.PointsEntry:
        """One ledger entry of the caller's township."""
        township = current_principal().require_township()
        row = await repository.entry(current_uow().session, township, request.id)
        if row is None:
            raise NotFound(f"entry {request.id} not found")
        return entry_to_proto(row)

    async def ListEntries(
        self, request: personnel_pb2.ListEntriesRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListEntriesResponse:
        """The township's entries by state, period and person (the approvers' queue)."""
        township = current_principal().require_township()
        size = _page_size(request.page)
        if request.state and request.state not in ledger.STATES:
            raise InvalidArgument("unknown state", field="state", rule="|".join(ledger.STATES))
        rows = await repository.entries_page(
            current_uow().session,
            township,
            state=request.state,
            period=request.period,
            person=request.person,
            after=request.page.cursor,
            limit=size + 1,
        )
        more = len(rows) > size
        rows = rows[:size]
        return personnel_pb2.ListEntriesResponse(
            entries=[entry_to_proto(r) for r in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if more else ""),
        )

    async def ListRules(
        self, request: personnel_pb2.ListRulesRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListRulesResponse:
        """Every points rule."""
        current_principal()
        rows = await repository.rules(current_uow().session)
        return personnel_pb2.ListRulesResponse(rules=[rule_to_proto(r) for r in rows])

    async def UpdateRule(
        self, request: personnel_pb2.UpdateRuleRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.PointsRule:
        """County admin: rules are data (points, cap per period, evidence, approver)."""
        principal = current_principal()
        if principal.township is not None or not principal.has_role("county_admin"):
            raise PermissionDenied("points rules are set by the county", type="county-admin-only")
        r = request.rule
        row = await repository.rule(current_uow().session, r.code)
        if row is None:
            raise NotFound(f"points rule {r.code!r} not found", type="rule-not-found")
        points = ledger.parse_points(r.points)
        if points == 0:
            raise InvalidArgument("points must not be zero", field="points", rule="non-zero")
        cap = ledger.parse_points(r.cap_per_period, "cap_per_period") if r.cap_per_period else None
        if cap is not None and (cap == 0 or (cap > 0) != (points > 0)):
            raise InvalidArgument(
                "the cap has the sign of the points", field="cap_per_period", rule="same sign"
            )
        if r.approver_role not in ROLES or r.approver_role == "system":
            raise InvalidArgument("unknown role", field="approver_role", rule="a platform role")
        row.points, row.cap_per_period = points, cap
        row.evidence_required, row.approver_role = r.evidence_required, r.approver_role
        row.claimable = r.claimable and not row.trigger
        await current_uow().session.flush()
        return rule_to_proto(row)

    async def ClaimPoints(
        self, request: personnel_pb2.ClaimPointsRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.PointsEntry:
        """A claim by hand: a claimable rule, evidence when the rule needs it, within its cap."""
        principal = current_principal()
        township = principal.require_township()
        uow = current_uow()
        session = uow.session
        person = request.person or principal.sub
        if person != principal.sub:
            principal.require_role(ADMIN)
        if await repository.person_for_update(session, township, person) is None:
            raise NotFound(f"person {person} not found", type="person-not-found")
        rule = await repository.rule(session, request.rule_code)
        if rule is None:
            raise NotFound(f"points rule {request.rule_code!r} not found", type="rule-not-found")
        if not rule.claimable:
            raise InvalidArgument(
                f"rule {rule.code} is automatic: its points come from events, not claims",
                field="rule",
                rule="claimable rule",
            )
        points = ledger.parse_points(request.points) if request.points else rule.points
        if points == 0 or (points > 0) != (rule.points > 0):
            raise InvalidArgument(
                f"points of rule {rule.code} must be "
                + ("positive" if rule.points > 0 else "negative"),
                field="points",
                rule="same sign as the rule",
            )
        evidence = []
        for i, e in enumerate(request.evidence):
            if not e.name.strip() or len(e.name) > 200:
                raise InvalidArgument(
                    "evidence needs a name", field=f"evidence[{i}].name", rule="1..200 chars"
                )
            if e.sha256 and not SHA256.match(e.sha256):
                raise InvalidArgument(
                    "evidence hash must be sha256 hex", field=f"evidence[{i}].sha256", rule="sha256"
                )
            evidence.append({"name": e.name.strip(), "sha256": e.sha256, "uri": e.uri[:500]})
        if len(evidence) > ledger.MAX_EVIDENCE:
            raise InvalidArgument("too much evidence", field="evidence", rule="at most 20")
        if rule.evidence_required and not evidence:
            raise InvalidArgument(
                f"rule {rule.code} needs evidence", field="evidence", rule="required by rule"
            )
        year = _year(request.period)
        periods.ensure_claims_open(await repository.period_state(session, township, year), year)
        already = await repository.rule_total(session, township, person, rule.code, year)
        ledger.check_cap(rule.cap_per_period, already, points, rule.code)
        row = PointsEntryRow(
            id=new_id(),
            township_id=township,
            person=person,
            rule_code=rule.code,
            points=points,
            state="CLAIMED",
            source_event_id=None,
            source_type="claim",
            note=request.note.strip()[:2000],
            period=year,
            evidence=evidence,
            claimed_by=principal.sub,
            decided_by="",
            reason="",
            appeal_reason="",
            appealed_from="",
        )
        row = await repository.add_entry(session, row)
        await events.points_recorded(uow, row)
        return entry_to_proto(row)

    async def DecideEntry(
        self, request: personnel_pb2.DecideEntryRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.PointsEntry:
        """Approve, reject, appeal, or decide an appeal; refused once the period is final."""
        principal = current_principal()
        township = principal.require_township()
        uow = current_uow()
        row = await repository.entry_for_update(uow.session, township, request.id)
        if row is None:
            raise NotFound(f"entry {request.id} not found")
        periods.ensure_unlocked(
            await repository.period_state(uow.session, township, row.period), row.period
        )
        rule = await repository.rule(uow.session, row.rule_code)
        approver_role = rule.approver_role if rule else ADMIN
        outcome = ledger.decide(
            state=row.state,
            appealed_from=row.appealed_from,
            action=request.action,
            reason=request.reason,
            actor=principal.sub,
            person=row.person,
            claimed_by=row.claimed_by,
            actor_is_approver=principal.has_role(approver_role),
        )
        row.state = outcome.state
        row.appealed_from = outcome.appealed_from
        if request.action == "appeal":
            row.appeal_reason = outcome.appeal_reason
        else:
            row.reason = outcome.reason
            row.decided_by = principal.sub
        await uow.session.flush()
        await events.points_recorded(uow, row)
        return entry_to_proto(row)

    # org units and posts -----------------------------------------------------------------
    async def ListOrgUnits(
        self, request: personnel_pb2.ListOrgUnitsRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListOrgUnitsResponse:
        """The caller's township's bodies."""
        township = current_principal().require_township()
        rows = await repository.org_units(current_uow().session, township)
        return personnel_pb2.ListOrgUnitsResponse(
            units=[unit_to_proto(r) for r in rows], max_bodies=self._max_bodies(township)
        )

    async def CreateOrgUnit(
        self, request: personnel_pb2.CreateOrgUnitRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.OrgUnit:
        """A new body, within the town's cap (10 unless configured)."""
        township = _admin(current_principal())
        session = current_uow().session
        code = _code(request.code, "code")
        if request.kind not in org.KINDS:
            raise InvalidArgument("unknown kind", field="kind", rule="|".join(org.KINDS))
        name_zh = _name(request.name_zh, "name_zh", 100)
        name_en = _name(request.name_en, "name_en", 200)
        active = await repository.lock_org_units(session, township)
        existing = await repository.org_unit(session, township, code)
        if existing is not None and existing.active:
            raise AlreadyExists(f"org unit {code} already exists")
        org.check_body_cap(active, self._max_bodies(township))
        if existing is not None:
            existing.active, existing.name_zh, existing.name_en = True, name_zh, name_en
            existing.kind = request.kind
            row = existing
        else:
            row = OrgUnitRow(
                township_id=township,
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                kind=request.kind,
                active=True,
            )
            session.add(row)
        await session.flush()
        return unit_to_proto(row)

    async def DissolveOrgUnit(
        self, request: personnel_pb2.DissolveOrgUnitRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.OrgUnit:
        """Dissolve a body (kept for history; frees a place under the cap)."""
        township = _admin(current_principal())
        session = current_uow().session
        await repository.lock_org_units(session, township)
        row = await repository.org_unit(session, township, request.code)
        if row is None:
            raise NotFound(f"org unit {request.code} not found")
        if not row.active:
            raise Conflict(f"org unit {request.code} is already dissolved", type="dissolved")
        row.active = False
        await session.flush()
        return unit_to_proto(row)

    async def ListPosts(
        self, request: personnel_pb2.ListPostsRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListPostsResponse:
        """The caller's township's post catalogue (岗位目录)."""
        township = current_principal().require_township()
        rows = await repository.posts(current_uow().session, township)
        return personnel_pb2.ListPostsResponse(posts=[post_to_proto(r) for r in rows])

    async def CreatePost(
        self, request: personnel_pb2.CreatePostRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Post:
        """A new post in an active body, with its coefficient and workload factor."""
        township = _admin(current_principal())
        session = current_uow().session
        p = request.post
        code = _code(p.code, "code")
        unit = await repository.org_unit(session, township, p.org_unit)
        if unit is None or not unit.active:
            raise InvalidArgument(
                f"org unit {p.org_unit!r} is not an active body of the township",
                field="org_unit",
                rule="active org unit",
            )
        if await repository.post(session, township, code):
            raise AlreadyExists(f"post {code} already exists")
        row = PostRow(
            township_id=township,
            code=code,
            org_unit=unit.code,
            name_zh=_name(p.name_zh, "name_zh", 100),
            name_en=_name(p.name_en, "name_en", 200),
            coefficient=org.parse_factor(p.coefficient, "coefficient"),
            workload_factor=org.parse_factor(p.workload_factor, "workload_factor", default="1.00"),
        )
        session.add(row)
        await session.flush()
        return post_to_proto(row)

    # people and assignments --------------------------------------------------------------
    async def ListPeople(
        self, request: personnel_pb2.ListPeopleRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.ListPeopleResponse:
        """A page of the township's staff with their assignments."""
        township = current_principal().require_township()
        session = current_uow().session
        size = _page_size(request.page)
        rows = await repository.people_page(session, township, request.page.cursor, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        assignments = await repository.assignments_of(session, township, [r.sub for r in rows])
        return personnel_pb2.ListPeopleResponse(
            people=[person_to_proto(r, assignments.get(r.sub, [])) for r in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].sub if more else ""),
        )

    async def RegisterPerson(
        self, request: personnel_pb2.RegisterPersonRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Person:
        """Register a member of staff with their staffing status (which decides salary only)."""
        township = _admin(current_principal())
        session = current_uow().session
        if not SUB.match(request.sub):
            raise InvalidArgument("sub is malformed", field="sub", rule=SUB.pattern)
        status = org.normalise_status(request.status)
        name = _name(request.name, "name", 100)
        if await repository.person(session, township, request.sub):
            raise AlreadyExists(f"person {request.sub} already exists")
        await repository.upsert_person(session, township, request.sub, name, status)
        row = await _known_person(session, township, request.sub)
        return person_to_proto(row, [])

    async def GetPerson(
        self, request: personnel_pb2.GetPersonRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Person:
        """A member of staff with their assignments."""
        township = current_principal().require_township()
        session = current_uow().session
        row = await _known_person(session, township, request.sub)
        assignments = await repository.assignments_of(session, township, [row.sub])
        return person_to_proto(row, assignments.get(row.sub, []))

    async def Assign(
        self, request: personnel_pb2.AssignRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Assignment:
        """Give a person a post (their current one ends the day before)."""
        township = _admin(current_principal())
        uow = current_uow()
        person = await _known_person(uow.session, township, request.person)
        post = await repository.post(uow.session, township, request.post)
        if post is None:
            raise InvalidArgument(
                f"post {request.post!r} is not in the catalogue", field="post", rule="known post"
            )
        starts_on = _date(request.starts_on, "starts_on")
        current = await repository.current_assignment(uow.session, township, person.sub)
        if current is not None and current.starts_on >= starts_on:
            raise Conflict(
                f"the current assignment started on {current.starts_on}; "
                "a new one must start later",
                type="assignment-overlap",
            )
        row = await events.start_assignment(uow, township, person, post.code, starts_on)
        return assignment_to_proto(row)

    async def EndAssignment(
        self, request: personnel_pb2.EndAssignmentRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Assignment:
        """End an assignment."""
        township = _admin(current_principal())
        uow = current_uow()
        row = await repository.assignment_for_update(uow.session, township, request.id)
        if row is None:
            raise NotFound(f"assignment {request.id} not found")
        if row.ends_on is not None:
            raise Conflict("the assignment has already ended", type="assignment-ended")
        ends_on = _date(request.ends_on, "ends_on")
        if ends_on < row.starts_on:
            raise InvalidArgument(
                "an assignment cannot end before it starts", field="ends_on", rule=">= starts_on"
            )
        person = await _known_person(uow.session, township, row.person)
        await events.end_assignment(uow, row, ends_on, request.reason.strip(), person.status)
        return assignment_to_proto(row)

    # appraisal periods -------------------------------------------------------------------
    async def OpenPeriod(
        self, request: personnel_pb2.OpenPeriodRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Period:
        """Open the appraisal period of a year."""
        principal = current_principal()
        township = _admin(principal)
        session = current_uow().session
        year = _year(request.year)
        if await repository.period(session, township, year):
            raise AlreadyExists(f"the period {year} is already open")
        row = PeriodRow(
            township_id=township,
            year=year,
            state="OPEN",
            history=[
                {"from": "", "to": "OPEN", "actor": principal.sub, "at": clock.now().isoformat()}
            ],
        )
        session.add(row)
        await session.flush()
        return period_to_proto(row)

    async def GetPeriod(
        self, request: personnel_pb2.GetPeriodRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Period:
        """A period with its history."""
        township = current_principal().require_township()
        row = await repository.period(current_uow().session, township, _year(request.year))
        if row is None:
            raise NotFound(f"no appraisal period {request.year}")
        return period_to_proto(row)

    async def AdvancePeriod(
        self, request: personnel_pb2.AdvancePeriodRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Period:
        """One step of OPEN → SCORING → PUBLIC_NOTICE → APPEALS → FINAL → PAID."""
        principal = current_principal()
        township = _admin(principal)
        uow = current_uow()
        year = _year(request.year)
        row = await repository.period(uow.session, township, year, lock=True)
        if row is None:
            raise NotFound(f"no appraisal period {year}")
        to = periods.advance(row.state, request.to)
        if to == "FINAL":
            pending = await repository.pending_count(uow.session, township, year)
            if pending:
                raise Conflict(
                    f"{pending} claims or appeals of {year} still wait for a decision",
                    type="pending-entries",
                )
        if to == "PAID" and not await repository.distributions_count(uow.session, township, year):
            raise Conflict(f"no distribution computed for {year} yet", type="no-distribution")
        row.history = [
            *row.history,
            {"from": row.state, "to": to, "actor": principal.sub, "at": clock.now().isoformat()},
        ]
        row.state = to
        await uow.session.flush()
        if to == "FINAL":
            await uow.emit(
                personnel_events.PeriodFinalized(period_id=f"{township}-{year}", year=year),
                township=township,
                entity="period",
                verb="finalized",
            )
        return period_to_proto(row)

    # distribution ------------------------------------------------------------------------
    async def ComputeDistribution(
        self,
        request: personnel_pb2.ComputeDistributionRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> personnel_pb2.Distribution:
        """Split a pool over the period's staff by coefficient × points (final periods only)."""
        principal = current_principal()
        township = _admin(principal)
        uow = current_uow()
        session = uow.session
        year = _year(request.year)
        if request.kind not in KINDS:
            raise InvalidArgument("unknown pool kind", field="kind", rule="|".join(KINDS))
        try:
            pool = Decimal(request.pool)
        except ArithmeticError:
            raise InvalidArgument("pool is not a number", field="pool", rule="decimal") from None
        period = await repository.period(session, township, year, lock=True)
        if period is None or period.state != "FINAL":
            raise Conflict(
                f"the period {year} must be FINAL to distribute "
                f"(it is {period.state if period else 'not open'})",
                type="period-not-final",
            )
        if await repository.distribution_of(session, township, year, request.kind):
            raise AlreadyExists(f"the {request.kind} of {year} was already distributed")
        # Whoever held a post during the year takes part, with the coefficient of the post
        # they held last that year.
        last_post: dict[str, str] = {}
        for a in await repository.assignments_in_year(session, township, year):
            last_post[a.person] = a.post
        posts = {p.code: p for p in await repository.posts(session, township)}
        points = await repository.points_by_rule(session, township, year, sorted(last_post))
        inputs = [
            ShareInput(
                person=person,
                coefficient=org.effective_coefficient(
                    posts[post].coefficient, posts[post].workload_factor
                ),
                points_by_rule=points.get(person, {}),
            )
            for person, post in sorted(last_post.items())
            if post in posts
        ]
        result = distribute_bonus(pool, inputs)
        row = DistributionRow(
            id=new_id(),
            township_id=township,
            year=year,
            kind=request.kind,
            pool=pool,
            inputs=[
                {
                    "person": i.person,
                    "coefficient": str(i.coefficient),
                    "points_by_rule": {k: str(v) for k, v in i.points_by_rule.items()},
                }
                for i in inputs
            ],
            computed_by=principal.sub,
            computed_at=clock.now(),
        )
        session.add(row)
        await session.flush()
        await uow.emit(
            personnel_events.DistributionComputed(
                distribution_id=row.id,
                period_id=f"{township}-{year}",
                pool=str(pool),
                kind=request.kind,
            ),
            township=township,
            entity="distribution",
            verb="computed",
        )
        return personnel_pb2.Distribution(
            id=row.id,
            year=year,
            kind=row.kind,
            pool=str(result.pool),
            total=str(result.total),
            content_type="application/json",
            body=render_json(result),
            computed_at=ts(row.computed_at),
        )

    async def GetDistribution(
        self, request: personnel_pb2.GetDistributionRequest, context: aio.ServicerContext[Any, Any]
    ) -> personnel_pb2.Distribution:
        """A computed distribution, recomputed exactly from its stored inputs, as JSON or CSV."""
        township = current_principal().require_township()
        row = await repository.distribution(current_uow().session, township, request.id)
        if row is None:
            raise NotFound(f"distribution {request.id} not found")
        fmt = request.format or "json"
        if fmt not in ("json", "csv"):
            raise InvalidArgument("unknown format", field="format", rule="json|csv")
        result = distribute_bonus(
            Decimal(row.pool),
            [
                ShareInput(
                    person=i["person"],
                    coefficient=Decimal(i["coefficient"]),
                    points_by_rule={k: Decimal(v) for k, v in i["points_by_rule"].items()},
                )
                for i in row.inputs
            ],
        )
        return personnel_pb2.Distribution(
            id=row.id,
            year=row.year,
            kind=row.kind,
            pool=str(result.pool),
            total=str(result.total),
            content_type="text/csv" if fmt == "csv" else "application/json",
            body=render_csv(result) if fmt == "csv" else render_json(result),
            computed_at=ts(row.computed_at),
        )
