"""The points ledger's rules: entry states, decisions, appeals and caps per period.

Entry states: ``CLAIMED`` (by hand, waiting for its approver) or ``AUTO`` (from another
service's event) → ``APPROVED`` | ``REJECTED`` (with a reason) → ``APPEALED`` (with a
reason) → the appeal is upheld or denied. ``LATE`` marks an automatic entry whose period was
already final: it is kept for the record but never counts.

What counts towards a person's total: ``AUTO`` and ``APPROVED`` entries, and an appealed
entry while its appeal is pending if it counted before (an appealed deduction keeps
counting until the appeal is upheld).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from township_platform.errors import Conflict, InvalidArgument, PermissionDenied

STATES = ("AUTO", "CLAIMED", "APPROVED", "REJECTED", "APPEALED", "LATE")
COUNTING = frozenset({"AUTO", "APPROVED"})
PENDING = frozenset({"CLAIMED", "APPEALED"})
ACTIONS = ("approve", "reject", "appeal", "uphold_appeal", "deny_appeal")
MAX_EVIDENCE = 20


def counts(state: str, appealed_from: str = "") -> bool:
    """True when an entry in ``state`` adds to the person's total."""
    return state in COUNTING or (state == "APPEALED" and appealed_from in COUNTING)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of an action on an entry."""

    state: str
    appealed_from: str
    reason: str
    appeal_reason: str


def decide(
    *,
    state: str,
    appealed_from: str,
    action: str,
    reason: str,
    actor: str,
    person: str,
    claimed_by: str,
    actor_is_approver: bool,
) -> Decision:
    """Apply ``action`` to an entry; raises when the state or the actor does not allow it."""
    if action not in ACTIONS:
        raise InvalidArgument(
            f"unknown action {action!r}", field="action", rule="one of " + "|".join(ACTIONS)
        )
    reason = reason.strip()
    if action in ("approve", "reject", "uphold_appeal", "deny_appeal"):
        if not actor_is_approver:
            raise PermissionDenied(
                f"only the rule's approver may {action.replace('_', ' ')}",
                type="approver-required",
            )
        if action in ("approve", "reject") and actor in (person, claimed_by):
            raise PermissionDenied("nobody approves or rejects their own claim", type="own-claim")
    if action == "approve":
        _expect(state, {"CLAIMED"}, action)
        return Decision("APPROVED", "", reason, "")
    if action == "reject":
        _expect(state, {"CLAIMED"}, action)
        _need_reason(reason)
        return Decision("REJECTED", "", reason, "")
    if action == "appeal":
        _expect(state, {"REJECTED", "AUTO", "APPROVED"}, action)
        if actor != person and not actor_is_approver:
            raise PermissionDenied(
                "only the person concerned may appeal", type="appeal-not-allowed"
            )
        _need_reason(reason)
        return Decision("APPEALED", state, "", reason)
    _expect(state, {"APPEALED"}, action)
    if action == "uphold_appeal":
        # The appeal wins: a rejected claim is approved, a counted entry is struck out.
        new_state = "APPROVED" if appealed_from == "REJECTED" else "REJECTED"
        return Decision(new_state, appealed_from, reason, "")
    return Decision(appealed_from, appealed_from, reason, "")


def _expect(state: str, allowed: set[str], action: str) -> None:
    if state not in allowed:
        raise Conflict(
            f"cannot {action.replace('_', ' ')} an entry in state {state}",
            type="invalid-transition",
        )


def _need_reason(reason: str) -> None:
    if not reason:
        raise InvalidArgument("a reason is required", field="reason", rule="required")


def check_cap(cap: Decimal | None, already: Decimal, points: Decimal, rule: str) -> None:
    """Refuse a claim that would take the rule's total for the period beyond its cap."""
    if cap is None:
        return
    if abs(already + points) > abs(cap):
        raise InvalidArgument(
            f"rule {rule} allows at most {cap} points per period; "
            f"{already} already claimed or counted, {points} more would exceed it",
            type="points-cap-exceeded",
            field="points",
            rule=f"cap per period {cap}",
        )


def capped_points(cap: Decimal | None, already: Decimal, points: Decimal) -> Decimal:
    """For automatic entries: the part of ``points`` still within the cap (may be 0)."""
    if cap is None:
        return points
    room = abs(cap) - abs(already)
    if room <= 0:
        return Decimal("0")
    return points if abs(points) <= room else (room if points > 0 else -room)


def parse_points(raw: str, field: str = "points") -> Decimal:
    """A points value from text: finite, at most 2 decimals, within ±1000."""
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise InvalidArgument(f"{field} is not a number", field=field, rule="decimal") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")) or abs(value) > 1000:
        raise InvalidArgument(
            f"{field} must have at most 2 decimals and lie within ±1000",
            field=field,
            rule="decimal(8,2) within -1000..1000",
        )
    return value.quantize(Decimal("0.01"))
