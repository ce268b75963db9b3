"""Unified intake (综合受理): which applications one intake opens, and who may open them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from township_platform.errors import InvalidArgument, PermissionDenied
from township_platform.principal import Principal

CHANNELS = ("window", "village_room", "online", "agent")
_RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class IntakeRequest:
    """What the clerk (or agent) asks for at intake."""

    bundle: str
    item_code: str
    channel: str
    village: str
    applicant_consent: bool


def check_intake_role(principal: Principal, request: IntakeRequest) -> None:
    """The window takes intakes from clerks; the agent channel only from agent cadres."""
    if request.channel == "agent":
        principal.require_role("agent")
        if not request.applicant_consent:
            raise InvalidArgument(
                "the agent channel needs the applicant's recorded consent",
                field="applicant_consent",
                rule="required for the agent channel",
            )
    else:
        principal.require_role("clerk", "agent")


def items_to_open(
    request: IntakeRequest,
    bundle_items: Sequence[str] | None,
    delegated: Mapping[str, str],
    principal_village: str | None,
) -> list[str]:
    """Item codes this intake opens, after checking delegation to the town (and village).

    ``delegated`` maps item code → delegation level (``township`` or ``village``) for the
    caller's township. A village-level user (or the village-room channel) may only take items
    delegated down to village service rooms.
    """
    if bool(request.bundle) == bool(request.item_code):
        raise InvalidArgument(
            "give exactly one of bundle or item_code",
            field="bundle",
            rule="exactly one of bundle or item_code",
        )
    if request.channel not in CHANNELS:
        raise InvalidArgument(
            f"unknown channel {request.channel!r}",
            field="channel",
            rule=f"one of {', '.join(CHANNELS)}",
        )
    if request.bundle:
        if bundle_items is None:
            raise InvalidArgument(
                f"unknown bundle {request.bundle!r}", field="bundle", rule="known bundle code"
            )
        codes = list(bundle_items)
    else:
        codes = [request.item_code]
    village_level = bool(principal_village) or request.channel == "village_room"
    if request.channel == "village_room" and not (request.village or principal_village):
        raise InvalidArgument(
            "the village-room channel needs the village", field="village", rule="required"
        )
    for code in codes:
        level = delegated.get(code)
        if level is None:
            raise InvalidArgument(
                f"item {code} is not delegated to this township",
                type="item-not-delegated",
                field="bundle" if request.bundle else "item_code",
                rule="item must be delegated to the caller's township",
            )
        if village_level and level != "village":
            raise PermissionDenied(
                f"item {code} is handled at the township hall, not in village service rooms",
                type="item-not-delegated-to-village",
            )
    return codes


def new_receipt_code(township: str, today: date) -> str:
    """A receipt code: town prefix, date, and 8 random characters (not guessable)."""
    token = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(8))
    return f"{township[:2].upper()}{today:%y%m%d}{token}"
