"""Factories of the tenant isolation matrix: one Zhaowan object per path parameter.

Every factory creates (through the gateway, as Zhaowan users holding the right roles) one
object of the owning town and returns a :class:`Target`: the value to put in the path, what a
caller of another town must get back (``kind``), and how the owner reads the object before
and after the cross-town calls ("change nothing"). Everything created carries the run's
marker (``World.tag``, letters that never occur in a UUID) in a subject, a name or a note, so
that any answer quoting Zhaowan's data can be recognised.

A new path parameter without a factory here (and not in ``GLOBAL_PARAMETERS``) fails the
matrix with "add a factory for <param> (<METHOD> <path>)".
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.conftest import TokenFactory, auth, eventually

OWNER = "zhaowan"
OTHER = "bailiu"
UNINVOLVED_DEPARTMENT = "culture-tourism"  # no stationed unit, no item or case of ours
ITEM = "GG-00405-001"  # civil-affairs public service, delegated to both pilot towns
STATUTORY_CASE_ITEM = "ZF-XZ-0001"  # the township's own enforcement item
CHINA = ZoneInfo("Asia/Shanghai")

Kind = Literal["object", "natural", "public", "scoped"]
"""What another town's caller must see:

- ``object``: an object of the owning town → 404 (403 only from the gateway's role check,
  which is answered before any lookup and so says nothing about the object);
- ``natural``: a key every town has (a year, a unit code, a function) → any status, but
  nothing of the owning town in the answer;
- ``public``: reachable by design without a token (a receipt code) → no personal data;
- ``scoped``: a town named in a public path → the caller's own town is used, and the answer
  holds only that town.
"""

Snapshot = Callable[[], Any]


@dataclass(frozen=True)
class Target:
    """A path value, the expectation for other towns' callers, the owner's view of it."""

    value: str
    kind: Kind
    snapshot: Snapshot | None = None


@dataclass
class World:
    """Zhaowan's objects, created once per session, and the strings that identify them."""

    gateway: httpx.Client
    token: TokenFactory
    tag: str = field(
        default_factory=lambda: "tmzw" + "".join(random.choices("ghjkmnpqrstvwxyz", k=6))
    )
    markers: set[str] = field(default_factory=set)
    personal: set[str] = field(default_factory=set)
    cache: dict[str, Any] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    # -- actors ---------------------------------------------------------------------------
    def tok(self, role: str, *more: str, suffix: str | None = None, **claims: Any) -> str:
        """A Zhaowan token whose subject carries the marker."""
        sub = f"{self.tag}-{suffix or role}"
        self.markers.add(sub)
        return self.token(OWNER, role, *more, sub=sub, **claims)

    def county(self, department: str, role: str = "county_dept") -> str:
        """A county department's user (its subject carries the marker too)."""
        sub = f"{self.tag}-{department}"
        self.markers.add(sub)
        return self.token(None, role, department=department, sub=sub)

    # -- HTTP -----------------------------------------------------------------------------
    def post(self, tok: str, path: str, body: Any, status: int = 201) -> Any:
        r = self.gateway.post(
            path, json=body, headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())}
        )
        assert r.status_code == status, f"factory: POST {path} → {r.status_code} {r.text}"
        return r.json()

    def get(self, tok: str | None, path: str, **params: Any) -> Any:
        r = self.gateway.get(path, params=params, headers=auth(tok) if tok else {})
        assert r.status_code == 200, f"factory: GET {path} → {r.status_code} {r.text}"
        return r.json()

    def reader(self, tok: str, path: str, **params: Any) -> Snapshot:
        """The owner's GET of ``path`` (the JSON it answers)."""
        return lambda: self.get(tok, path, **params)

    def once(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]


def _phone() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


def _today() -> dt.date:
    return dt.datetime.now(CHINA).date()


# ---------------------------------------------------------------------------- permits
def _intake(w: World, key: str) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        clerk = w.tok("clerk", suffix=f"clerk-{key}")
        phone, name = _phone(), "欧阳测验"
        w.personal.update({phone, name})
        w.markers.add(phone)
        body = {
            "item_code": ITEM,
            "applicant": {"name": name, "phone": phone},
            "materials": [{"code": "id-card", "name": f"居民身份证 {w.tag}"}],
        }
        intake = w.post(clerk, "/api/v1/applications", body)
        return {"clerk": clerk, "intake": intake, "id": intake["applications"][0]["id"]}

    return dict(w.once(f"intake-{key}", build))


