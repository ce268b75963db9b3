"""The application (办件) state machine: unified intake, then categorised approval.

``SUBMITTED → (CORRECTION_REQUESTED ⇄ SUBMITTED) → ACCEPTED | NOT_ACCEPTED``;
``ACCEPTED → IN_REVIEW (⇄ SUSPENDED) → APPROVED | DENIED``; ``APPROVED → ISSUED → CLOSED``.

NOT_ACCEPTED (不予受理) and DENIED (不予许可) are final: the written refusal is served with
the decision itself, so the outcome stays readable from the state alone (public status,
bundle status, points for closing on time). ISSUED means the licence or certificate was
handed over (送达); CLOSED means the file is archived (办结归档).

Every step is one row of :data:`TRANSITIONS`; :func:`transition` checks, in this order, the
state (Conflict), the actor's role and department (PermissionDenied) and the reason
(InvalidArgument).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from township_platform.errors import Conflict, InvalidArgument, PermissionDenied


class ApplicationState(StrEnum):
    """Where an application stands."""

    SUBMITTED = "SUBMITTED"
    CORRECTION_REQUESTED = "CORRECTION_REQUESTED"
    ACCEPTED = "ACCEPTED"
    NOT_ACCEPTED = "NOT_ACCEPTED"
    IN_REVIEW = "IN_REVIEW"
    SUSPENDED = "SUSPENDED"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    ISSUED = "ISSUED"
    CLOSED = "CLOSED"


class Action(StrEnum):
    """What staff do to an application."""

    REQUEST_CORRECTION = "request_correction"
    RESUBMIT = "resubmit"
    ACCEPT = "accept"
    NOT_ACCEPT = "not_accept"
    START_REVIEW = "start_review"
    SUSPEND = "suspend"
    RESUME = "resume"
    APPROVE = "approve"
    DENY = "deny"
    ISSUE = "issue"
    CLOSE = "close"


_S = ApplicationState
_A = Action


def _state(value: ApplicationState | str) -> ApplicationState:
    try:
        return ApplicationState(value)
    except ValueError:
        raise InvalidArgument(
            f"unknown application state {value!r}", field="state", rule="known state"
        ) from None


def _action(value: Action | str) -> Action:
    try:
        return Action(value)
    except ValueError:
        raise InvalidArgument(
            f"unknown action {value!r}", field="action", rule="known action"
        ) from None


TRANSITIONS: Mapping[tuple[ApplicationState, Action], ApplicationState] = {
    (_S.SUBMITTED, _A.REQUEST_CORRECTION): _S.CORRECTION_REQUESTED,
    (_S.SUBMITTED, _A.ACCEPT): _S.ACCEPTED,
    (_S.SUBMITTED, _A.NOT_ACCEPT): _S.NOT_ACCEPTED,
    (_S.CORRECTION_REQUESTED, _A.RESUBMIT): _S.SUBMITTED,
    (_S.ACCEPTED, _A.START_REVIEW): _S.IN_REVIEW,
    (_S.IN_REVIEW, _A.SUSPEND): _S.SUSPENDED,
    (_S.SUSPENDED, _A.RESUME): _S.IN_REVIEW,
    (_S.IN_REVIEW, _A.APPROVE): _S.APPROVED,
    (_S.IN_REVIEW, _A.DENY): _S.DENIED,
    (_S.APPROVED, _A.ISSUE): _S.ISSUED,
    (_S.ISSUED, _A.CLOSE): _S.CLOSED,
}
"""Every allowed step: (state, action) → next state. Anything else is refused."""


@dataclass(frozen=True, slots=True)
class Permission:
    """Who may take an action: township roles, and approver roles bound to the item's department."""

    roles: frozenset[str] = frozenset()
    department_roles: frozenset[str] = frozenset()

    @property
    def all_roles(self) -> frozenset[str]:
        """Every role that can take the action under some condition."""
        return self.roles | self.department_roles


_CLERK = Permission(roles=frozenset({"clerk"}))
_APPROVER = Permission(department_roles=frozenset({"approver"}))

PERMISSIONS: Mapping[Action, Permission] = {
    _A.REQUEST_CORRECTION: _CLERK,
    _A.RESUBMIT: Permission(roles=frozenset({"clerk", "agent"})),
    # "system" accepts when the correction window lapses: the application counts as accepted.
    _A.ACCEPT: Permission(roles=frozenset({"clerk", "system"})),
    _A.NOT_ACCEPT: _CLERK,
    _A.START_REVIEW: _APPROVER,
    _A.SUSPEND: _APPROVER,
    _A.RESUME: _APPROVER,
    _A.APPROVE: _APPROVER,
    _A.DENY: _APPROVER,
    _A.ISSUE: Permission(roles=frozenset({"clerk"}), department_roles=frozenset({"approver"})),
    _A.CLOSE: _CLERK,
}
"""Roles per action; ``department_roles`` count only in the item's competent department."""

REASON_REQUIRED: frozenset[Action] = frozenset(
    {_A.REQUEST_CORRECTION, _A.NOT_ACCEPT, _A.SUSPEND, _A.DENY}
)
"""Actions that must state a reason (it is shown to the applicant)."""

CLOCK_PAUSED_STATES: frozenset[ApplicationState] = frozenset(
    {_S.CORRECTION_REQUESTED, _S.SUSPENDED}
)
"""States in which the time limit stands still (补正, 中止)."""

