"""Automatic points: which event earns or costs whom how many points (by rule code)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The default rules. Points are data (the points_rules table); these are the seed values.
DEFAULT_RULES: tuple[tuple[str, str, str, Decimal, Decimal | None, str], ...] = (
    (
        "application-intake",
        "窗口受理办件",
        "Application taken at intake",
        Decimal("0.5"),
        Decimal("300"),
        "permits.application.submitted.v1",
    ),
    (
        "on-time-completion",
        "按时办结",
        "Application completed within the promised limit",
        Decimal("1"),
        None,
        "permits.application.closed.v1",
    ),
    (
        "bad-rating",
        "差评",
        "Bad rating (level 1-2)",
        Decimal("-2"),
        None,
        "permits.rating.submitted.v1",
    ),
    (
        "rectification-overdue",
        "整改逾期",
        "Rectification overdue",
        Decimal("-3"),
        None,
        "permits.rectification.overdue.v1",
    ),
    (
        "case-closed",
        "执法案件办结",
        "Enforcement case closed",
        Decimal("2"),
        None,
        "enforcement.case.closed.v1",
    ),
)


@dataclass(frozen=True)
class AutoEntry:
    """An automatic ledger entry to record for an event."""

    person: str
    rule_code: str


def intake_entry(intake_by: str) -> AutoEntry | None:
    """Points for the staff member who took an intake (none for online self-service)."""
    if not intake_by:
        return None
    return AutoEntry(person=intake_by, rule_code="application-intake")