def application(w: World) -> Target:
    a = _intake(w, "app")
    return Target(a["id"], "object", w.reader(a["clerk"], f"/api/v1/applications/{a['id']}"))


def receipt(w: World) -> Target:
    a = _intake(w, "app")
    code = a["intake"]["receipt_code"]
    owner, public = (
        w.reader(a["clerk"], f"/api/v1/applications/{a['id']}"),
        w.reader("", f"/public/v1/applications/{code}"),  # "rated" shows a rating
    )
    return Target(code, "public", lambda: [owner(), public()])


def rectification(w: World) -> Target:
    def build() -> Target:
        a = _intake(w, "rated")
        w.post(
            a["clerk"],
            "/api/v1/ratings",
            {"receipt_code": a["intake"]["receipt_code"], "level": 1, "comment": w.tag},
        )
        responsible = f"{w.tag}-clerk-rated"
        rows = w.get(a["clerk"], "/api/v1/rectifications", responsible=responsible)
        [rect] = rows["rectifications"]
        return Target(
            rect["id"], "object", w.reader(a["clerk"], f"/api/v1/rectifications/{rect['id']}")
        )

    return w.once("rectification", build)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- enforcement
def _team(w: World) -> dict[str, str]:
    def build() -> dict[str, str]:
        a = w.tok("officer", suffix="officer-a", extra={"certificate": "61ZW0001"})
        b = w.tok("officer", suffix="officer-b", extra={"certificate": "61ZW0002"})
        return {"a": a, "b": b, "a_sub": f"{w.tag}-officer-a", "b_sub": f"{w.tag}-officer-b"}

    return dict(w.once("team", build))


def case(w: World) -> Target:
    def build() -> Target:
        t = _team(w)
        party = f"王{w.tag}"
        w.personal.add(party)
        c = w.post(
            t["a"],
            "/api/v1/enforcement/cases",
            {
                "item_code": STATUTORY_CASE_ITEM,
                "summary": f"集镇道路旁违法搭建 {w.tag}",
                "party": {"name": party, "kind": "person"},
            },
        )
        # the second officer acts once, so that both are known for an inspection
        w.post(
            t["b"],
            f"/api/v1/enforcement/cases/{c['id']}/actions",
            {"action": "verify", "note": f"现场核实 {w.tag}"},
            status=200,
        )
        return Target(c["id"], "object", w.reader(t["a"], f"/api/v1/enforcement/cases/{c['id']}"))

    return w.once("case", build)  # type: ignore[no-any-return]


def inspection(w: World) -> Target:
    def build() -> Target:
        case(w)
        t = _team(w)
        i = w.post(
            t["a"],
            "/api/v1/enforcement/inspections",
            {
                "kind": "market_day",
                "place": f"赵湾镇街子集市 {w.tag}",
                "officers": [t["a_sub"], t["b_sub"]],
                "checklist": [{"code": "stall-area", "text": "是否在指定区域摆摊"}],
            },
        )
        return Target(
            i["id"], "object", w.reader(t["a"], f"/api/v1/enforcement/inspections/{i['id']}")
        )

    return w.once("inspection", build)  # type: ignore[no-any-return]


def complaint(w: World) -> Target:
    def build() -> Target:
        clerk = w.tok("clerk", suffix="clerk-complaint")
        phone = _phone()
        w.personal.add(phone)
        w.markers.add(phone)
        c = w.post(
            clerk,
            "/api/v1/enforcement/complaints",
            {
                "service_code": "street-vending",
                "description": f"电话举报占道经营 {w.tag}",
                "address": "赵湾镇集镇",
                "attributes": {"ONGOING": "no"},
                "complainant": {"first_name": "李", "phone": phone},
                "channel": "phone",
            },
        )
        return Target(
            c["id"], "object", w.reader(clerk, f"/api/v1/enforcement/complaints/{c['id']}")
        )

    return w.once("complaint", build)  # type: ignore[no-any-return]


