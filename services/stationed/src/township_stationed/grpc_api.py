"""gRPC surface of stationed: every call on a unit is authorised by the responsibility matrix."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio
from sqlalchemy.ext.asyncio import AsyncSession

from township.stationed.events.v1 import events_pb2 as stationed_events
from township.stationed.v1 import stationed_pb2, stationed_pb2_grpc
from township_platform import clock
from township_platform.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from township_platform.ids import new_id
from township_platform.principal import Principal
from township_platform.rpc import current_principal, current_uow
from township_stationed import events, repository
from township_stationed.domain import attendance as att
from township_stationed.domain import funding, matrix, redeployment
from township_stationed.models import (
    AppraisalRow,
    AttendanceRow,
    BudgetLineRow,
    FundingEntryRow,
    RedeploymentRow,
    StaffRow,
    StationedUnitRow,
    TrainingRow,
)

SUB = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
PERIOD = re.compile(r"^\d{4}(-Q[1-4]|-H[12])?$")


def _ts(value: Any) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def _date(value: str, field: str) -> date:
    if not value:
        return clock.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{field} must be a date", field=field, rule="YYYY-MM-DD") from None


def _sub(value: str, field: str = "person") -> str:
    if not SUB.match(value):
        raise InvalidArgument(f"{field} is malformed", field=field, rule=SUB.pattern)
    return value


def _hidden(principal: Principal, unit: StationedUnitRow) -> bool:
    """Another town's unit, or another department's, is NotFound (never 403)."""
    if principal.township:
        return principal.township != unit.township_id
    if principal.has_role("county_admin", "auditor"):
        return False
    return principal.department != unit.department


async def _unit(
    session: AsyncSession, principal: Principal, ref: stationed_pb2.UnitRef
) -> StationedUnitRow:
    township = principal.township or ref.township
    if not township:
        raise InvalidArgument(
            "county users name the unit's township", field="unit.township", rule="required"
        )
    row = await repository.unit(session, township, ref.unit)
    if row is None or _hidden(principal, row):
        raise NotFound(f"stationed unit {ref.unit!r} not found", type="unit-not-found")
    return row


async def _authorize(
    session: AsyncSession,
    principal: Principal,
    function: str,
    unit: StationedUnitRow,
    as_: str = "decides",
) -> str:
    rows = await repository.matrix(session, unit.township_id)
    return matrix.authorize(rows, function, principal, unit.township_id, unit.department, as_=as_)


async def _active_staff(session: AsyncSession, township: str, person: str) -> StaffRow:
    row = await repository.staff(session, township, person)
    if row is None or row.state != "active":
        raise NotFound(f"no active stationed person {person!r}", type="staff-not-found")
    return row


def _staff(row: StaffRow, department: str) -> stationed_pb2.Staff:
    return stationed_pb2.Staff(
        person=row.person,
        name=row.name,
        township=row.township_id,
        unit=row.unit_code,
        department=department,
        post=row.post,
        state=row.state,
        seconded_on=row.seconded_on.isoformat(),
        left_on=row.left_on.isoformat() if row.left_on else "",
    )


def _ledger(row: FundingEntryRow) -> stationed_pb2.LedgerEntry:
    return stationed_pb2.LedgerEntry(
        id=row.id,
        line_id=row.line_id,
        kind=row.kind,
        amount=str(row.amount),
        note=row.note,
        corrects=row.corrects,
        actor=row.actor,
        at=_ts(row.at),
    )


async def _line(session: AsyncSession, row: BudgetLineRow) -> stationed_pb2.BudgetLine:
    moves = await repository.movements(session, row.id)
    bal = funding.balance((m.kind, m.amount) for m in moves)
    return stationed_pb2.BudgetLine(
        id=row.id,
        township=row.township_id,
        unit=row.unit_code,
        person=row.person,
        year=row.year,
        category=row.category,
        allocated=str(bal.allocated),
        disbursed=str(bal.disbursed),
        remaining=str(bal.remaining),
        entries=[_ledger(m) for m in moves],
    )


def _redeployment(row: RedeploymentRow) -> stationed_pb2.Redeployment:
    return stationed_pb2.Redeployment(
        id=row.id,
        person=row.person,
        township=row.township_id,
        from_unit=row.from_unit,
        to_township=row.to_township,
        to_unit=row.to_unit,
        state=row.state,
        reason=row.reason,
        opinion=row.opinion,
        effective_on=row.effective_on.isoformat() if row.effective_on else "",
        history=[
            stationed_pb2.RedeploymentStep(
                from_state=h.get("from", ""),
                to_state=h.get("to", ""),
                actor=h.get("actor", ""),
                note=h.get("note", ""),
                at=_ts(datetime.fromisoformat(h["at"])),
            )
            for h in (row.history or [])
        ],
    )


class StationedServicer(stationed_pb2_grpc.StationedServiceServicer):
    """County offices stationed in townships: staff, matrix, funding, attendance, redeployment."""

    async def ListUnits(
        self, request: stationed_pb2.ListUnitsRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.ListUnitsResponse:
        """A township's units; a county department sees its own units across towns."""
        principal = current_principal()
        if principal.township:
            rows = await repository.units(current_uow().session, principal.township, None)
        elif principal.department:
            rows = await repository.units(current_uow().session, None, principal.department)
        elif principal.has_role("county_admin", "auditor"):
            rows = await repository.units(current_uow().session, None, None)
        else:
            raise PermissionDenied("a township or a county department is needed")
        return stationed_pb2.ListUnitsResponse(
            units=[
                stationed_pb2.StationedUnit(
                    code=r.code,
                    name_zh=r.name_zh,
                    name_en=r.name_en,
                    department=r.department,
                    township=r.township_id,
                )
                for r in rows
            ]
        )

    async def GetMatrix(
        self, request: stationed_pb2.GetMatrixRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.Matrix:
        """The responsibility matrix of a township."""
        principal = current_principal()
        township = principal.township or request.township
        if not township:
            raise InvalidArgument("township is required", field="township", rule="required")
        rows = await repository.matrix(current_uow().session, township)
        return stationed_pb2.Matrix(
            township=township,
            rows=[
                stationed_pb2.MatrixRow(
                    function=f, decides=r.decides, advises=r.advises, informed=r.informed
                )
                for f, r in rows.items()
            ],
        )

    async def SetMatrixRow(
        self, request: stationed_pb2.SetMatrixRowRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.Matrix:
        """County admin: configure one function of a town's responsibility matrix."""
        principal = current_principal()
        if principal.township is not None or not principal.has_role("county_admin"):
            raise PermissionDenied(
                "the responsibility matrix is configured by the county", type="county-admin-only"
            )
        row = matrix.configured(
            request.row.function, request.row.decides, request.row.advises, request.row.informed
        )
        session = current_uow().session
        if not await repository.units(session, request.township, None):
            raise NotFound(f"township {request.township!r} has no stationed units")
        await repository.set_matrix_row(session, request.township, request.row.function, row)
        return await self.GetMatrix(
            stationed_pb2.GetMatrixRequest(township=request.township), context
        )

    # staff -------------------------------------------------------------------------------
    async def SecondStaff(
        self, request: stationed_pb2.SecondStaffRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.Staff:
        """Hiring (county department): a person joins a unit; personnel learns by event."""
        principal = current_principal()
        uow = current_uow()
        unit = await _unit(uow.session, principal, request.unit)
        await _authorize(uow.session, principal, "hiring", unit)
        person = _sub(request.person)
        name = request.name.strip()
        if not name or len(name) > 100:
            raise InvalidArgument("name is required", field="name", rule="1..100 chars")
        if request.post and not re.match(r"^[a-z][a-z0-9-]{1,30}$", request.post):
            raise InvalidArgument("post is malformed", field="post", rule="slug")
        existing = await repository.staff(uow.session, unit.township_id, person, lock=True)
        if existing is not None and existing.state == "active":
            raise AlreadyExists(f"{person} is already stationed in {existing.unit_code}")
        starts = _date(request.starts_on, "starts_on")
        if existing is None:
            row = StaffRow(
                township_id=unit.township_id,
                person=person,
                name=name,
                unit_code=unit.code,
                post=request.post,
                state="active",
                seconded_on=starts,
                left_on=None,
            )
            uow.session.add(row)
        else:
            row = existing
            row.name, row.unit_code, row.post, row.state = name, unit.code, request.post, "active"
            row.seconded_on, row.left_on = starts, None
        await uow.session.flush()
        await events.staff_seconded(uow, row, unit.department)
        return _staff(row, unit.department)

    async def ListStaff(
        self, request: stationed_pb2.ListStaffRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.ListStaffResponse:
        """A unit's people (both parties)."""
        principal = current_principal()
        session = current_uow().session
        unit = await _unit(session, principal, request.unit)
        rows = await repository.staff_of_unit(session, unit.township_id, unit.code)
        return stationed_pb2.ListStaffResponse(staff=[_staff(r, unit.department) for r in rows])

    # funding -----------------------------------------------------------------------------
    async def OpenBudgetLine(
        self, request: stationed_pb2.OpenBudgetLineRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.BudgetLine:
        """City finance allocates a yearly line (or tops one up: a new allocation entry)."""
        principal = current_principal()
        uow = current_uow()
        if principal.township is not None or not (
            principal.has_role("county_admin")
            or (principal.has_role("county_dept") and principal.department == "finance")
        ):
            raise PermissionDenied(
                "budget lines are allocated by city finance", type="finance-only"
            )
        unit = await _unit(uow.session, principal, request.unit)
        if request.category not in funding.CATEGORIES:
            raise InvalidArgument(
                "unknown category", field="category", rule="|".join(funding.CATEGORIES)
            )
        if not 2000 <= request.year <= 2100:
            raise InvalidArgument("year out of range", field="year", rule="2000..2100")
        person = _sub(request.person) if request.person else ""
        amount = funding.parse_amount(request.amount)
        line = await repository.budget_line_by_key(
            uow.session, unit.township_id, unit.code, person, request.year, request.category
        )
        if line is None:
            line = BudgetLineRow(
                id=new_id(),
                township_id=unit.township_id,
                unit_code=unit.code,
                person=person,
                year=request.year,
                category=request.category,
                created_by=principal.sub,
            )
            await repository.add(uow.session, line)
        line = await repository.budget_line(uow.session, line.id, lock=True) or line
        await repository.add(
            uow.session,
            FundingEntryRow(
                id=new_id(),
                line_id=line.id,
                township_id=line.township_id,
                kind="allocation",
                amount=amount,
                note=request.note.strip()[:500],
                corrects="",
                actor=principal.sub,
                at=clock.now(),
            ),
        )
        return await _line(uow.session, line)

    async def Disburse(
        self, request: stationed_pb2.DisburseRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.LedgerEntry:
        """The township pays out against a line; never above what remains (row-locked)."""
        principal = current_principal()
        uow = current_uow()
        amount = funding.parse_amount(request.amount)
        line = await repository.budget_line(uow.session, request.line_id)
        if line is None:
            raise NotFound(f"budget line {request.line_id} not found")
        unit = await repository.unit(uow.session, line.township_id, line.unit_code)
        if unit is None or _hidden(principal, unit):
            raise NotFound(f"budget line {request.line_id} not found")
        await _authorize(uow.session, principal, "pay_disbursement", unit)
        # The lock serialises disbursements on the line: the check and the insert are atomic.
        await repository.budget_line(uow.session, line.id, lock=True)
        funding.check_disbursement(await repository.remaining(uow.session, line.id), amount)
        row = FundingEntryRow(
            id=new_id(),
            line_id=line.id,
            township_id=line.township_id,
            kind="disbursement",
            amount=-amount,
            note=request.note.strip()[:500],
            corrects="",
            actor=principal.sub,
            at=clock.now(),
        )
        await repository.add(uow.session, row)
        await uow.emit(
            stationed_events.DisbursementMade(
                disbursement_id=row.id,
                unit_code=line.unit_code,
                person=line.person,
                line=line.category,
                amount=str(amount),
                year=line.year,
            ),
            township=line.township_id,
            entity="disbursement",
            verb="made",
        )
        return _ledger(row)

    async def CorrectEntry(
        self, request: stationed_pb2.CorrectEntryRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.LedgerEntry:
        """A correction is a new entry pointing at the one it corrects (nothing is edited)."""
        principal = current_principal()
        uow = current_uow()
        original = await repository.funding_entry(uow.session, request.entry_id)
        if original is None:
            raise NotFound(f"ledger entry {request.entry_id} not found")
        line = await repository.budget_line(uow.session, original.line_id, lock=True)
        assert line is not None
        unit = await repository.unit(uow.session, line.township_id, line.unit_code)
        if unit is None or _hidden(principal, unit):
            raise NotFound(f"ledger entry {request.entry_id} not found")
        await _authorize(uow.session, principal, "pay_disbursement", unit)
        amount = funding.parse_amount(request.amount, signed=True)
        if not request.note.strip():
            raise InvalidArgument("a correction needs a note", field="note", rule="required")
        funding.check_correction(await repository.remaining(uow.session, line.id), amount)
        row = FundingEntryRow(
            id=new_id(),
            line_id=line.id,
            township_id=line.township_id,
            kind="correction",
            amount=amount,
            note=request.note.strip()[:500],
            corrects=original.id,
            actor=principal.sub,
            at=clock.now(),
        )
        await repository.add(uow.session, row)
        return _ledger(row)

    async def GetBudgetLine(
        self, request: stationed_pb2.GetBudgetLineRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.BudgetLine:
        """A line with its whole ledger (both parties)."""
        principal = current_principal()
        session = current_uow().session
        line = await repository.budget_line(session, request.id)
        unit = await repository.unit(session, line.township_id, line.unit_code) if line else None
        if line is None or unit is None or _hidden(principal, unit):
            raise NotFound(f"budget line {request.id} not found")
        return await _line(session, line)

    async def ListBudgetLines(
        self, request: stationed_pb2.ListBudgetLinesRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.ListBudgetLinesResponse:
        """A unit's lines."""
        principal = current_principal()
        session = current_uow().session
        unit = await _unit(session, principal, request.unit)
        rows = await repository.budget_lines(session, unit.township_id, unit.code, request.year)
        return stationed_pb2.ListBudgetLinesResponse(lines=[await _line(session, r) for r in rows])

    # attendance, appraisal, training -----------------------------------------------------
    async def _township_staff(
        self, session: AsyncSession, principal: Principal, person: str, function: str
    ) -> tuple[StaffRow, StationedUnitRow]:
        if principal.township is None:
            raise PermissionDenied(
                f"the responsibility matrix gives '{function}' to the township",
                type="matrix-forbids",
            )
        staff = await _active_staff(session, principal.township, person)
        unit = await repository.unit(session, staff.township_id, staff.unit_code)
        assert unit is not None
        await _authorize(session, principal, function, unit)
        return staff, unit

    async def RecordAttendance(
        self,
        request: stationed_pb2.RecordAttendanceRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> stationed_pb2.Attendance:
        """The township records a day of attendance."""
        principal = current_principal()
        session = current_uow().session
        staff, unit = await self._township_staff(session, principal, request.person, "attendance")
        if request.status not in att.STATUSES:
            raise InvalidArgument("unknown status", field="status", rule="|".join(att.STATUSES))
        day = _date(request.date, "date")
        if day > clock.today():
            raise InvalidArgument("attendance is not recorded ahead", field="date", rule="<= today")
        if await repository.attendance_on(session, staff.township_id, staff.person, day):
            raise AlreadyExists(f"attendance of {staff.person} on {day} is already recorded")
        row = AttendanceRow(
            id=new_id(),
            township_id=staff.township_id,
            person=staff.person,
            unit_code=unit.code,
            day=day,
            status=request.status,
            note=request.note.strip()[:500],
            recorded_by=principal.sub,
        )
        await repository.add(session, row)
        return stationed_pb2.Attendance(
            id=row.id,
            person=row.person,
            unit=row.unit_code,
            date=day.isoformat(),
            status=row.status,
            note=row.note,
        )

    async def AttendanceReport(
        self,
        request: stationed_pb2.AttendanceReportRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> stationed_pb2.AttendanceReportResponse:
        """The quarterly attendance report of a unit, for its county department."""
        principal = current_principal()
        session = current_uow().session
        unit = await _unit(session, principal, request.unit)
        start, end = att.quarter_range(request.year, request.quarter)
        rows = await repository.attendance_between(session, unit.township_id, unit.code, start, end)
        tallies = att.tally((r.person, r.status) for r in rows)
        return stationed_pb2.AttendanceReportResponse(
            township=unit.township_id,
            unit=unit.code,
            department=unit.department,
            year=request.year,
            quarter=request.quarter,
            lines=[
                stationed_pb2.AttendanceLine(
                    person=p,
                    present=c["present"],
                    absent=c["absent"],
                    leave=c["leave"],
                    business_trip=c["business_trip"],
                )
                for p, c in sorted(tallies.items())
            ],
        )

    async def SubmitAppraisal(
        self, request: stationed_pb2.SubmitAppraisalRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.Appraisal:
        """The township appraises a stationed person; the department sees it (event)."""
        principal = current_principal()
        uow = current_uow()
        staff, unit = await self._township_staff(
            uow.session, principal, request.person, "appraisal"
        )
        if request.grade not in att.GRADES:
            raise InvalidArgument("unknown grade", field="grade", rule="|".join(att.GRADES))
        if not PERIOD.match(request.period):
            raise InvalidArgument("period is malformed", field="period", rule="YYYY[-Qn|-Hn]")
        if await repository.appraisal(uow.session, staff.township_id, staff.person, request.period):
            raise AlreadyExists(f"{staff.person} is already appraised for {request.period}")
        row = AppraisalRow(
            id=new_id(),
            township_id=staff.township_id,
            person=staff.person,
            unit_code=unit.code,
            period=request.period,
            grade=request.grade,
            comment=request.comment.strip()[:2000],
            by=principal.sub,
        )
        await repository.add(uow.session, row)
        await uow.emit(
            stationed_events.AppraisalSubmitted(
                person=row.person, unit_code=row.unit_code, period=row.period, grade=row.grade
            ),
            township=row.township_id,
            entity="appraisal",
            verb="submitted",
        )
        return _appraisal(row)

    async def ListAppraisals(
        self, request: stationed_pb2.ListAppraisalsRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.ListAppraisalsResponse:
        """A unit's appraisals (the township's, visible to the department)."""
        principal = current_principal()
        session = current_uow().session
        unit = await _unit(session, principal, request.unit)
        rows = await repository.appraisals(session, unit.township_id, unit.code)
        return stationed_pb2.ListAppraisalsResponse(appraisals=[_appraisal(r) for r in rows])

    async def RecordTraining(
        self, request: stationed_pb2.RecordTrainingRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.Training:
        """The county department records professional training."""
        principal = current_principal()
        session = current_uow().session
        unit = await _unit(session, principal, request.unit)
        await _authorize(session, principal, "training", unit)
        staff = await _active_staff(session, unit.township_id, request.person)
        course = request.course.strip()
        if not course or len(course) > 200:
            raise InvalidArgument("course is required", field="course", rule="1..200 chars")
        try:
            hours = Decimal(request.hours)
        except (InvalidOperation, ValueError):
            raise InvalidArgument("hours is not a number", field="hours", rule="decimal") from None
        if not hours.is_finite() or not 0 < hours <= 500 or hours != hours.quantize(Decimal("0.1")):
            raise InvalidArgument("hours out of range", field="hours", rule="(0, 500], 1 decimal")
        row = TrainingRow(
            id=new_id(),
            township_id=unit.township_id,
            person=staff.person,
            unit_code=unit.code,
            course=course,
            hours=hours,
            day=_date(request.date, "date"),
            recorded_by=principal.sub,
        )
        await repository.add(session, row)
        return _training(row)

    async def ListTraining(
        self, request: stationed_pb2.ListTrainingRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.ListTrainingResponse:
        """A unit's training records."""
        principal = current_principal()
        session = current_uow().session
        unit = await _unit(session, principal, request.unit)
        rows = await repository.training(session, unit.township_id, unit.code)
        return stationed_pb2.ListTrainingResponse(training=[_training(r) for r in rows])

    # redeployment ------------------------------------------------------------------------
    async def ProposeRedeployment(
        self,
        request: stationed_pb2.ProposeRedeploymentRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> stationed_pb2.Redeployment:
        """The county department proposes moving a person."""
        principal = current_principal()
        session = current_uow().session
        unit = await _unit(session, principal, request.unit)
        await _authorize(session, principal, "redeployment", unit)
        staff = await _active_staff(session, unit.township_id, request.person)
        if staff.unit_code != unit.code:
            raise NotFound(f"{request.person} is not stationed in {unit.code}")
        if await repository.open_redeployment(session, unit.township_id, staff.person):
            raise AlreadyExists(f"{staff.person} already has a redeployment in progress")
        if request.to_unit and request.to_township:
            if await repository.unit(session, request.to_township, request.to_unit) is None:
                raise InvalidArgument(
                    "the target unit does not exist", field="to_unit", rule="known unit"
                )
        row = RedeploymentRow(
            id=new_id(),
            township_id=unit.township_id,
            person=staff.person,
            from_unit=unit.code,
            department=unit.department,
            to_township=request.to_township,
            to_unit=request.to_unit,
            state="",
            reason=request.reason.strip()[:2000],
            opinion="",
            effective_on=None,
            history=[],
        )
        events.history_step(row, "PROPOSED", principal.sub, row.reason)
        await repository.add(session, row)
        return _redeployment(row)

    async def _redeployment_for(
        self, session: AsyncSession, principal: Principal, redeployment_id: str
    ) -> tuple[RedeploymentRow, StationedUnitRow]:
        row = await repository.redeployment(session, redeployment_id, lock=True)
        unit = await repository.unit(session, row.township_id, row.from_unit) if row else None
        if row is None or unit is None or _hidden(principal, unit):
            raise NotFound(f"redeployment {redeployment_id} not found")
        return row, unit

    async def GiveOpinion(
        self, request: stationed_pb2.GiveOpinionRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.Redeployment:
        """The township advises: agree or object (with a note)."""
        principal = current_principal()
        session = current_uow().session
        row, unit = await self._redeployment_for(session, principal, request.id)
        await _authorize(session, principal, "redeployment", unit, as_="advises")
        opinion = redeployment.check_choice(request.opinion, redeployment.OPINIONS, "opinion")
        note = request.note.strip()[:2000]
        if opinion == "object" and not note:
            raise InvalidArgument("an objection needs a note", field="note", rule="required")
        events.history_step(row, redeployment.step(row.state, opinion), principal.sub, note)
        row.opinion = f"{opinion}: {note}" if note else opinion
        await session.flush()
        return _redeployment(row)

    async def DecideRedeployment(
        self,
        request: stationed_pb2.DecideRedeploymentRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> stationed_pb2.Redeployment:
        """The county decides (confirm with an effective date, or withdraw)."""
        principal = current_principal()
        uow = current_uow()
        row, unit = await self._redeployment_for(uow.session, principal, request.id)
        await _authorize(uow.session, principal, "redeployment", unit)
        decision = redeployment.check_choice(request.decision, redeployment.DECISIONS, "decision")
        note = request.note.strip()[:2000]
        events.history_step(row, redeployment.step(row.state, decision), principal.sub, note)
        if decision == "confirm":
            row.effective_on = _date(request.effective_on, "effective_on")
            await uow.session.flush()
            if redeployment.due(row.effective_on, clock.today()):
                await events.take_effect(uow, row, principal.sub)
        await uow.session.flush()
        return _redeployment(row)

    async def GetRedeployment(
        self, request: stationed_pb2.GetRedeploymentRequest, context: aio.ServicerContext[Any, Any]
    ) -> stationed_pb2.Redeployment:
        """A redeployment with its history (both parties)."""
        principal = current_principal()
        session = current_uow().session
        row = await repository.redeployment(session, request.id)
        unit = await repository.unit(session, row.township_id, row.from_unit) if row else None
        if row is None or unit is None or _hidden(principal, unit):
            raise NotFound(f"redeployment {request.id} not found")
        return _redeployment(row)


def _appraisal(row: AppraisalRow) -> stationed_pb2.Appraisal:
    return stationed_pb2.Appraisal(
        id=row.id,
        person=row.person,
        unit=row.unit_code,
        period=row.period,
        grade=row.grade,
        comment=row.comment,
        by=row.by,
    )


def _training(row: TrainingRow) -> stationed_pb2.Training:
    return stationed_pb2.Training(
        id=row.id,
        person=row.person,
        township=row.township_id,
        unit=row.unit_code,
        course=row.course,
        hours=str(row.hours),
        date=row.day.isoformat(),
    )
