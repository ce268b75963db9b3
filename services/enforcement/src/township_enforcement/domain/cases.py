"""The case (案件) procedure of the Administrative Penalty Law (行政处罚法, 2021), as pure rules.

States and the steps between them are one explicit table (:data:`TRANSITIONS`); the rules a
step must satisfy (entrusted item valid that day, two certified officers, recusal, the
discretion band, the hearing window, transfer to criminal justice) are small functions that
raise domain errors naming the field and the rule. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from township_platform.calendar import CalendarYearUnknown, WorkCalendar
from township_platform.errors import Conflict, InvalidArgument, PermissionDenied

CLUE = "CLUE"
VERIFYING = "VERIFYING"
FILED = "FILED"
DROPPED = "DROPPED"
INVESTIGATING = "INVESTIGATING"
LEGAL_REVIEW = "LEGAL_REVIEW"
NOTICE_GIVEN = "NOTICE_GIVEN"
HEARING_REQUESTED = "HEARING_REQUESTED"
HEARING = "HEARING"
DECIDED = "DECIDED"
SERVED = "SERVED"
EXECUTING = "EXECUTING"
CLOSED = "CLOSED"
TRANSFERRED = "TRANSFERRED"

FINAL = frozenset({DROPPED, CLOSED})
BEFORE_DECISION = (FILED, INVESTIGATING, LEGAL_REVIEW, NOTICE_GIVEN, HEARING_REQUESTED, HEARING)
OPEN_STATES = frozenset(
    {CLUE, VERIFYING, *BEFORE_DECISION, DECIDED, SERVED, EXECUTING, TRANSFERRED}
)

MARKET_SUPERVISION = "market-supervision"
# 第八十五条: the law's "二日", "三日", "五日" and "七日" are working days (工作日), public
# holidays excluded; its other periods (90 days to decide, 15 days to pay) are natural days.
HEARING_WINDOW_DAYS = 5
"""A party may ask for a hearing within 5 working days of the notice (第六十四条)."""
HEARING_NOTICE_DAYS = 7
"""The party is told the hearing's time and place 7 working days before it (第六十四条(二))."""
CLOSED_HEARING_GROUNDS = frozenset({"state_secret", "trade_secret", "privacy"})
"""A hearing is public unless it touches state or trade secrets or privacy (第六十四条(三))."""
DECISION_LIMIT_DAYS = 90
"""A decision within 90 days of filing (第六十条), unless an extension is approved."""
SERVICE_LIMIT_DAYS = 7
"""The decision is served within 7 working days (第六十一条, 第八十五条)."""
PUBLICATION_WORKING_DAYS = 7
"""Decisions with social impact are published within 7 working days (第四十八条)."""
RETRACTION_DAYS = 3
"""A revoked published decision is withdrawn within 3 working days (第四十八条, 第八十五条)."""
PAYMENT_DAYS = 15
"""A fine is paid within 15 days of service (第六十七条)."""
SURCHARGE_RATE = Decimal("0.03")
"""Late payment: 3% of the fine per day, never more than the fine (第七十二条)."""

OFFICER = "officer"
HEAD = "township_admin"
REVIEWER = "legal_reviewer"