def _open311(w: World) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        phone, email = _phone(), f"{w.tag}@example.cn"
        w.personal.update({phone, email})
        w.markers.update({phone, email})
        r = w.gateway.post(
            "/open311/v2/requests.json",
            data={
                "jurisdiction_id": OWNER,
                "service_code": "illegal-construction",
                "address_string": "赵湾镇街子社区集镇路12号旁",
                "description": f"集镇道路旁有人违法搭建棚屋 {w.tag}",
                "first_name": "小明",
                "last_name": "欧阳",
                "phone": phone,
                "email": email,
                "attribute[ONGOING]": "yes",
            },
        )
        assert r.status_code == 201, f"factory: Open311 request → {r.status_code} {r.text}"
        answer: dict[str, Any] = r.json()[0]
        return answer

    return dict(w.once("open311", build))


def _open311_reader(w: World, request_id: str) -> Snapshot:
    return lambda: w.get(None, f"/open311/v2/requests/{request_id}.json", jurisdiction_id=OWNER)


def service_request(w: World) -> Target:
    rid = _open311(w)["service_request_id"]
    return Target(rid, "object", _open311_reader(w, rid))


def open311_token(w: World) -> Target:
    answer = _open311(w)
    return Target(answer["token"], "object", _open311_reader(w, answer["service_request_id"]))


# ---------------------------------------------------------------------------- personnel
def _admin(w: World) -> str:
    return str(w.once("admin", lambda: w.tok("township_admin", suffix="admin")))


def _person(w: World) -> dict[str, Any]:
    """A member of staff with a post since a past year whose period is final and paid out."""

    def build() -> dict[str, Any]:
        admin = _admin(w)
        sub = f"{w.tag}-staff"
        w.markers.add(sub)
        w.post(
            admin,
            "/api/v1/personnel/people",
            {"sub": sub, "name": "欧阳测验", "status": "contract"},
        )
        for _ in range(20):
            year = random.randint(2001, 2019)
            r = w.gateway.post(
                "/api/v1/personnel/periods",
                json={"year": year},
                headers={**auth(admin), "Idempotency-Key": str(uuid.uuid4())},
            )
            if r.status_code == 201:
                break
            assert r.status_code == 409, r.text
        else:
            raise AssertionError("factory: no free appraisal year between 2001 and 2019")
        assignment = w.post(
            admin,
            "/api/v1/personnel/assignments",
            {"person": sub, "post": "window-clerk", "starts_on": f"{year}-01-01"},
        )
        # the post ends with the year: the person takes no part in other years' distributions
        w.post(
            admin,
            f"/api/v1/personnel/assignments/{assignment['id']}/end",
            {"ends_on": f"{year}-12-31", "reason": w.tag},
            status=200,
        )
        entry = w.post(
            admin,
            "/api/v1/personnel/claims",
            {"person": sub, "rule": "daily-duty", "points": "10", "period": year, "note": w.tag},
        )
        other_admin = w.tok("township_admin", suffix="admin2")
        w.post(
            other_admin,
            f"/api/v1/personnel/entries/{entry['id']}/decisions",
            {"action": "approve", "reason": w.tag},
            status=200,
        )
        for step in ("SCORING", "PUBLIC_NOTICE", "APPEALS", "FINAL"):
            w.post(admin, f"/api/v1/personnel/periods/{year}/transitions", {"to": step}, 200)
        dist = w.post(
            admin,
            f"/api/v1/personnel/periods/{year}/distributions",
            {"kind": "annual_bonus", "pool": "1000.00"},
        )
        return {
            "sub": sub,
            "year": year,
            "assignment": assignment["id"],
            "entry": entry["id"],
            "distribution": dist["id"],
        }

    return dict(w.once("person", build))


def person(w: World) -> Target:
    sub = _person(w)["sub"]
    record = w.reader(_admin(w), f"/api/v1/personnel/people/{sub}")
    points = w.reader(_admin(w), "/api/v1/personnel/points", person=sub, page_size=200)
    return Target(sub, "object", lambda: [record(), points()])


def assignment(w: World) -> Target:
    p = _person(w)
    return Target(
        p["assignment"], "object", w.reader(_admin(w), f"/api/v1/personnel/people/{p['sub']}")
    )


