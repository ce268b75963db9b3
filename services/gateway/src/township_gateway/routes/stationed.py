"""Stationed units (驻镇单位): staff, the responsibility matrix, funding, attendance,
appraisal, training and redeployment. The service authorises every call by the matrix."""

from __future__ import annotations

from typing import Any

from fastapi import Path, Query

from township.stationed.v1 import stationed_pb2
from township_gateway.auth import CurrentPrincipal
from township_gateway.deps import PROBLEM_RESPONSES, IdempotencyKey, ServicesDep, iso
from township_gateway.routing import PrefixRouter
from township_gateway.schemas_stationed import (
    AppraisalIn,
    AppraisalOut,
    AttendanceIn,
    AttendanceLineOut,
    AttendanceOut,
    AttendanceReportOut,
    BudgetLineIn,
    BudgetLineOut,
    CorrectionIn,
    DisbursementIn,
    LedgerEntryOut,
    MatrixOut,
    MatrixRowIn,
    MatrixRowOut,
    OpinionIn,
    RedeploymentDecisionIn,
    RedeploymentIn,
    RedeploymentOut,
    RedeploymentStepOut,
    SecondIn,
    StaffOut,
    StationedUnitOut,
    TrainingIn,
    TrainingOut,
)

router = PrefixRouter(prefix="/api/v1/stationed", tags=["stationed"], responses=PROBLEM_RESPONSES)


def ID() -> Any:
    """A fresh parameter declaration (FastAPI mutates them: one per route)."""
    return Path(max_length=36, pattern=r"^[0-9a-fA-F-]{1,36}$")


def UNIT() -> Any:
    """A fresh parameter declaration (FastAPI mutates them: one per route)."""
    return Path(pattern=r"^[a-z][a-z0-9-]{1,30}$")


def TOWN() -> Any:
    """A fresh parameter declaration (FastAPI mutates them: one per route)."""
    return Query(
        None, pattern=r"^[a-z][a-z0-9-]{1,30}$", description="County users: the unit's town"
    )


def _ref(unit: str, township: str | None) -> stationed_pb2.UnitRef:
    return stationed_pb2.UnitRef(township=township or "", unit=unit)


def _matrix(m: stationed_pb2.Matrix) -> MatrixOut:
    return MatrixOut(
        township=m.township,
        rows=[
            MatrixRowOut(
                function=r.function, decides=r.decides, advises=r.advises, informed=r.informed
            )
            for r in m.rows
        ],
    )


def _staff(s: stationed_pb2.Staff) -> StaffOut:
    return StaffOut(
        person=s.person,
        name=s.name,
        township=s.township,
        unit=s.unit,
        department=s.department,
        post=s.post,
        state=s.state,
        seconded_on=s.seconded_on,
        left_on=s.left_on or None,
    )


def _ledger(e: stationed_pb2.LedgerEntry) -> LedgerEntryOut:
    return LedgerEntryOut(
        id=e.id,
        line_id=e.line_id,
        kind=e.kind,
        amount=e.amount,
        note=e.note,
        corrects=e.corrects,
        actor=e.actor,
        at=iso(e.at),
    )


def _line(b: stationed_pb2.BudgetLine) -> BudgetLineOut:
    return BudgetLineOut(
        id=b.id,
        township=b.township,
        unit=b.unit,
        person=b.person,
        year=b.year,
        category=b.category,
        allocated=b.allocated,
        disbursed=b.disbursed,
        remaining=b.remaining,
        entries=[_ledger(e) for e in b.entries],
    )


def _redeployment(r: stationed_pb2.Redeployment) -> RedeploymentOut:
    return RedeploymentOut(
        id=r.id,
        person=r.person,
        township=r.township,
        from_unit=r.from_unit,
        to_township=r.to_township,
        to_unit=r.to_unit,
        state=r.state,
        reason=r.reason,
        opinion=r.opinion,
        effective_on=r.effective_on or None,
        history=[
            RedeploymentStepOut(
                from_state=h.from_state,
                to_state=h.to_state,
                actor=h.actor,
                note=h.note,
                at=iso(h.at),
            )
            for h in r.history
        ],
    )