# action → (states it may start from, state it leads to (None: unchanged), roles allowed)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None, tuple[str, ...]]] = {
    "verify": (frozenset({CLUE}), VERIFYING, (OFFICER,)),
    "file": (frozenset({VERIFYING}), FILED, (OFFICER, HEAD)),
    "drop": (frozenset({CLUE, VERIFYING}), DROPPED, (OFFICER, HEAD)),
    "investigate": (frozenset({FILED, INVESTIGATING}), INVESTIGATING, (OFFICER,)),
    "submit_review": (frozenset({INVESTIGATING}), LEGAL_REVIEW, (OFFICER,)),
    "review": (frozenset({LEGAL_REVIEW}), None, (REVIEWER,)),
    "notice": (frozenset({LEGAL_REVIEW}), NOTICE_GIVEN, (OFFICER,)),
    "statement": (frozenset({NOTICE_GIVEN, HEARING_REQUESTED, HEARING}), None, (OFFICER,)),
    "request_hearing": (frozenset({NOTICE_GIVEN}), HEARING_REQUESTED, (OFFICER,)),
    "schedule_hearing": (frozenset({HEARING_REQUESTED}), None, (OFFICER, HEAD)),
    "hearing": (frozenset({HEARING_REQUESTED}), HEARING, (OFFICER, HEAD)),
    "decide": (frozenset({NOTICE_GIVEN, HEARING}), DECIDED, (HEAD,)),
    "serve": (frozenset({DECIDED}), SERVED, (OFFICER,)),
    "pay": (frozenset({SERVED, EXECUTING}), EXECUTING, (OFFICER,)),
    "close": (frozenset({SERVED, EXECUTING, TRANSFERRED}), CLOSED, (OFFICER, HEAD)),
    "publish": (frozenset({DECIDED, SERVED, EXECUTING, CLOSED}), None, (OFFICER, HEAD)),
    "retract": (frozenset({DECIDED, SERVED, EXECUTING, CLOSED}), None, (OFFICER, HEAD)),
    "revoke": (frozenset({DECIDED, SERVED, EXECUTING, CLOSED}), None, (HEAD,)),
    "extend": (frozenset(BEFORE_DECISION), None, (HEAD,)),
    "recuse": (frozenset(OPEN_STATES), None, (OFFICER, HEAD)),
    "add_departments": (frozenset(OPEN_STATES), None, (OFFICER, HEAD)),
    "transfer": (frozenset({*BEFORE_DECISION, TRANSFERRED}), None, (OFFICER, HEAD)),
}

NEEDS_CERTIFICATE = frozenset(
    {"verify", "investigate", "submit_review", "notice", "serve", "hearing", "pay"}
)