def points_entry(w: World) -> Target:
    eid = _person(w)["entry"]
    return Target(eid, "object", w.reader(_admin(w), f"/api/v1/personnel/entries/{eid}"))


def distribution(w: World) -> Target:
    did = _person(w)["distribution"]
    return Target(did, "object", w.reader(_admin(w), f"/api/v1/personnel/distributions/{did}"))


def period_year(w: World) -> Target:
    year = _person(w)["year"]
    return Target(str(year), "natural", w.reader(_admin(w), f"/api/v1/personnel/periods/{year}"))


def org_unit(w: World) -> Target:
    def build() -> Target:
        admin = _admin(w)
        code = w.tag
        r = w.gateway.post(
            "/api/v1/personnel/org-units",
            json={"code": code, "name_zh": f"专项机构{w.tag}", "name_en": w.tag, "kind": "special"},
            headers={**auth(admin), "Idempotency-Key": str(uuid.uuid4())},
        )
        if r.status_code == 201:

            def dissolve() -> None:  # frees the place under the town's cap of bodies
                w.gateway.post(f"/api/v1/personnel/org-units/{code}/dissolve", headers=auth(admin))

            w.cleanups.append(dissolve)
        else:
            # The town's cap of bodies is reached (e.g. by the API fuzzer of the session): any
            # active body of Zhaowan's that Bailiu has no body of the same code for will do.
            assert r.status_code == 409, f"factory: POST /api/v1/personnel/org-units → {r.text}"
            theirs = {
                u["code"] for u in w.get(w.token(OTHER, "clerk"), "/api/v1/personnel/org-units")
            }
            ours = [u["code"] for u in w.get(admin, "/api/v1/personnel/org-units") if u["active"]]
            mine = [c for c in ours if c not in theirs]
            assert mine, "factory: Zhaowan's bodies are at their cap and all exist in Bailiu too"
            code = mine[0]

        def snapshot() -> Any:
            units = w.get(admin, "/api/v1/personnel/org-units")
            return [u for u in units if u["code"] == code]

        return Target(code, "object", snapshot)

    return w.once("org-unit", build)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- stationed
def _stationed(w: World) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        finance = w.county("finance")
        market = w.county("market-supervision")
        admin = _admin(w)
        fin_person, market_person = f"{w.tag}-fin", f"{w.tag}-mkt"
        w.markers.update({fin_person, market_person})
        for tok, unit, sub in (
            (finance, "finance-office", fin_person),
            (market, "market-office", market_person),
        ):
            w.post(
                tok,
                f"/api/v1/stationed/units/{unit}/staff",
                {"person": sub, "name": "欧阳测验", "township": OWNER},
            )
        line = w.post(
            finance,
            "/api/v1/stationed/units/finance-office/budget-lines",
            {
                "township": OWNER,
                "person": fin_person,
                "year": _today().year,
                "category": "salary",
                "amount": "1000.00",
                "note": w.tag,
            },
        )
        paid = w.post(
            admin,
            f"/api/v1/stationed/budget-lines/{line['id']}/disbursements",
            {"amount": "10.00", "note": w.tag},
        )
        redeployment = w.post(
            market,
            "/api/v1/stationed/units/market-office/redeployments",
            {"person": market_person, "reason": f"县局统一调配 {w.tag}", "township": OWNER},
        )
        # personnel learns of both secondments by event: wait, so that nothing moves later
        for sub in (fin_person, market_person):
            registered = f"/api/v1/personnel/people/{sub}"

            def known(path: str = registered) -> bool:
                return w.gateway.get(path, headers=auth(admin)).status_code == 200

            eventually(known)
        return {
            "person": fin_person,
            "line": line["id"],
            "ledger_entry": paid["id"],
            "redeployment": redeployment["id"],
        }

    return dict(w.once("stationed", build))


def budget_line(w: World) -> Target:
    lid = _stationed(w)["line"]
    return Target(lid, "object", w.reader(_admin(w), f"/api/v1/stationed/budget-lines/{lid}"))


def ledger_entry(w: World) -> Target:
    s = _stationed(w)
    return Target(
        s["ledger_entry"],
        "object",
        w.reader(_admin(w), f"/api/v1/stationed/budget-lines/{s['line']}"),
    )


