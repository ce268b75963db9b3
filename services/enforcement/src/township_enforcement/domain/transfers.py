"""Transfer to criminal justice (行政执法与刑事司法衔接, 行刑衔接) as a small state machine.

proposal → head of the organ decides within 3 days → sent to the police within 24 hours →
police receipt → police decide within 3 days → accepted | declined → reconsideration (复议)
→ decided again; after a final decline the administrative case resumes. While a transfer
runs, the case cannot be decided with a fine (一事不再罚 / 刑事优先).
"""

from __future__ import annotations

import datetime as dt

from township_platform.errors import Conflict, InvalidArgument, PermissionDenied

HEAD_DECISION = dt.timedelta(days=3)
SENDING = dt.timedelta(hours=24)
POLICE_DECISION = dt.timedelta(days=3)

# step → (stages it may start from, stage it leads to, roles)
STEPS: dict[str, tuple[frozenset[str], str, tuple[str, ...]]] = {
    "propose": (frozenset({""}), "proposed", ("officer",)),
    "head_decide": (frozenset({"proposed"}), "head_approved", ("township_admin",)),
    "send": (frozenset({"head_approved"}), "sent", ("officer", "township_admin")),
    "receive": (frozenset({"sent"}), "received", ("officer", "township_admin")),
    "police_decide": (
        frozenset({"received", "reconsideration"}),
        "accepted",
        ("officer", "township_admin"),
    ),
    "reconsider": (frozenset({"declined"}), "reconsideration", ("officer", "township_admin")),
    "resume": (frozenset({"declined"}), "", ("officer", "township_admin")),
}

PENDING_STAGES = frozenset({"proposed", "head_approved", "sent", "received", "reconsideration"})


def next_stage(step: str, stage: str, roles: tuple[str, ...], approve: bool) -> str:
    """The transfer stage after ``step``; errors for an unknown step, a wrong stage or role."""
    if step not in STEPS:
        raise InvalidArgument(
            f"unknown transfer step {step!r} (one of {', '.join(STEPS)})",
            field="step",
            rule="known transfer step",
        )
    allowed, target, who = STEPS[step]
    if not any(r in roles for r in who):
        raise PermissionDenied(
            f"the transfer step {step} needs one of the roles: {', '.join(who)}",
            type="role-required",
        )
    if stage not in allowed:
        raise Conflict(
            f"a transfer at stage {stage or 'none'} cannot {step}", type="invalid-transfer-stage"
        )
    if step == "head_decide" and not approve:
        return ""  # the head refused: the case continues administratively
    if step == "police_decide" and not approve:
        return "declined"
    return target


def due(stage: str, since: dt.datetime) -> tuple[str, dt.datetime] | None:
    """(limit kind, deadline) of the clock running at ``stage`` (None when none runs)."""
    if stage == "proposed":
        return "transfer_head_decision", since + HEAD_DECISION
    if stage == "head_approved":
        return "transfer_sending", since + SENDING
    if stage in ("received", "reconsideration"):
        return "transfer_police_decision", since + POLICE_DECISION
    return None
