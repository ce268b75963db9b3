"""Complaint intake rules and the Open311 service definitions."""

from __future__ import annotations

import datetime as dt

import pytest

from township_enforcement.domain import complaints as intake
from township_platform.calendar import WorkCalendar
from township_platform.errors import Conflict, InvalidArgument


def test_service_definitions_use_only_spec_datatypes() -> None:
    codes = [t.code for t in intake.COMPLAINT_TYPES]
    assert len(codes) == len(set(codes))
    for kind in intake.COMPLAINT_TYPES:
        for attr in kind.attributes:
            assert attr.datatype in intake.DATATYPES
            assert bool(attr.values) == attr.datatype.endswith("valuelist")


def test_attributes_are_validated_against_the_definition() -> None:
    kind = intake.complaint_type("pollution")
    out = intake.validate_attributes(kind, {"ONGOING": "yes", "KIND": "smoke, noise"})
    assert out == {"ONGOING": "yes", "KIND": "smoke,noise"}
    with pytest.raises(InvalidArgument) as missing:
        intake.validate_attributes(kind, {"KIND": "smoke"})
    assert missing.value.field == "attribute[ONGOING]"
    with pytest.raises(InvalidArgument):
        intake.validate_attributes(kind, {"ONGOING": "maybe", "KIND": "smoke"})
    with pytest.raises(InvalidArgument):
        intake.validate_attributes(kind, {"ONGOING": "yes", "KIND": "smoke,fire"})
    with pytest.raises(InvalidArgument):
        intake.validate_attributes(kind, {"ONGOING": "yes", "KIND": "smoke", "X": "1"})
    with pytest.raises(InvalidArgument):
        intake.validate_attributes(
            kind, {"ONGOING": "yes", "KIND": "smoke", "OCCURRED_AT": "yesterday"}
        )


def test_location_is_lat_long_or_an_address() -> None:
    intake.check_location("32.8", "109.4", "", "")
    intake.check_location("", "", "赵湾镇街子社区", "")
    with pytest.raises(InvalidArgument):
        intake.check_location("", "", "", "")
    with pytest.raises(InvalidArgument):
        intake.check_location("32.8", "", "", "")
    with pytest.raises(InvalidArgument):
        intake.check_location("95", "109", "", "")


def test_acceptance_within_seven_working_days() -> None:
    # Received Friday 25 September 2026: the National Day holiday runs 1–7 October.
    due = intake.acceptance_due(WorkCalendar(), dt.date(2026, 9, 25))
    assert due > dt.date(2026, 10, 6)


def test_real_name_and_public_status() -> None:
    assert intake.is_real_name("张", "", "13900000000", "")
    assert not intake.is_real_name("", "", "13900000000", "")
    assert intake.public_status("REJECTED", "不属于受理范围", None)[0] == "closed"
    assert intake.public_status("RECEIVED", "", None)[0] == "open"
    assert intake.public_status("ACCEPTED", "", "SERVED")[0] == "open"
    assert intake.public_status("ACCEPTED", "", "CLOSED")[0] == "closed"
    with pytest.raises(Conflict):
        intake.check_decidable("ACCEPTED")
