"""Rows → protobuf messages."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from township.personnel.v1 import personnel_pb2
from township_personnel.models import PointsEntryRow


def entry_to_proto(row: PointsEntryRow) -> personnel_pb2.PointsEntry:
    """A ledger entry as its message."""
    ts = Timestamp()
    ts.FromDatetime(row.recorded_at)
    return personnel_pb2.PointsEntry(
        id=row.id,
        person=row.person,
        rule_code=row.rule_code,
        points=str(row.points),
        state=row.state,
        source_event_id=row.source_event_id or "",
        source_type=row.source_type,
        note=row.note,
        recorded_at=ts,
    )
