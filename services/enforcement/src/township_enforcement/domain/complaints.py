"""Complaints and reports (投诉举报) and their Open311 GeoReport v2 face.

The complaint types are the Open311 *services* a civic app offers; their attributes are the
extra questions of a service definition. A complaint is accepted or rejected within 7
working days of receipt; a real-name complainant (name and a contact) gets feedback.
Public views (Open311 requests) never carry the complainant's personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from township_platform.calendar import WorkCalendar
from township_platform.errors import Conflict, InvalidArgument

ACCEPTANCE_WORKING_DAYS = 7
RECEIVED = "RECEIVED"
ACCEPTED = "ACCEPTED"
REJECTED = "REJECTED"
CHANNELS = frozenset({"open311", "phone", "window", "staff"})
DATATYPES = frozenset({"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"})


@dataclass(frozen=True, slots=True)
class Attribute:
    """An extra question of a service definition (Open311 ``attribute``)."""

    code: str
    datatype: str
    description: str
    required: bool = False
    order: int = 1
    datatype_description: str = ""
    values: tuple[tuple[str, str], ...] = ()
    variable: bool = True


@dataclass(frozen=True, slots=True)
class ComplaintType:
    """A kind of complaint offered to the public (an Open311 service)."""

    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    items: tuple[str, ...] = ()  # enforcement items it usually concerns (a hint for staff)
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)


_WHEN = Attribute(
    "OCCURRED_AT",
    "datetime",
    "发生时间 When did it happen?",
    order=1,
    datatype_description="ISO 8601, e.g. 2026-11-27T08:30:00+08:00",
)
_ONGOING = Attribute(
    "ONGOING",
    "singlevaluelist",
    "是否仍在持续 Is it still going on?",
    required=True,
    order=2,
    values=(("yes", "是 yes"), ("no", "否 no")),
)

COMPLAINT_TYPES: tuple[ComplaintType, ...] = (
    ComplaintType(
        "illegal-construction",
        "违法建设 Illegal construction",
        "未经批准占地建房、违规搭建 Building without permission on land of a village or town",
        "城乡建设 Construction",
        ("违建", "building", "construction"),
        ("ZF-XZ-0001",),
        (_WHEN, _ONGOING),
    ),
    ComplaintType(
        "street-vending",
        "占道经营 Street vending outside stall areas",
        "占用道路、集市日未在指定区域摆摊 Vendors occupying roads outside designated stalls",
        "市容秩序 Public order",
        ("摊贩", "market day", "vendor"),
        (),
        (
            _WHEN,
            _ONGOING,
            Attribute(
                "MARKET_DAY",
                "singlevaluelist",
                "是否逢集日 Was it a market day?",
                order=3,
                values=(("yes", "是 yes"), ("no", "否 no")),
            ),
        ),
    ),
    ComplaintType(
        "food-safety",
        "食品安全 Food safety",
        "无证经营、过期食品 Unlicensed food trade, expired food",
        "市场监管 Market supervision",
        ("食品", "food"),
        (),
        (_WHEN, Attribute("SHOP_NAME", "string", "商户名称 Name of the shop", order=2)),
    ),
    ComplaintType(
        "pollution",
        "环境污染 Pollution",
        "焚烧垃圾秸秆、排污、噪声 Burning, discharges, noise",
        "生态环境 Environment",
        ("污染", "noise", "smoke", "waste"),
        (),
        (
            _WHEN,
            _ONGOING,
            Attribute(
                "KIND",
                "multivaluelist",
                "污染类型 Kinds of pollution",
                required=True,
                order=3,
                values=(
                    ("smoke", "烟尘 smoke"),
                    ("water", "水 water"),
                    ("noise", "噪声 noise"),
                    ("waste", "垃圾 waste"),
                ),
            ),
        ),
    ),
    ComplaintType(
        "other",
        "其他 Other",
        "其他违法行为线索 Any other suspected violation",
        "综合 General",
        ("其他", "other"),
        (),
        (Attribute("DETAILS", "text", "补充说明 More details", order=1),),
    ),
)


def complaint_type(code: str) -> ComplaintType:
    """The complaint type ``code``; InvalidArgument naming service_code when unknown."""
    for t in COMPLAINT_TYPES:
        if t.code == code:
            return t
    raise InvalidArgument(
        f"unknown service_code {code!r}",
        type="unknown-service",
        field="service_code",
        rule="known service",
    )


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _datetime(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def validate_attributes(kind: ComplaintType, given: Mapping[str, str]) -> dict[str, str]:
    """Check answers against the service definition; InvalidArgument naming attribute[CODE]."""
    known = {a.code: a for a in kind.attributes}
    for code in given:
        if code not in known:
            raise InvalidArgument(
                f"service {kind.code} has no attribute {code}",
                field=f"attribute[{code}]",
                rule="defined attribute",
            )
    out: dict[str, str] = {}
    for attr in kind.attributes:
        value = (given.get(attr.code) or "").strip()
        where = f"attribute[{attr.code}]"
        if not value:
            if attr.required:
                raise InvalidArgument(
                    f"{where} is required", field=where, rule="required attribute"
                )
            continue
        keys = {k for k, _ in attr.values}
        if attr.datatype == "number" and not _number(value):
            raise InvalidArgument(f"{where} must be a number", field=where, rule="number")
        if attr.datatype == "datetime" and not _datetime(value):
            raise InvalidArgument(
                f"{where} must be an ISO 8601 date and time", field=where, rule="datetime"
            )
        if attr.datatype == "singlevaluelist" and value not in keys:
            raise InvalidArgument(
                f"{where} must be one of {', '.join(sorted(keys))}", field=where, rule="value key"
            )
        if attr.datatype == "multivaluelist":
            chosen = [v.strip() for v in value.split(",") if v.strip()]
            if not chosen or any(v not in keys for v in chosen):
                raise InvalidArgument(
                    f"{where} values must be among {', '.join(sorted(keys))}",
                    field=where,
                    rule="value keys",
                )
            value = ",".join(chosen)
        if len(value) > 2000:
            raise InvalidArgument(f"{where} is too long", field=where, rule="at most 2000")
        out[attr.code] = value
    return out


def check_location(lat: str, long: str, address: str, address_id: str) -> None:
    """Open311: a location is lat+long, an address string or an address id."""
    if lat or long:
        if not (lat and long):
            raise InvalidArgument(
                "lat and long go together", field="lat" if not lat else "long", rule="lat and long"
            )
        try:
            la, lo = float(lat), float(long)
        except ValueError:
            raise InvalidArgument(
                "lat and long must be decimal degrees", field="lat", rule="WGS-84 degrees"
            ) from None
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            raise InvalidArgument("lat/long out of range", field="lat", rule="WGS-84 degrees")
        return
    if not (address.strip() or address_id.strip()):
        raise InvalidArgument(
            "a location is required: lat and long, address_string or address_id",
            type="location-required",
            field="lat",
            rule="lat/long, address_string or address_id",
        )


def is_real_name(first: str, last: str, phone: str, email: str) -> bool:
    """A real-name complaint (实名举报) gives a name and a way to answer."""
    return bool((first.strip() or last.strip()) and (phone.strip() or email.strip()))


def acceptance_due(calendar: WorkCalendar, received_on: dt.date) -> dt.date:
    """Last day to accept or reject: 7 working days after receipt."""
    return calendar.add_working_days(received_on, ACCEPTANCE_WORKING_DAYS)


def check_decidable(state: str) -> None:
    """Only a received complaint can be accepted or rejected."""
    if state != RECEIVED:
        raise Conflict(f"the complaint was already {state.lower()}", type="complaint-decided")


CASE_NOTES = {
    "CLUE": "已受理，线索核查中 Accepted; the clue is being checked",
    "VERIFYING": "线索核查中 The clue is being verified",
    "FILED": "已立案 A case was filed",
    "DROPPED": "经核查不予立案 Checked; no case was filed",
    "INVESTIGATING": "调查取证中 Under investigation",
    "LEGAL_REVIEW": "法制审核中 Legal review",
    "NOTICE_GIVEN": "已告知当事人权利 The party was notified of its rights",
    "HEARING_REQUESTED": "当事人申请听证 A hearing was requested",
    "HEARING": "听证 Hearing",
    "DECIDED": "已作出处理决定 A decision was made",
    "SERVED": "决定书已送达 The decision was served",
    "EXECUTING": "执行中 Being enforced",
    "CLOSED": "已结案 Case closed",
    "TRANSFERRED": "已移送司法机关 Transferred to the judicial authorities",
}


def public_status(state: str, reason: str, case_state: str | None) -> tuple[str, str]:
    """Open311 (status, status_notes) of a complaint, following its case; no personal data."""
    if state == REJECTED:
        return "closed", "不予受理 Not accepted: " + reason
    if state == RECEIVED:
        return "open", "已收到，待受理 Received; awaiting acceptance"
    if case_state is None:
        return "open", CASE_NOTES["CLUE"]
    closed = case_state in ("CLOSED", "DROPPED")
    return ("closed" if closed else "open"), CASE_NOTES.get(case_state, case_state)