@dataclass(frozen=True, slots=True)
class Band:
    """One discretion band (裁量基准): a fine range in yuan and other penalties."""

    level: str
    min_fine: Decimal
    max_fine: Decimal
    other_penalties: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Band:
        """From the catalogue's stored form."""
        return cls(
            level=str(data["level"]),
            min_fine=Decimal(str(data["min_fine"])),
            max_fine=Decimal(str(data["max_fine"])),
            other_penalties=tuple(data.get("other_penalties", ())),
        )


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the rules need to know of an enforcement item."""

    code: str
    name: str
    category: str
    department: str


@dataclass(frozen=True, slots=True)
class EntrustmentFacts:
    """One entrustment (委托) of an item to the township."""

    document_no: str
    valid_from: dt.date
    valid_to: dt.date


def check_item_actionable(
    code: str,
    item: ItemFacts | None,
    entrustments: Sequence[EntrustmentFacts],
    departments: Iterable[str],
    today: dt.date,
) -> EntrustmentFacts | None:
    """The entrustment that lets the town act on ``code`` today (None for its own items).

    Statutory township items need none; market supervision items belong to the stationed
    market supervision office, so the town acts on them only jointly with it; entrusted
    items need an entrustment in force today. Otherwise InvalidArgument naming item and why.
    """
    if item is None:
        raise InvalidArgument(
            f"enforcement item {code} is not in the catalogue",
            type="unknown-item",
            field="item_code",
            rule="catalogued item",
        )
    label = f"{item.code} ({item.name})"
    if item.category == "statutory_township":
        return None
    if item.category == "market_supervision":
        if MARKET_SUPERVISION not in set(departments):
            raise InvalidArgument(
                f"item {label} belongs to the stationed market supervision office: "
                f"include the department {MARKET_SUPERVISION!r} (joint enforcement)",
                type="market-supervision-required",
                field="departments",
                rule="market supervision items are joint with market-supervision",
            )
        return None
    valid = [e for e in entrustments if e.valid_from <= today <= e.valid_to]
    if valid:
        return valid[0]
    if entrustments:
        last = max(entrustments, key=lambda e: e.valid_to)
        when = (
            f"expired on {last.valid_to}"
            if last.valid_to < today
            else f"is valid only from {last.valid_from}"
        )
        raise InvalidArgument(
            f"item {label}: the entrustment to this township ({last.document_no}) {when}; "
            f"no entrustment is valid on {today}",
            type="entrustment-expired",
            field="item_code",
            rule="entrustment valid today",
        )
    raise InvalidArgument(
        f"item {label} is not entrusted to this township by {item.department}",
        type="item-not-entrusted",
        field="item_code",
        rule="entrusted to the township",
    )


def check_transition(action: str, state: str) -> str | None:
    """The state ``action`` leads to from ``state``; Conflict when not allowed."""
    allowed, target, _ = TRANSITIONS[action]
    if state not in allowed:
        if state == TRANSFERRED:
            raise Conflict(
                f"the case was transferred to criminal justice (行刑衔接): {action} is not "
                "allowed while the transfer runs",
                type="case-transferred",
            )
        raise Conflict(f"a case in state {state} cannot {action}", type="invalid-state")
    return target


def check_actor(
    action: str,
    roles: Sequence[str],
    certificate: str | None,
    sub: str,
    recused: Iterable[str],
) -> None:
    """The caller holds a role for ``action``, has a certificate where needed, is not recused."""
    _, _, allowed = TRANSITIONS[action]
    if not any(r in roles for r in allowed):
        raise PermissionDenied(
            f"{action} needs one of the roles: {', '.join(allowed)}", type="role-required"
        )
    if sub in set(recused):
        raise PermissionDenied(
            f"officer {sub} declared a conflict with a party and cannot act on this case",
            type="recused",
        )
    if action in NEEDS_CERTIFICATE and OFFICER in roles and not certificate:
        raise PermissionDenied(
            f"{action} needs a certified enforcement officer (执法证)", type="certificate-required"
        )


def check_officers(
    officers: Sequence[str],
    certified: Iterable[str],
    recused: Iterable[str],
    actor: str | None = None,
) -> list[str]:
    """At least two distinct certified officers, none recused, the actor among them."""
    team = list(dict.fromkeys(o.strip() for o in officers if o.strip()))
    if len(team) < 2:
        raise InvalidArgument(
            "at least two certified enforcement officers are needed (两名以上执法人员)",
            type="two-officers-required",
            field="officers",
            rule="at least two certified officers",
        )
    known = set(certified)
    unknown = [o for o in team if o not in known]
    if unknown:
        raise InvalidArgument(
            f"not known as certified officers of this township: {', '.join(unknown)}",
            type="officer-not-certified",
            field="officers",
            rule="at least two certified officers",
        )
    barred = [o for o in team if o in set(recused)]
    if barred:
        raise InvalidArgument(
            f"officers who declared a conflict cannot act on this case: {', '.join(barred)}",
            type="recused",
            field="officers",
            rule="no recused officer",
        )
    if actor is not None and actor not in team:
        raise InvalidArgument(
            "the officer recording this step must be one of the officers",
            field="officers",
            rule="actor among the officers",
        )
    return team


def parse_money(value: str, field: str) -> Decimal:
    """A non-negative amount in yuan with at most two decimals."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise InvalidArgument(
            f"{field} must be an amount in yuan such as 200.00", field=field, rule="decimal"
        ) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidArgument(
            f"{field} must be a non-negative amount with at most two decimals",
            field=field,
            rule="decimal",
        )
    return amount.quantize(Decimal("0.01"))


def check_fine_in_band(bands: Sequence[Band], level: str, fine: Decimal) -> Band:
    """The band ``fine`` falls in (``level``'s band when given); InvalidArgument outside."""
    candidates = [b for b in bands if b.level == level] if level else list(bands)
    if level and not candidates:
        raise InvalidArgument(
            f"the item has no {level!r} discretion band "
            f"(bands: {', '.join(b.level for b in bands)})",
            field="band",
            rule="band of the item",
        )
    for band in candidates:
        if band.min_fine <= fine <= band.max_fine:
            return band
    ranges = "; ".join(f"{b.level} {b.min_fine}–{b.max_fine}" for b in candidates)
    raise InvalidArgument(
        f"a fine of {fine} yuan is outside the item's discretion band ({ranges})",
        type="outside-discretion-band",
        field="fine",
        rule="within the discretion band",
    )


