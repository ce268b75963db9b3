"""The application state machine: the whole (state, action) matrix, roles, reasons, bundles."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from township_permits.domain.applications import (
    CLOCK_PAUSED_STATES,
    FINAL_STATES,
    PERMISSIONS,
    REASON_REQUIRED,
    TRANSITIONS,
    Action,
    ApplicationState,
    BundleStatus,
    ClockEffect,
    allowed_actions,
    authorise,
    bundle_status,
    clock_effect,
    may,
    next_state,
    pauses_clock,
    transition,
)
from township_platform.errors import Conflict, InvalidArgument, PermissionDenied
from township_platform.principal import ROLES, Principal

S = ApplicationState
A = Action
DEPT = "county-civil-affairs"
OTHER_DEPT = "county-health"

CLERK = Principal(sub="clerk-1", roles=("clerk",), township="t1")
AGENT = Principal(sub="agent-1", roles=("agent",), township="t1")
APPROVER = Principal(sub="approver-1", roles=("approver",), department=DEPT)
OTHER_APPROVER = Principal(sub="approver-2", roles=("approver",), department=OTHER_DEPT)
NOBODY = Principal(sub="auditor-1", roles=("auditor",))

EXPECTED_TABLE = {
    (S.SUBMITTED, A.REQUEST_CORRECTION): S.CORRECTION_REQUESTED,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.NOT_ACCEPT): S.NOT_ACCEPTED,
    (S.CORRECTION_REQUESTED, A.RESUBMIT): S.SUBMITTED,
    (S.ACCEPTED, A.START_REVIEW): S.IN_REVIEW,
    (S.IN_REVIEW, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.RESUME): S.IN_REVIEW,
    (S.IN_REVIEW, A.APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.DENY): S.DENIED,
    (S.APPROVED, A.ISSUE): S.ISSUED,
    (S.ISSUED, A.CLOSE): S.CLOSED,
}

APPROVER_ACTIONS = {A.START_REVIEW, A.SUSPEND, A.RESUME, A.APPROVE, A.DENY}
ALL_PAIRS = list(itertools.product(ApplicationState, Action))
FORBIDDEN_PAIRS = [pair for pair in ALL_PAIRS if pair not in EXPECTED_TABLE]


def actor_for(action: Action) -> Principal:
    """Someone entitled to take ``action`` on an item of DEPT."""
    return APPROVER if action in APPROVER_ACTIONS else CLERK


def test_the_transition_table_is_exactly_the_designed_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED_TABLE


def test_the_matrix_covers_every_pair() -> None:
    assert len(ALL_PAIRS) == len(ApplicationState) * len(Action) == 110
    assert len(FORBIDDEN_PAIRS) == 110 - 11


@pytest.mark.parametrize(("state", "action"), list(EXPECTED_TABLE), ids=str)
def test_every_allowed_transition(state: ApplicationState, action: Action) -> None:
    reason = "材料不全" if action in REASON_REQUIRED else None
    new = transition(state, action, actor_for(action), item_department=DEPT, reason=reason)
    assert new is EXPECTED_TABLE[state, action]
    assert next_state(state, action) is new


@pytest.mark.parametrize(("state", "action"), FORBIDDEN_PAIRS, ids=str)
def test_every_forbidden_pair_is_refused(state: ApplicationState, action: Action) -> None:
    with pytest.raises(Conflict) as caught:
        transition(state, action, actor_for(action), item_department=DEPT, reason="because")
    error = caught.value
    assert error.type == "invalid-transition"
    assert state.value in error.message
    assert action.value in error.message


@pytest.mark.parametrize(("state", "action"), FORBIDDEN_PAIRS, ids=str)
def test_a_forbidden_pair_is_a_conflict_whoever_asks(
    state: ApplicationState, action: Action
) -> None:
    # The state is checked first: the answer does not depend on the caller.
    with pytest.raises(Conflict):
        transition(state, action, NOBODY, item_department=DEPT)


def test_states_and_actions_may_be_given_as_text() -> None:
    assert transition("SUBMITTED", "accept", CLERK, item_department=DEPT) is S.ACCEPTED


def test_unknown_state_or_action_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as caught:
        transition("SUBMITTED", "approve_quickly", CLERK, item_department=DEPT)
    assert caught.value.field == "action"
    with pytest.raises(InvalidArgument) as caught:
        transition("LOST", "accept", CLERK, item_department=DEPT)
    assert caught.value.field == "state"


def test_every_state_is_reachable_from_submitted() -> None:
    seen = {S.SUBMITTED}
    frontier = [S.SUBMITTED]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source == state and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(ApplicationState)


def test_final_states() -> None:
    assert FINAL_STATES == {S.NOT_ACCEPTED, S.DENIED, S.CLOSED}


# --- roles -------------------------------------------------------------------------------

# Who may take each action on an item of DEPT (approvers of DEPT only).
EXPECTED_ROLES = {
    A.REQUEST_CORRECTION: {"clerk"},
    A.RESUBMIT: {"clerk", "agent"},
    A.ACCEPT: {"clerk", "system"},
    A.NOT_ACCEPT: {"clerk"},
    A.START_REVIEW: {"approver"},
    A.SUSPEND: {"approver"},
    A.RESUME: {"approver"},
    A.APPROVE: {"approver"},
    A.DENY: {"approver"},
    A.ISSUE: {"clerk", "approver"},
    A.CLOSE: {"clerk"},
}


def test_every_action_has_a_permission() -> None:
    assert set(PERMISSIONS) == set(Action)
    assert {a: PERMISSIONS[a].all_roles for a in Action} == EXPECTED_ROLES


@pytest.mark.parametrize(("action", "role"), list(itertools.product(Action, sorted(ROLES))))
def test_role_matrix(action: Action, role: str) -> None:
    allowed = role in EXPECTED_ROLES[action]
    assert may(action, (role,), DEPT, DEPT) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied) as caught:
            authorise(action, (role,), DEPT, DEPT)
        assert caught.value.type == "role-required"
        assert action.value in caught.value.message


@pytest.mark.parametrize("action", sorted(APPROVER_ACTIONS | {A.ISSUE}))
def test_approvers_act_only_for_their_own_department(action: Action) -> None:
    with pytest.raises(PermissionDenied) as caught:
        authorise(action, ("approver",), OTHER_DEPT, DEPT)
    assert caught.value.type == "competent-department-required"
    assert DEPT in caught.value.message
    assert not may(action, ("approver",), None, DEPT)


def test_a_clerk_issues_whatever_the_department() -> None:
    assert may(A.ISSUE, ("clerk",), None, DEPT)


def test_any_matching_role_is_enough() -> None:
    assert may(A.APPROVE, ("clerk", "approver"), DEPT, DEPT)
    assert may(A.ACCEPT, ("approver", "clerk"), OTHER_DEPT, DEPT)


def test_transition_checks_the_actor() -> None:
    with pytest.raises(PermissionDenied):
        transition(S.IN_REVIEW, A.APPROVE, CLERK, item_department=DEPT)
    with pytest.raises(PermissionDenied):
        transition(S.IN_REVIEW, A.APPROVE, OTHER_APPROVER, item_department=DEPT)
    assert transition(S.IN_REVIEW, A.APPROVE, APPROVER, item_department=DEPT) is S.APPROVED
    assert transition(S.CORRECTION_REQUESTED, A.RESUBMIT, AGENT, item_department=DEPT) is (
        S.SUBMITTED
    )


def test_the_role_is_checked_before_the_reason() -> None:
    with pytest.raises(PermissionDenied):
        transition(S.IN_REVIEW, A.DENY, CLERK, item_department=DEPT, reason=None)


def test_allowed_actions() -> None:
    assert allowed_actions(S.SUBMITTED, CLERK.roles, None, DEPT) == (
        A.REQUEST_CORRECTION,
        A.ACCEPT,
        A.NOT_ACCEPT,
    )
    assert allowed_actions(S.IN_REVIEW, APPROVER.roles, DEPT, DEPT) == (
        A.SUSPEND,
        A.APPROVE,
        A.DENY,
    )
    assert allowed_actions(S.IN_REVIEW, APPROVER.roles, OTHER_DEPT, DEPT) == ()
    assert allowed_actions(S.CLOSED, ("clerk", "approver"), DEPT, DEPT) == ()


# --- reasons -----------------------------------------------------------------------------


def test_reason_required_actions() -> None:
    assert {A.REQUEST_CORRECTION, A.NOT_ACCEPT, A.SUSPEND, A.DENY} == REASON_REQUIRED


@pytest.mark.parametrize("action", sorted(REASON_REQUIRED))
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_missing_reason_is_refused(action: Action, reason: str | None) -> None:
    state = next(s for (s, a) in EXPECTED_TABLE if a == action)
    with pytest.raises(InvalidArgument) as caught:
        transition(state, action, actor_for(action), item_department=DEPT, reason=reason)
    assert caught.value.field == "reason"
    assert caught.value.rule == "required"


@pytest.mark.parametrize(
    ("state", "action"), [p for p in EXPECTED_TABLE if p[1] not in REASON_REQUIRED], ids=str
)
def test_other_actions_need_no_reason(state: ApplicationState, action: Action) -> None:
    assert (
        transition(state, action, actor_for(action), item_department=DEPT)
        is (EXPECTED_TABLE[state, action])
    )


# --- the clock ---------------------------------------------------------------------------


def test_clock_paused_states() -> None:
    assert {S.CORRECTION_REQUESTED, S.SUSPENDED} == CLOCK_PAUSED_STATES
    assert pauses_clock("SUSPENDED")
    assert not pauses_clock(S.IN_REVIEW)


EXPECTED_CLOCK = {
    (S.SUBMITTED, A.REQUEST_CORRECTION): ClockEffect.PAUSE,
    (S.SUBMITTED, A.ACCEPT): ClockEffect.NONE,
    (S.SUBMITTED, A.NOT_ACCEPT): ClockEffect.STOP,
    (S.CORRECTION_REQUESTED, A.RESUBMIT): ClockEffect.RESUME,
    (S.ACCEPTED, A.START_REVIEW): ClockEffect.NONE,
    (S.IN_REVIEW, A.SUSPEND): ClockEffect.PAUSE,
    (S.SUSPENDED, A.RESUME): ClockEffect.RESUME,
    (S.IN_REVIEW, A.APPROVE): ClockEffect.STOP,
    (S.IN_REVIEW, A.DENY): ClockEffect.STOP,
    (S.APPROVED, A.ISSUE): ClockEffect.NONE,
    (S.ISSUED, A.CLOSE): ClockEffect.NONE,
}


@pytest.mark.parametrize(("state", "action"), list(EXPECTED_TABLE), ids=str)
def test_clock_effect_of_every_transition(state: ApplicationState, action: Action) -> None:
    assert clock_effect(state, TRANSITIONS[state, action]) is EXPECTED_CLOCK[state, action]


# --- bundles -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "status"),
    [
        ([S.ISSUED], BundleStatus.COMPLETED),
        ([S.ISSUED, S.CLOSED], BundleStatus.COMPLETED),
        ([S.NOT_ACCEPTED, S.DENIED], BundleStatus.REFUSED),
        ([S.DENIED], BundleStatus.REFUSED),
        ([S.CLOSED, S.DENIED], BundleStatus.PARTIALLY_COMPLETED),
        ([S.ISSUED, S.NOT_ACCEPTED, S.CLOSED], BundleStatus.PARTIALLY_COMPLETED),
        ([S.SUBMITTED, S.SUBMITTED], BundleStatus.IN_PROGRESS),
        ([S.CLOSED, S.IN_REVIEW], BundleStatus.IN_PROGRESS),
        ([S.APPROVED, S.ISSUED], BundleStatus.IN_PROGRESS),  # approved but not yet issued
        ([S.SUSPENDED, S.DENIED], BundleStatus.IN_PROGRESS),
        ([S.CORRECTION_REQUESTED, S.ISSUED], BundleStatus.CORRECTION_REQUESTED),
        ([S.IN_REVIEW, S.CORRECTION_REQUESTED], BundleStatus.CORRECTION_REQUESTED),
        (["ISSUED", "CLOSED"], BundleStatus.COMPLETED),
    ],
)
def test_bundle_status(parts: list[ApplicationState], status: BundleStatus) -> None:
    assert bundle_status(parts) is status


def test_an_empty_bundle_has_no_status() -> None:
    with pytest.raises(InvalidArgument) as caught:
        bundle_status([])
    assert caught.value.field == "parts"


@given(st.lists(st.sampled_from(ApplicationState), min_size=1, max_size=6))
def test_bundle_status_rules(parts: list[ApplicationState]) -> None:
    status = bundle_status(parts)
    done = {S.ISSUED, S.CLOSED}
    refused = {S.NOT_ACCEPTED, S.DENIED}
    if S.CORRECTION_REQUESTED in parts:
        assert status is BundleStatus.CORRECTION_REQUESTED
    elif not set(parts) <= done | refused:
        assert status is BundleStatus.IN_PROGRESS
    elif set(parts) <= done:
        assert status is BundleStatus.COMPLETED
    elif set(parts) <= refused:
        assert status is BundleStatus.REFUSED
    else:
        assert status is BundleStatus.PARTIALLY_COMPLETED
    # The order of the parts never matters.
    assert bundle_status(reversed(parts)) is status