def redeployment(w: World) -> Target:
    rid = _stationed(w)["redeployment"]
    return Target(rid, "object", w.reader(_admin(w), f"/api/v1/stationed/redeployments/{rid}"))


def stationed_unit(w: World) -> Target:
    """Zhaowan's finance office: its staff, funding, attendance, appraisals and training."""
    _stationed(w)
    admin, unit, today = _admin(w), "/api/v1/stationed/units/finance-office", _today()
    readers = [
        w.reader(admin, f"{unit}/staff"),
        w.reader(admin, f"{unit}/budget-lines"),
        w.reader(admin, f"{unit}/appraisals"),
        w.reader(admin, f"{unit}/training"),
        w.reader(
            admin,
            f"{unit}/attendance-report",
            year=today.year,
            quarter=(today.month - 1) // 3 + 1,
        ),
    ]
    return Target("finance-office", "natural", lambda: [read() for read in readers])


def matrix_function(w: World) -> Target:
    return Target("training", "natural", w.reader(_admin(w), "/api/v1/stationed/matrix"))


# ---------------------------------------------------------------------------- towns
def public_township(w: World) -> Target:
    """A public, town-scoped listing is asked for the caller's own town."""
    return Target(OTHER, "scoped")


def delegated_township(w: World) -> Target:
    """County administration of Zhaowan's delegations: the callers must not touch them."""
    clerk = w.tok("clerk", suffix="clerk-catalogue")
    return Target(
        OWNER,
        "object",
        w.reader(clerk, "/api/v1/catalogue/delegations", township=OWNER, item=ITEM),
    )


Factory = Callable[[World], Target]

FACTORIES: dict[str, Factory] = {
    "application_id": application,
    "receipt_code": receipt,
    "rectification_id": rectification,
    "case_id": case,
    "complaint_id": complaint,
    "inspection_id": inspection,
    "service_request_id": service_request,
    "token": open311_token,
    "sub": person,
    "assignment_id": assignment,
    "entry_id": points_entry,
    "distribution_id": distribution,
    "year": period_year,
    "line_id": budget_line,
    "redeployment_id": redeployment,
    "unit": stationed_unit,
    "function": matrix_function,
}
"""Path parameter name → factory, when the name means the same thing on every path."""

PATH_FACTORIES: dict[tuple[str, str], Factory] = {
    ("/api/v1/stationed/ledger/", "entry_id"): ledger_entry,  # a funding ledger entry
    ("/api/v1/personnel/org-units/", "code"): org_unit,
    ("/public/v1/townships/", "township"): public_township,
    ("/api/v1/catalogue/delegations/", "township"): delegated_township,
}
"""(path prefix, parameter) → factory, for names that mean different things on different
paths (checked before ``FACTORIES``)."""

GLOBAL_PARAMETERS: dict[tuple[str, str], tuple[str, str]] = {
    # County catalogue item codes: one catalogue for the whole county, public by design.
    ("", "item_code"): (ITEM, "county-wide catalogue item"),
    # Points rules are county-wide (set by the county admin), not a town's object.
    ("/api/v1/personnel/rules/", "code"): ("daily-duty", "county-wide points rule"),
    # Open311 service codes are the county's list of request types (GeoReport discovery).
    ("/open311/", "service_code"): ("illegal-construction", "county-wide Open311 service"),
    # The Open311 response format (json/xml), not an object.
    ("/open311/", "fmt"): ("json", "response format"),
    # The verb of a rectification step (an enumeration), not an object.
    ("/api/v1/rectifications/", "action"): ("return-visit", "step name (enumeration)"),
}
"""(path prefix, parameter) → (value, reason): parameters that name no tenant object."""


def resolve(path: str, param: str) -> Factory | tuple[str, str] | None:
    """The factory, or the global (value, reason), of ``param`` on ``path``; None if neither."""
    for (prefix, name), factory in PATH_FACTORIES.items():
        if name == param and path.startswith(prefix):
            return factory
    for (prefix, name), global_value in GLOBAL_PARAMETERS.items():
        if name == param and path.startswith(prefix):
            return global_value
    return FACTORIES.get(param)


def path_params(path: str) -> list[str]:
    """The names of the ``{parameters}`` of a path template, in order."""
    return re.findall(r"{([^}]+)}", path)