@router.get("/units", response_model=list[StationedUnitOut])
async def list_units(services: ServicesDep, principal: CurrentPrincipal) -> list[StationedUnitOut]:
    """The caller's township's stationed units (a county department: its own, every town)."""
    reply = await services.call(
        services.stationed.ListUnits, stationed_pb2.ListUnitsRequest(), principal
    )
    return [
        StationedUnitOut(
            code=u.code,
            name_zh=u.name_zh,
            name_en=u.name_en,
            department=u.department,
            township=u.township,
        )
        for u in reply.units
    ]


@router.get("/matrix", response_model=MatrixOut)
async def get_matrix(
    services: ServicesDep, principal: CurrentPrincipal, township: str | None = TOWN()
) -> MatrixOut:
    """The responsibility matrix: per function, who decides, advises, is informed."""
    reply = await services.call(
        services.stationed.GetMatrix,
        stationed_pb2.GetMatrixRequest(township=township or ""),
        principal,
    )
    return _matrix(reply)


@router.put("/matrix/{function}", response_model=MatrixOut)
async def set_matrix_row(
    body: MatrixRowIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    function: str = Path(pattern=r"^[a-z_]{1,32}$"),
) -> MatrixOut:
    """County admin: configure who decides, advises and is informed for one function."""
    reply = await services.call(
        services.stationed.SetMatrixRow,
        stationed_pb2.SetMatrixRowRequest(
            township=body.township,
            row=stationed_pb2.MatrixRow(
                function=function,
                decides=body.decides,
                advises=body.advises,
                informed=body.informed,
            ),
        ),
        principal,
    )
    return _matrix(reply)