def check_other_penalties(band: Band, penalties: Sequence[str]) -> None:
    """Other penalties must be those the band allows."""
    extra = [p for p in penalties if p not in band.other_penalties]
    if extra:
        raise InvalidArgument(
            f"the {band.level} band does not provide for: {', '.join(extra)}",
            field="other_penalties",
            rule="within the discretion band",
        )


def hearing_window_ends(notice_on: dt.date, calendar: WorkCalendar) -> dt.date:
    """The last day the party may ask for a hearing (5 working days after the notice)."""
    return calendar.add_working_days(notice_on, HEARING_WINDOW_DAYS)


def hearing_window_open(notice_on: dt.date, today: dt.date, calendar: WorkCalendar) -> bool:
    """True while the party may still ask for a hearing."""
    return today <= hearing_window_ends(notice_on, calendar)


@dataclass(frozen=True, slots=True)
class HearingSchedule:
    """When and where a requested hearing is held, who presides, and whether it is public."""

    hearing_on: dt.date
    place: str
    presiding: str
    public: bool
    closed_reason: str
    notified_on: dt.date

    def as_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "hearing_on": self.hearing_on.isoformat(),
            "place": self.place,
            "presiding": self.presiding,
            "public": self.public,
            "closed_reason": self.closed_reason,
            "notified_on": self.notified_on.isoformat(),
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> HearingSchedule:
        """The arrangements from their stored form."""
        return cls(
            hearing_on=dt.date.fromisoformat(stored["hearing_on"]),
            place=stored["place"],
            presiding=stored["presiding"],
            public=bool(stored.get("public", True)),
            closed_reason=stored.get("closed_reason", ""),
            notified_on=dt.date.fromisoformat(stored["notified_on"]),
        )


def earliest_hearing_day(notified_on: dt.date, calendar: WorkCalendar) -> dt.date:
    """The first day a hearing notified on ``notified_on`` may be held (7 working days on)."""
    return calendar.add_working_days(notified_on, HEARING_NOTICE_DAYS)


def schedule_hearing(
    *,
    hearing_on: str,
    place: str,
    presiding: str,
    public: bool,
    closed_reason: str,
    investigators: Iterable[str],
    recused: Iterable[str],
    today: dt.date,
    calendar: WorkCalendar,
) -> HearingSchedule:
    """Check a hearing's arrangements against 第六十四条 and return them.

    The party is notified today, so the day is at least 7 working days away (二); the hearing
    is public unless a secret or privacy is at stake (三); it is presided over by someone who
    did not investigate the case (四) and has not withdrawn from it.
    """
    try:
        day = dt.date.fromisoformat(hearing_on)
    except ValueError:
        raise InvalidArgument(
            "hearing_on is a date (YYYY-MM-DD)", field="hearing_on", rule="date"
        ) from None
    earliest = earliest_hearing_day(today, calendar)
    if day < earliest:
        raise InvalidArgument(
            f"the party must be told 7 working days before the hearing: {earliest} at the "
            "earliest when notified today (第六十四条)",
            type="hearing-notice-too-short",
            field="hearing_on",
            rule="7 working days' notice",
        )
    place = place.strip()
    if not place:
        raise InvalidArgument("the hearing needs a place", field="place", rule="required")
    presiding = presiding.strip()
    if not presiding:
        raise InvalidArgument(
            "a presiding officer is required", field="presiding_officer", rule="required"
        )
    if presiding in set(investigators):
        raise InvalidArgument(
            f"{presiding} investigated this case and may not preside over its hearing "
            "(第六十四条(四))",
            type="presiding-officer-investigated",
            field="presiding_officer",
            rule="not an investigator of the case",
        )
    if presiding in set(recused):
        raise InvalidArgument(
            f"{presiding} has withdrawn from this case",
            type="recused",
            field="presiding_officer",
            rule="not recused",
        )
    if public and closed_reason:
        raise InvalidArgument(
            "a public hearing has no closed_reason",
            field="closed_reason",
            rule="empty when public",
        )
    if not public and closed_reason not in CLOSED_HEARING_GROUNDS:
        raise InvalidArgument(
            "a hearing is public unless it involves a state secret, a trade secret or "
            "privacy (第六十四条(三))",
            field="closed_reason",
            rule="one of " + ", ".join(sorted(CLOSED_HEARING_GROUNDS)),
        )
    return HearingSchedule(day, place, presiding, public, closed_reason, today)


