"""Points rules, and which event earns or costs whom how many points (by rule code)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as seeded. Points are data (the points_rules table); these are the defaults."""

    code: str
    name_zh: str
    name_en: str
    points: Decimal
    cap_per_period: Decimal | None
    trigger: str = ""
    evidence_required: bool = False
    approver_role: str = "township_admin"
    claimable: bool = False


DEFAULT_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "application-intake",
        "窗口受理办件",
        "Application taken at intake",
        Decimal("0.5"),
        Decimal("300"),
        "permits.application.submitted.v1",
    ),
    RuleSpec(
        "on-time-completion",
        "按时办结",
        "Application completed within the promised limit",
        Decimal("1"),
        None,
        "permits.application.closed.v1",
    ),
    RuleSpec(
        "bad-rating",
        "差评",
        "Bad rating (level 1-2)",
        Decimal("-2"),
        None,
        "permits.rating.submitted.v1",
    ),
    RuleSpec(
        "rectification-overdue",
        "整改逾期",
        "Rectification overdue",
        Decimal("-3"),
        None,
        "permits.rectification.overdue.v1",
    ),
    RuleSpec(
        "case-closed",
        "执法案件办结",
        "Enforcement case closed",
        Decimal("2"),
        None,
        "enforcement.case.closed.v1",
    ),
    # Claimed by hand, with evidence, approved by the township's admin.
    RuleSpec(
        "liaison-work",
        "包联工作",
        "Liaison work (包联) with villages, firms or projects",
        Decimal("2"),
        Decimal("40"),
        evidence_required=True,
        claimable=True,
    ),
    RuleSpec(
        "project-visit",
        "走访企业",
        "Firm visit or policy briefing",
        Decimal("1"),
        Decimal("60"),
        evidence_required=True,
        claimable=True,
    ),
    RuleSpec(
        "urgent-task",
        "急难险重任务",
        "Urgent, difficult or dangerous task",
        Decimal("3"),
        Decimal("30"),
        evidence_required=True,
        claimable=True,
    ),
    RuleSpec(
        "commendation",
        "表彰奖励",
        "Commendation or award",
        Decimal("5"),
        Decimal("10"),
        evidence_required=True,
        claimable=True,
    ),
    RuleSpec(
        "discipline",
        "违规违纪扣分",
        "Breach of discipline",
        Decimal("-5"),
        Decimal("-20"),
        evidence_required=True,
        claimable=True,
    ),
    RuleSpec(
        "daily-duty",
        "日常履职",
        "Daily duties of the post (monthly assessment)",
        Decimal("8"),
        Decimal("96"),
        claimable=True,
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


def closed_entries(
    *, intake_by: str, closed_by: str, within_promised_limit: bool, outcome: str
) -> list[AutoEntry]:
    """On-time completion credits the intake clerk (or the closer for self-service intakes)."""
    if not within_promised_limit or outcome == "not_accepted":
        return []
    person = intake_by or closed_by
    return [AutoEntry(person, "on-time-completion")] if person else []


def rating_entries(*, level: int, responsible: str) -> list[AutoEntry]:
    """A bad rating (level 1 or 2) costs the staff member rated."""
    if level > 2 or level < 1 or not responsible:
        return []
    return [AutoEntry(responsible, "bad-rating")]


def rectification_overdue_entries(*, responsible: str) -> list[AutoEntry]:
    """An overdue rectification costs the person responsible for it."""
    return [AutoEntry(responsible, "rectification-overdue")] if responsible else []


def case_closed_entries(*, officers: list[str]) -> list[AutoEntry]:
    """A closed case credits each of its officers once."""
    return [AutoEntry(o, "case-closed") for o in dict.fromkeys(officers) if o]