# staff -----------------------------------------------------------------------------------
@router.post("/units/{unit}/staff", status_code=201, response_model=StaffOut)
async def second_staff(
    body: SecondIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    unit: str = UNIT(),
) -> StaffOut:
    """Hiring (county department): second a person to the unit; personnel registers them."""
    reply = await services.call(
        services.stationed.SecondStaff,
        stationed_pb2.SecondStaffRequest(
            unit=_ref(unit, body.township),
            person=body.person,
            name=body.name,
            post=body.post,
            starts_on=body.starts_on or "",
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _staff(reply)


@router.get("/units/{unit}/staff", response_model=list[StaffOut])
async def list_staff(
    services: ServicesDep,
    principal: CurrentPrincipal,
    unit: str = UNIT(),
    township: str | None = TOWN(),
) -> list[StaffOut]:
    """The unit's people (current and former)."""
    reply = await services.call(
        services.stationed.ListStaff,
        stationed_pb2.ListStaffRequest(unit=_ref(unit, township)),
        principal,
    )
    return [_staff(s) for s in reply.staff]


# funding ---------------------------------------------------------------------------------
@router.post("/units/{unit}/budget-lines", status_code=201, response_model=BudgetLineOut)
async def open_budget_line(
    body: BudgetLineIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    unit: str = UNIT(),
) -> BudgetLineOut:
    """City finance allocates a yearly line (again: a top-up, a new ledger entry)."""
    reply = await services.call(
        services.stationed.OpenBudgetLine,
        stationed_pb2.OpenBudgetLineRequest(
            unit=_ref(unit, body.township),
            person=body.person,
            year=body.year,
            category=body.category,
            amount=body.amount,
            note=body.note,
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _line(reply)


@router.get("/units/{unit}/budget-lines", response_model=list[BudgetLineOut])
async def list_budget_lines(
    services: ServicesDep,
    principal: CurrentPrincipal,
    unit: str = UNIT(),
    township: str | None = TOWN(),
    year: int = Query(0, ge=0, le=2100),
) -> list[BudgetLineOut]:
    """The unit's budget lines with their ledgers."""
    reply = await services.call(
        services.stationed.ListBudgetLines,
        stationed_pb2.ListBudgetLinesRequest(unit=_ref(unit, township), year=year),
        principal,
    )
    return [_line(b) for b in reply.lines]


@router.get("/budget-lines/{line_id}", response_model=BudgetLineOut)
async def get_budget_line(
    services: ServicesDep, principal: CurrentPrincipal, line_id: str = ID()
) -> BudgetLineOut:
    """A budget line: allocated, disbursed, remaining, and every movement."""
    reply = await services.call(
        services.stationed.GetBudgetLine, stationed_pb2.GetBudgetLineRequest(id=line_id), principal
    )
    return _line(reply)


@router.post(
    "/budget-lines/{line_id}/disbursements", status_code=201, response_model=LedgerEntryOut
)
async def disburse(
    body: DisbursementIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    line_id: str = ID(),
) -> LedgerEntryOut:
    """The township pays out; above what remains is refused (409 over-budget)."""
    reply = await services.call(
        services.stationed.Disburse,
        stationed_pb2.DisburseRequest(line_id=line_id, amount=body.amount, note=body.note),
        principal,
        idempotency_key=idempotency_key,
    )
    return _ledger(reply)


@router.post("/ledger/{entry_id}/corrections", status_code=201, response_model=LedgerEntryOut)
async def correct_entry(
    body: CorrectionIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    entry_id: str = ID(),
) -> LedgerEntryOut:
    """Correct a movement with a new signed entry (the ledger is never edited)."""
    reply = await services.call(
        services.stationed.CorrectEntry,
        stationed_pb2.CorrectEntryRequest(entry_id=entry_id, amount=body.amount, note=body.note),
        principal,
        idempotency_key=idempotency_key,
    )
    return _ledger(reply)


# attendance, appraisal, training ---------------------------------------------------------
@router.post("/attendance", status_code=201, response_model=AttendanceOut)
async def record_attendance(
    body: AttendanceIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> AttendanceOut:
    """The township records a stationed person's day."""
    reply = await services.call(
        services.stationed.RecordAttendance,
        stationed_pb2.RecordAttendanceRequest(
            person=body.person, date=body.date or "", status=body.status, note=body.note
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return AttendanceOut(
        id=reply.id,
        person=reply.person,
        unit=reply.unit,
        date=reply.date,
        status=reply.status,
        note=reply.note,
    )


@router.get("/units/{unit}/attendance-report", response_model=AttendanceReportOut)
async def attendance_report(
    services: ServicesDep,
    principal: CurrentPrincipal,
    unit: str = UNIT(),
    township: str | None = TOWN(),
    year: int = Query(ge=2000, le=2100),
    quarter: int = Query(ge=1, le=4),
) -> AttendanceReportOut:
    """The quarterly attendance report of a unit to its county department."""
    reply = await services.call(
        services.stationed.AttendanceReport,
        stationed_pb2.AttendanceReportRequest(
            unit=_ref(unit, township), year=year, quarter=quarter
        ),
        principal,
    )
    return AttendanceReportOut(
        township=reply.township,
        unit=reply.unit,
        department=reply.department,
        year=reply.year,
        quarter=reply.quarter,
        lines=[
            AttendanceLineOut(
                person=line.person,
                present=line.present,
                absent=line.absent,
                leave=line.leave,
                business_trip=line.business_trip,
            )
            for line in reply.lines
        ],
    )


@router.post("/appraisals", status_code=201, response_model=AppraisalOut)
async def submit_appraisal(
    body: AppraisalIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> AppraisalOut:
    """The township appraises a stationed person (the department is informed)."""
    r = await services.call(
        services.stationed.SubmitAppraisal,
        stationed_pb2.SubmitAppraisalRequest(**body.model_dump()),
        principal,
        idempotency_key=idempotency_key,
    )
    return AppraisalOut(
        id=r.id,
        person=r.person,
        unit=r.unit,
        period=r.period,
        grade=r.grade,
        comment=r.comment,
        by=r.by,
    )


@router.get("/units/{unit}/appraisals", response_model=list[AppraisalOut])
async def list_appraisals(
    services: ServicesDep,
    principal: CurrentPrincipal,
    unit: str = UNIT(),
    township: str | None = TOWN(),
) -> list[AppraisalOut]:
    """The unit's appraisals (the township's, visible to the department)."""
    reply = await services.call(
        services.stationed.ListAppraisals,
        stationed_pb2.ListAppraisalsRequest(unit=_ref(unit, township)),
        principal,
    )
    return [
        AppraisalOut(
            id=r.id,
            person=r.person,
            unit=r.unit,
            period=r.period,
            grade=r.grade,
            comment=r.comment,
            by=r.by,
        )
        for r in reply.appraisals
    ]


def _training(t: stationed_pb2.Training) -> TrainingOut:
    return TrainingOut(
        id=t.id,
        person=t.person,
        township=t.township,
        unit=t.unit,
        course=t.course,
        hours=t.hours,
        date=t.date,
    )


@router.post("/units/{unit}/training", status_code=201, response_model=TrainingOut)
async def record_training(
    body: TrainingIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    unit: str = UNIT(),
) -> TrainingOut:
    """The county department records professional training (a township may not)."""
    reply = await services.call(
        services.stationed.RecordTraining,
        stationed_pb2.RecordTrainingRequest(
            unit=_ref(unit, body.township),
            person=body.person,
            course=body.course,
            hours=body.hours,
            date=body.date or "",
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _training(reply)


@router.get("/units/{unit}/training", response_model=list[TrainingOut])
async def list_training(
    services: ServicesDep,
    principal: CurrentPrincipal,
    unit: str = UNIT(),
    township: str | None = TOWN(),
) -> list[TrainingOut]:
    """The unit's training records."""
    reply = await services.call(
        services.stationed.ListTraining,
        stationed_pb2.ListTrainingRequest(unit=_ref(unit, township)),
        principal,
    )
    return [_training(t) for t in reply.training]


# redeployment ----------------------------------------------------------------------------
@router.post("/units/{unit}/redeployments", status_code=201, response_model=RedeploymentOut)
async def propose_redeployment(
    body: RedeploymentIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    unit: str = UNIT(),
) -> RedeploymentOut:
    """The county department proposes a redeployment (调配)."""
    reply = await services.call(
        services.stationed.ProposeRedeployment,
        stationed_pb2.ProposeRedeploymentRequest(
            unit=_ref(unit, body.township),
            person=body.person,
            to_township=body.to_township,
            to_unit=body.to_unit,
            reason=body.reason,
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _redeployment(reply)


@router.get("/redeployments/{redeployment_id}", response_model=RedeploymentOut)
async def get_redeployment(
    services: ServicesDep, principal: CurrentPrincipal, redeployment_id: str = ID()
) -> RedeploymentOut:
    """A redeployment with its history."""
    reply = await services.call(
        services.stationed.GetRedeployment,
        stationed_pb2.GetRedeploymentRequest(id=redeployment_id),
        principal,
    )
    return _redeployment(reply)


@router.post("/redeployments/{redeployment_id}/opinion", response_model=RedeploymentOut)
async def give_opinion(
    body: OpinionIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    redeployment_id: str = ID(),
) -> RedeploymentOut:
    """The township agrees or objects."""
    reply = await services.call(
        services.stationed.GiveOpinion,
        stationed_pb2.GiveOpinionRequest(id=redeployment_id, opinion=body.opinion, note=body.note),
        principal,
        idempotency_key=idempotency_key,
    )
    return _redeployment(reply)


@router.post("/redeployments/{redeployment_id}/decision", response_model=RedeploymentOut)
async def decide_redeployment(
    body: RedeploymentDecisionIn,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    redeployment_id: str = ID(),
) -> RedeploymentOut:
    """The county decides: confirm (effective on a date) or withdraw."""
    reply = await services.call(
        services.stationed.DecideRedeployment,
        stationed_pb2.DecideRedeploymentRequest(
            id=redeployment_id,
            decision=body.decision,
            effective_on=body.effective_on or "",
            note=body.note,
        ),
        principal,
        idempotency_key=idempotency_key,
    )
    return _redeployment(reply)
