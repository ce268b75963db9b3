"""Ratings (好差评) and the rectification (整改) a bad rating opens.

A rating has 5 levels (1 very bad … 5 very good) and is given once per intake (one receipt:
a single application or a whole bundle), by the public with the receipt code or at the
window's rating device. Levels 1–2 are bad: they open a rectification, due within a
configurable number of working days (15 by default).

Rectification: ``OPEN → VISITED`` (return visit, 回访) ``→ CLOSED`` (fixed 整改到位, or
explained 解释说明); the responsible unit may instead appeal (申诉):
``OPEN | VISITED → APPEALED → CLOSED`` (appeal upheld: the rating is set aside) or back to
``VISITED`` (appeal rejected: the work goes on). After a rectification closes the applicant
may give one follow-up rating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from township_platform.errors import Conflict, InvalidArgument, PermissionDenied

LEVELS = range(1, 6)
BAD_LEVELS = frozenset({1, 2})
DEFAULT_RECTIFICATION_DAYS = 15


def check_level(level: int) -> int:
    """The level, if it is 1 to 5."""
    if level not in LEVELS:
        raise InvalidArgument(
            f"a rating level is 1 to 5, got {level}", field="level", rule="between 1 and 5"
        )
    return level


def opens_rectification(level: int) -> bool:
    """True for a bad rating (levels 1–2)."""
    return check_level(level) in BAD_LEVELS


class RatingKind(StrEnum):
    """Whether a rating is the intake's first one or the follow-up after a rectification."""

    FIRST = "first"
    FOLLOW_UP = "follow_up"


def rating_kind(
    has_first: bool, has_follow_up: bool, rectification_state: str | None
) -> RatingKind:
    """Which rating a new one would be; Conflict when the intake may not be rated now."""
    if not has_first:
        return RatingKind.FIRST
    if has_follow_up:
        raise Conflict("this intake has already been rated", type="already-rated")
    if rectification_state == RectificationState.CLOSED:
        return RatingKind.FOLLOW_UP
    raise Conflict(
        "this intake has already been rated; a follow-up rating opens once its "
        "rectification is closed",
        type="already-rated",
    )


class RectificationState(StrEnum):
    """Where a rectification stands."""

    OPEN = "OPEN"
    VISITED = "VISITED"
    APPEALED = "APPEALED"
    CLOSED = "CLOSED"


class RectificationAction(StrEnum):
    """What the responsible unit (or the appeal reviewer) does."""

    RETURN_VISIT = "return_visit"
    FIX = "fix"
    EXPLAIN = "explain"
    APPEAL = "appeal"
    UPHOLD_APPEAL = "uphold_appeal"
    REJECT_APPEAL = "reject_appeal"


_R = RectificationState
_RA = RectificationAction

RECTIFICATION_TRANSITIONS: Mapping[
    tuple[RectificationState, RectificationAction], RectificationState
] = {
    (_R.OPEN, _RA.RETURN_VISIT): _R.VISITED,
    (_R.VISITED, _RA.FIX): _R.CLOSED,
    (_R.VISITED, _RA.EXPLAIN): _R.CLOSED,
    (_R.OPEN, _RA.APPEAL): _R.APPEALED,
    (_R.VISITED, _RA.APPEAL): _R.APPEALED,
    (_R.APPEALED, _RA.UPHOLD_APPEAL): _R.CLOSED,
    (_R.APPEALED, _RA.REJECT_APPEAL): _R.VISITED,
}
"""Every allowed step of a rectification."""

_STAFF = frozenset({"clerk", "township_admin"})
_REVIEWERS = frozenset({"township_admin", "county_admin"})

RECTIFICATION_ROLES: Mapping[RectificationAction, frozenset[str]] = {
    _RA.RETURN_VISIT: _STAFF,
    _RA.FIX: _STAFF,
    _RA.EXPLAIN: _STAFF,
    _RA.APPEAL: _STAFF,
    # The appeal is decided by someone above the hall: the town's admin or the county.
    _RA.UPHOLD_APPEAL: _REVIEWERS,
    _RA.REJECT_APPEAL: _REVIEWERS,
}

OUTCOMES: Mapping[RectificationAction, str] = {
    _RA.FIX: "fixed",
    _RA.EXPLAIN: "explained",
    _RA.UPHOLD_APPEAL: "appeal_upheld",
}
"""The outcome a closing action records."""


@dataclass(frozen=True, slots=True)
class RectificationStep:
    """The result of one action: next state and the outcome when it closes."""

    state: RectificationState
    outcome: str


def rectification_step(
    state: str, action: str, roles: tuple[str, ...], note: str
) -> RectificationStep:
    """Check and take one step: Conflict (state), PermissionDenied (role), InvalidArgument."""
    try:
        act = RectificationAction(action)
    except ValueError:
        known = ", ".join(a.value for a in RectificationAction)
        raise InvalidArgument(
            f"unknown rectification action {action!r}", field="action", rule=f"one of {known}"
        ) from None
    current = RectificationState(state)
    target = RECTIFICATION_TRANSITIONS.get((current, act))
    if target is None:
        raise Conflict(
            f"cannot {act.value} a rectification that is {current.value}",
            type="invalid-transition",
        )
    allowed = RECTIFICATION_ROLES[act]
    if not set(roles) & allowed:
        raise PermissionDenied(
            f"{act.value} needs one of the roles: {', '.join(sorted(allowed))}",
            type="role-required",
        )
    if not note.strip():
        raise InvalidArgument(f"{act.value} needs a note", field="note", rule="required")
    return RectificationStep(target, OUTCOMES.get(act, ""))