def check_hearing_held(scheduled: dt.date | None, held_on: dt.date, today: dt.date) -> None:
    """A hearing is recorded once it was scheduled, on or after its notified day, not ahead."""
    if scheduled is None:
        raise Conflict(
            "schedule the hearing first: the party is told its time and place 7 working days "
            "before (第六十四条)",
            type="hearing-not-scheduled",
        )
    if held_on < scheduled:
        raise InvalidArgument(
            f"the hearing was notified for {scheduled}; it cannot have been held before",
            field="held_on",
            rule="not before the notified day",
        )
    if held_on > today:
        raise InvalidArgument(
            "a hearing is recorded once held", field="held_on", rule="not in the future"
        )


def check_may_decide(
    state: str,
    notice_on: dt.date | None,
    hearing_waived: bool,
    today: dt.date,
    calendar: WorkCalendar,
) -> None:
    """After a notice, decide only once the party waived a hearing or the window passed."""
    if state == NOTICE_GIVEN and notice_on is not None and not hearing_waived:
        if hearing_window_open(notice_on, today, calendar):
            raise Conflict(
                "the party may still ask for a hearing until "
                f"{hearing_window_ends(notice_on, calendar)} (or waive it in a statement)",
                type="hearing-window-open",
            )


def decision_due(filed_on: dt.date, extensions: Sequence[int], calendar: WorkCalendar) -> dt.date:
    """Last day for the decision: 90 natural days after filing plus approved extensions.

    A period whose last day is a rest day or public holiday ends on the next working day (the
    rule of every Chinese procedure law, e.g. 市场监督管理行政处罚程序规定 第九十二条). When the
    working-day calendar does not know that year yet, the limit ends on the 90th day itself
    (a case must always show its limit; the other limits report the unknown year instead).
    """
    last = filed_on + dt.timedelta(days=DECISION_LIMIT_DAYS + sum(extensions))
    try:
        return calendar.next_working_day(last, inclusive=True)
    except CalendarYearUnknown:
        return last  # a year the calendar does not know yet: the 90th day itself


def late_surcharge(fine: Decimal, served_on: dt.date, today: dt.date) -> Decimal:
    """3% of the fine per day late after the 15 days to pay, capped at the fine itself."""
    late_days = (today - (served_on + dt.timedelta(days=PAYMENT_DAYS))).days
    if late_days <= 0:
        return Decimal("0.00")
    surcharge = (fine * SURCHARGE_RATE * late_days).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return min(surcharge, fine)


def check_can_close(
    state: str,
    decision_kind: str,
    fine: Decimal,
    paid: Decimal,
    surcharge: Decimal,
    transfer_stage: str,
    revoked: bool = False,
) -> str:
    """The outcome a close records; Conflict while something is still owed or running."""
    if revoked:
        return "revoked"
    if state == TRANSFERRED:
        if transfer_stage != "accepted":
            raise Conflict(
                "a transferred case closes only once the police accepted it",
                type="transfer-pending",
            )
        return "transferred"
    if decision_kind == "penalty" and paid < fine + surcharge:
        raise Conflict(
            f"the fine is not fully paid: {paid} of {fine + surcharge} yuan",
            type="fine-unpaid",
        )
    return decision_kind
