"""Rows → protobuf messages."""

from __future__ import annotations

from datetime import date, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from township.personnel.v1 import personnel_pb2
from township_personnel.domain.org import effective_coefficient
from township_personnel.models import (
    AssignmentRow,
    OrgUnitRow,
    PeriodRow,
    PersonRow,
    PointsEntryRow,
    PointsRuleRow,
    PostRow,
)


def ts(value: datetime) -> Timestamp:
    """A datetime as a protobuf timestamp."""
    out = Timestamp()
    out.FromDatetime(value)
    return out


def iso(value: date | None) -> str:
    """A date as ISO text ("" for none)."""
    return value.isoformat() if value else ""


def entry_to_proto(row: PointsEntryRow) -> personnel_pb2.PointsEntry:
    """A ledger entry as its message."""
    return personnel_pb2.PointsEntry(
        id=row.id,
        person=row.person,
        rule_code=row.rule_code,
        points=str(row.points),
        state=row.state,
        source_event_id=row.source_event_id or "",
        source_type=row.source_type,
        note=row.note,
        recorded_at=ts(row.recorded_at),
        period=row.period,
        evidence=[
            personnel_pb2.Evidence(
                name=str(e.get("name", "")),
                sha256=str(e.get("sha256", "")),
                uri=str(e.get("uri", "")),
            )
            for e in (row.evidence or [])
        ],
        claimed_by=row.claimed_by or "",
        decided_by=row.decided_by or "",
        reason=row.reason or "",
        appeal_reason=row.appeal_reason or "",
        appealed_from=row.appealed_from or "",
    )


def rule_to_proto(row: PointsRuleRow) -> personnel_pb2.PointsRule:
    """A points rule as its message."""
    return personnel_pb2.PointsRule(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        points=str(row.points),
        cap_per_period="" if row.cap_per_period is None else str(row.cap_per_period),
        trigger=row.trigger,
        evidence_required=row.evidence_required,
        approver_role=row.approver_role,
        claimable=row.claimable,
    )


def unit_to_proto(row: OrgUnitRow) -> personnel_pb2.OrgUnit:
    """A body as its message."""
    return personnel_pb2.OrgUnit(
        code=row.code, name_zh=row.name_zh, name_en=row.name_en, kind=row.kind, active=row.active
    )


def post_to_proto(row: PostRow) -> personnel_pb2.Post:
    """A post as its message."""
    return personnel_pb2.Post(
        code=row.code,
        org_unit=row.org_unit,
        name_zh=row.name_zh,
        name_en=row.name_en,
        coefficient=str(row.coefficient),
        workload_factor=str(row.workload_factor),
        effective_coefficient=str(effective_coefficient(row.coefficient, row.workload_factor)),
    )


def assignment_to_proto(row: AssignmentRow) -> personnel_pb2.Assignment:
    """An assignment as its message."""
    return personnel_pb2.Assignment(
        id=row.id,
        person=row.person,
        post=row.post,
        starts_on=iso(row.starts_on),
        ends_on=iso(row.ends_on),
        end_reason=row.end_reason or "",
    )


def person_to_proto(row: PersonRow, assignments: list[AssignmentRow]) -> personnel_pb2.Person:
    """A person with their assignments."""
    return personnel_pb2.Person(
        sub=row.sub,
        name=row.name,
        status=row.status,
        assignments=[assignment_to_proto(a) for a in assignments],
    )


def period_to_proto(row: PeriodRow) -> personnel_pb2.Period:
    """A period with its history."""
    return personnel_pb2.Period(
        year=row.year,
        state=row.state,
        history=[
            personnel_pb2.PeriodStep(
                from_state=h.get("from", ""),
                to_state=h.get("to", ""),
                actor=h.get("actor", ""),
                at=ts(datetime.fromisoformat(h["at"])),
            )
            for h in (row.history or [])
        ],
    )
