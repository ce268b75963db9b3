"""Ratings and the rectification state machine."""

from __future__ import annotations

import pytest

from township_permits.domain.ratings import (
    RECTIFICATION_TRANSITIONS,
    RatingKind,
    RectificationState,
    check_level,
    opens_rectification,
    rating_kind,
    rectification_step,
)
from township_platform.errors import Conflict, InvalidArgument, PermissionDenied

CLERK = ("clerk",)
ADMIN = ("township_admin",)


@pytest.mark.parametrize(("level", "bad"), [(1, True), (2, True), (3, False), (5, False)])
def test_levels_one_and_two_open_a_rectification(level: int, bad: bool) -> None:
    assert opens_rectification(level) is bad


@pytest.mark.parametrize("level", [0, 6, -1])
def test_levels_are_one_to_five(level: int) -> None:
    with pytest.raises(InvalidArgument) as e:
        check_level(level)
    assert e.value.field == "level"


def test_one_rating_then_one_follow_up_after_the_rectification_closes() -> None:
    assert rating_kind(False, False, None) is RatingKind.FIRST
    with pytest.raises(Conflict):
        rating_kind(True, False, None)  # a good rating: no follow-up
    with pytest.raises(Conflict):
        rating_kind(True, False, "OPEN")
    assert rating_kind(True, False, "CLOSED") is RatingKind.FOLLOW_UP
    with pytest.raises(Conflict):
        rating_kind(True, True, "CLOSED")


def test_return_visit_then_fix_closes_with_its_outcome() -> None:
    visited = rectification_step("OPEN", "return_visit", CLERK, "电话回访")
    assert visited.state is RectificationState.VISITED
    closed = rectification_step("VISITED", "fix", CLERK, "已整改")
    assert (closed.state, closed.outcome) == (RectificationState.CLOSED, "fixed")
    assert rectification_step("VISITED", "explain", CLERK, "已说明").outcome == "explained"


def test_appeal_is_decided_by_an_admin_not_the_appellant() -> None:
    assert rectification_step("OPEN", "appeal", CLERK, "理由").state is RectificationState.APPEALED
    with pytest.raises(PermissionDenied):
        rectification_step("APPEALED", "uphold_appeal", CLERK, "x")
    upheld = rectification_step("APPEALED", "uphold_appeal", ADMIN, "成立")
    assert (upheld.state, upheld.outcome) == (RectificationState.CLOSED, "appeal_upheld")
    rejected = rectification_step("APPEALED", "reject_appeal", ("county_admin",), "不成立")
    assert rejected.state is RectificationState.VISITED


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("OPEN", "fix"),
        ("CLOSED", "return_visit"),
        ("CLOSED", "appeal"),
        ("VISITED", "return_visit"),
    ],
)
def test_steps_outside_the_table_are_conflicts(state: str, action: str) -> None:
    assert (RectificationState(state), action) not in RECTIFICATION_TRANSITIONS
    with pytest.raises(Conflict):
        rectification_step(state, action, ADMIN + CLERK, "note")


def test_every_step_needs_a_note_and_a_known_action() -> None:
    with pytest.raises(InvalidArgument) as e:
        rectification_step("OPEN", "return_visit", CLERK, "  ")
    assert e.value.field == "note"
    with pytest.raises(InvalidArgument) as e:
        rectification_step("OPEN", "shrug", CLERK, "x")
    assert e.value.field == "action"
