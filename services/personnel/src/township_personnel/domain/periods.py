"""The appraisal period (考核周期) state machine.

``OPEN → SCORING → PUBLIC_NOTICE (公示) → APPEALS → FINAL → PAID``, one step at a time.
Before ``FINAL`` entries may be claimed, decided and appealed; from ``FINAL`` on, the
period's entries are locked, and a distribution may be computed; ``PAID`` closes it.
"""

from __future__ import annotations

import itertools

from township_platform.errors import Conflict, InvalidArgument

STATES = ("OPEN", "SCORING", "PUBLIC_NOTICE", "APPEALS", "FINAL", "PAID")
TRANSITIONS: dict[str, str] = dict(itertools.pairwise(STATES))
LOCKED = frozenset({"FINAL", "PAID"})
CLAIMS_OPEN = frozenset({"OPEN", "SCORING"})


def advance(current: str, to: str) -> str:
    """The next state if ``to`` is the one step allowed from ``current``."""
    if to not in STATES:
        raise InvalidArgument(
            f"unknown period state {to!r}", field="to", rule="one of " + "|".join(STATES)
        )
    if TRANSITIONS.get(current) != to:
        raise Conflict(
            f"a period in {current} cannot move to {to}"
            + (f" (next is {TRANSITIONS[current]})" if current in TRANSITIONS else ""),
            type="invalid-transition",
        )
    return to


def is_locked(state: str | None) -> bool:
    """True when the period's entries may no longer change."""
    return state in LOCKED


def ensure_unlocked(state: str | None, year: int) -> None:
    """Refuse any change to the entries of a final (or paid) period."""
    if is_locked(state):
        raise Conflict(
            f"the appraisal period {year} is {state}: its entries are locked",
            type="period-locked",
        )


def ensure_claims_open(state: str | None, year: int) -> None:
    """Claims by hand are taken while the period is open or being scored."""
    ensure_unlocked(state, year)
    if state is not None and state not in CLAIMS_OPEN:
        raise Conflict(
            f"the appraisal period {year} is in {state}: no new claims", type="claims-closed"
        )
