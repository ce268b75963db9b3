"""Redeployment (调配) of stationed staff, run by both parties.

``PROPOSED`` (by the county department) → the township gives its opinion: ``AGREED`` or
``OBJECTED`` → the county decides (``COUNTY_DECISION``, with an effective date, or
``WITHDRAWN``) → ``EFFECTIVE`` on that date (the person leaves the unit; personnel learns it
by event). An objection is recorded and the county may still confirm: the township advises,
the county decides.
"""

from __future__ import annotations

from datetime import date

from township_platform.errors import Conflict, InvalidArgument

TRANSITIONS: dict[tuple[str, str], str] = {
    ("PROPOSED", "agree"): "AGREED",
    ("PROPOSED", "object"): "OBJECTED",
    ("AGREED", "confirm"): "COUNTY_DECISION",
    ("OBJECTED", "confirm"): "COUNTY_DECISION",
    ("PROPOSED", "withdraw"): "WITHDRAWN",
    ("AGREED", "withdraw"): "WITHDRAWN",
    ("OBJECTED", "withdraw"): "WITHDRAWN",
    ("COUNTY_DECISION", "take_effect"): "EFFECTIVE",
}
OPINIONS = ("agree", "object")
DECISIONS = ("confirm", "withdraw")


def step(state: str, action: str) -> str:
    """The state after ``action``, or Conflict."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise Conflict(
            f"a redeployment in {state} does not allow '{action}'", type="invalid-transition"
        )
    return target


def check_choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    """``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise InvalidArgument(f"unknown {field}", field=field, rule="|".join(allowed))
    return value


def due(effective_on: date | None, today: date) -> bool:
    """True when a decided redeployment should take effect."""
    return effective_on is not None and effective_on <= today