DECIDED_STATES: frozenset[ApplicationState] = frozenset(
    {_S.NOT_ACCEPTED, _S.APPROVED, _S.DENIED, _S.ISSUED, _S.CLOSED}
)
"""States reached once the decision is made: the decision clock has stopped."""

FINAL_STATES: frozenset[ApplicationState] = frozenset(
    state for state in ApplicationState if not any(s == state for s, _ in TRANSITIONS)
)
"""States with no way out."""


class ClockEffect(StrEnum):
    """What a step does to the application's time limit."""

    NONE = "none"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


class Actor(Protocol):
    """Anyone acting on an application; :class:`township_platform.principal.Principal` fits."""

    @property
    def roles(self) -> tuple[str, ...]: ...

    @property
    def department(self) -> str | None: ...


def authorise(
    action: Action | str,
    roles: Sequence[str],
    department: str | None,
    item_department: str,
) -> None:
    """Raise PermissionDenied unless these roles, in this department, may take ``action``."""
    action = _action(action)
    permission = PERMISSIONS[action]
    held = set(roles)
    if held & permission.roles:
        return
    if held & permission.department_roles:
        if department is not None and department == item_department:
            return
        raise PermissionDenied(
            f"{action.value} is reserved to the item's competent department "
            f"{item_department!r}; the caller belongs to {department!r}",
            type="competent-department-required",
        )
    needed = ", ".join(sorted(permission.all_roles))
    raise PermissionDenied(f"{action.value} needs one of the roles: {needed}", type="role-required")


def may(
    action: Action | str,
    roles: Sequence[str],
    department: str | None,
    item_department: str,
) -> bool:
    """True when :func:`authorise` would let the action through."""
    try:
        authorise(action, roles, department, item_department)
    except PermissionDenied:
        return False
    return True


def next_state(state: ApplicationState | str, action: Action | str) -> ApplicationState:
    """The state ``action`` leads to from ``state``; Conflict when the table has no such step."""
    state, action = _state(state), _action(action)
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise Conflict(
            f"cannot {action.value} an application that is {state.value}",
            type="invalid-transition",
        )
    return target


def transition(
    state: ApplicationState | str,
    action: Action | str,
    actor: Actor,
    *,
    item_department: str,
    reason: str | None = None,
) -> ApplicationState:
    """The state after ``actor`` takes ``action``; Conflict, PermissionDenied or InvalidArgument."""
    target = next_state(state, action)
    action = _action(action)
    authorise(action, actor.roles, actor.department, item_department)
    if action in REASON_REQUIRED and not (reason or "").strip():
        raise InvalidArgument(f"{action.value} needs a reason", field="reason", rule="required")
    return target


def allowed_actions(
    state: ApplicationState | str,
    roles: Sequence[str],
    department: str | None,
    item_department: str,
) -> tuple[Action, ...]:
    """The actions these roles may take now, in table order (for buttons and menus)."""
    state = _state(state)
    return tuple(
        action
        for (source, action) in TRANSITIONS
        if source == state and may(action, roles, department, item_department)
    )


def pauses_clock(state: ApplicationState | str) -> bool:
    """True when the time limit stands still in ``state`` (correction or suspension)."""
    return _state(state) in CLOCK_PAUSED_STATES


def clock_effect(before: ApplicationState | str, after: ApplicationState | str) -> ClockEffect:
    """What moving from ``before`` to ``after`` does to the time limit."""
    before, after = _state(before), _state(after)
    if after in DECIDED_STATES and before not in DECIDED_STATES:
        return ClockEffect.STOP
    if after in CLOCK_PAUSED_STATES and before not in CLOCK_PAUSED_STATES:
        return ClockEffect.PAUSE
    if before in CLOCK_PAUSED_STATES and after not in CLOCK_PAUSED_STATES:
        return ClockEffect.RESUME
    return ClockEffect.NONE


class BundleStatus(StrEnum):
    """The public status of a bundle (一件事一次办) combined from its applications."""

    CORRECTION_REQUESTED = "correction_requested"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REFUSED = "refused"
    PARTIALLY_COMPLETED = "partially_completed"


COMPLETED_STATES: frozenset[ApplicationState] = frozenset({_S.ISSUED, _S.CLOSED})
REFUSED_STATES: frozenset[ApplicationState] = frozenset({_S.NOT_ACCEPTED, _S.DENIED})


def bundle_status(parts: Iterable[ApplicationState | str]) -> BundleStatus:
    """Combine the parts' states into one public status.

    The first rule that applies wins:

    1. any part waits for correction → ``correction_requested`` (the applicant must act);
    2. any part is not finished (submitted, accepted, in review, suspended, approved but not
       yet issued) → ``in_progress``;
    3. every part issued or closed → ``completed``;
    4. every part not accepted or denied → ``refused``;
    5. otherwise, a mix of completed and refused parts → ``partially_completed``.
    """
    states = [_state(p) for p in parts]
    if not states:
        raise InvalidArgument(
            "a bundle has at least one application", field="parts", rule="at least one part"
        )
    if any(s is _S.CORRECTION_REQUESTED for s in states):
        return BundleStatus.CORRECTION_REQUESTED
    if any(s not in COMPLETED_STATES | REFUSED_STATES for s in states):
        return BundleStatus.IN_PROGRESS
    if all(s in COMPLETED_STATES for s in states):
        return BundleStatus.COMPLETED
    if all(s in REFUSED_STATES for s in states):
        return BundleStatus.REFUSED
    return BundleStatus.PARTIALLY_COMPLETED
