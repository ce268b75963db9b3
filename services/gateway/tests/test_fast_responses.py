"""Routes that build their JSON directly stay exactly in the shape their models document."""

from __future__ import annotations

from typing import Any

import orjson
from google.protobuf.timestamp_pb2 import Timestamp

from township.permits.v1 import permits_pb2
from township_gateway.deps import FastJSON
from township_gateway.routes.applications import application_dict
from township_gateway.schemas import ApplicationOut
from township_gateway.schemas_permits import ApplicationPageOut


def _ts(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds, nanos=5000)


def _full() -> permits_pb2.Application:
    """Every field set, nothing at its default (so a forgotten field shows)."""
    return permits_pb2.Application(
        id="0b7c1f0e-8a1d-4a39-9d4c-0a3b5f3e1c2d",
        township_id="zhaowan",
        receipt_code="ZW-20261127-ABCD",
        bundle="newborn",
        item_code="QT-00101-001",
        item_name="出生登记",
        department="public-security",
        state="IN_REVIEW",
        channel="agent",
        village="赵湾村",
        applicant=permits_pb2.Applicant(
            name="张玉祥", id_number="110101199003077777", phone="13912345678", kind="person"
        ),
        materials=[
            permits_pb2.Material(code="birth-certificate", name="出生医学证明", sha256="ab")
        ],
        submitted_by="clerk-zw-01",
        submitted_at=_ts(1_795_000_000),
        promised_limit=permits_pb2.TimeLimit(amount=3, unit="working"),
        statutory_limit=permits_pb2.TimeLimit(amount=20, unit="working"),
        received_on="2026-11-27",
        promised_due_date="2026-12-02",
        statutory_due_date="2026-12-25",
        remaining_working_days=2,
        statutory_remaining_working_days=19,
        overdue=True,
        clock_paused=True,
        correction_deadline="2026-12-04",
        extension_days=10,
        applicant_consent=True,
        missing_materials=["household-register"],
        decided_on="2026-12-01",
        working_days_used=1,
        allowed_actions=["approve", "deny"],
        history=[
            permits_pb2.HistoryEntry(
                from_state="SUBMITTED",
                to_state="ACCEPTED",
                action="accept",
                actor_sub="clerk-zw-01",
                reason="齐全",
                at=_ts(1_795_000_100),
            )
        ],
    )


def _round_trip(data: dict[str, Any], model: Any) -> None:
    assert model.model_validate(data).model_dump(mode="json") == data


def test_an_application_has_every_documented_field_and_no_other() -> None:
    full = application_dict(_full())
    _round_trip(full, ApplicationOut)
    assert set(full) == set(ApplicationOut.model_fields)
    _round_trip(application_dict(permits_pb2.Application()), ApplicationOut)


def test_a_queue_page_matches_its_model() -> None:
    page = {"applications": [application_dict(_full())], "next_cursor": None}
    _round_trip(page, ApplicationPageOut)
    body = FastJSON(page).body
    assert orjson.loads(body) == page
    assert FastJSON(page).media_type == "application/json"
