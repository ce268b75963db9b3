"""Open311 GeoReport v2: a complaint from a civic app becomes a case, a served penalty and a
published decision, and its Open311 status follows along; no personal data comes back."""

from __future__ import annotations

import uuid
from xml.etree import ElementTree as ET

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth
from tests.e2e.test_enforcement_cases import (
    API,
    STATUTORY_ITEM,
    act,
    make_team,
    to_notice,
)

pytestmark = pytest.mark.e2e

O311 = "/open311/v2"
PHONE = "13987654321"
EMAIL = "wang.xiaoming@example.cn"


def _request(gateway: httpx.Client, request_id: str) -> dict[str, object]:
    r = gateway.get(f"{O311}/requests/{request_id}.json", params={"jurisdiction_id": "zhaowan"})
    assert r.status_code == 200, r.text
    assert PHONE not in r.text and EMAIL not in r.text and "王小明" not in r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    item: dict[str, object] = body[0]
    return item


def test_discovery_services_and_definitions(gateway: httpx.Client) -> None:
    d = gateway.get(f"{O311}/discovery.json")
    assert d.status_code == 200, d.text
    endpoint = d.json()["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/")
    assert endpoint["formats"] == ["text/xml", "application/json"]

    services = gateway.get(f"{O311}/services.json", params={"jurisdiction_id": "zhaowan"})
    assert services.status_code == 200, services.text
    codes = {s["service_code"]: s for s in services.json()}
    assert {"illegal-construction", "street-vending", "pollution"} <= set(codes)
    s = codes["pollution"]
    assert s["type"] == "realtime" and s["metadata"] is True and s["group"]
    assert set(s) == {
        "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
    }  # fmt: skip

    definition = gateway.get(
        f"{O311}/services/pollution.json", params={"jurisdiction_id": "bailiu"}
    )
    assert definition.status_code == 200, definition.text
    attrs = {a["code"]: a for a in definition.json()["attributes"]}
    assert attrs["KIND"]["datatype"] == "multivaluelist" and attrs["KIND"]["required"]
    assert {v["key"] for v in attrs["KIND"]["values"]} == {"smoke", "water", "noise", "waste"}
    assert attrs["OCCURRED_AT"]["datatype"] == "datetime"
    assert [a["order"] for a in definition.json()["attributes"]] == [1, 2, 3]

    missing = gateway.get(f"{O311}/services/no-such.json", params={"jurisdiction_id": "zhaowan"})
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404


def test_errors_use_the_spec_format(gateway: httpx.Client) -> None:
    no_town = gateway.get(f"{O311}/services.json")
    assert no_town.status_code == 400
    assert "jurisdiction_id" in no_town.json()[0]["description"]
    unknown = gateway.get(f"{O311}/services.json", params={"jurisdiction_id": "nowhere"})
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    yaml_ = gateway.get(f"{O311}/services.yaml", params={"jurisdiction_id": "zhaowan"})
    assert yaml_.status_code == 400 and ".xml or .json" in yaml_.json()[0]["description"]
    # an error asked for in XML is told in XML
    xml = gateway.get(f"{O311}/services.xml", params={"jurisdiction_id": "nowhere"})
    assert xml.status_code == 404 and xml.headers["content-type"].startswith("text/xml")
    error = ET.fromstring(xml.content).find("error")
    assert error is not None and error.findtext("code") == "404"
    assert "nowhere" in (error.findtext("description") or "")
    no_code = gateway.post(f"{O311}/requests.json", data={"jurisdiction_id": "zhaowan"})
    assert no_code.status_code == 400
    assert no_code.json()[0]["description"] == "service_code was not provided"
    no_place = gateway.post(
        f"{O311}/requests.json",
        data={"jurisdiction_id": "zhaowan", "service_code": "other", "description": "x"},
    )
    assert no_place.status_code == 400, no_place.text
    assert "address_string" in no_place.json()[0]["description"]
    bad_attr = gateway.post(
        f"{O311}/requests.json",
        data={"jurisdiction_id": "zhaowan", "service_code": "pollution", "lat": "32.8",
              "long": "109.3", "attribute[ONGOING]": "yes", "attribute[KIND][]": "fire"},
    )  # fmt: skip
    assert bad_attr.status_code == 400, bad_attr.text
    assert "KIND" in bad_attr.json()[0]["description"]
    nothing = gateway.get(f"{O311}/nothing-here.json")
    assert nothing.status_code == 404 and nothing.json()[0]["code"] == 404


def test_json_body_and_multivalue_attributes_are_accepted(gateway: httpx.Client) -> None:
    r = gateway.post(
        f"{O311}/requests.json",
        json={
            "jurisdiction_id": "bailiu",
            "service_code": "pollution",
            "address_string": "白柳镇白柳村三组",
            "description": "夜间焚烧垃圾",
            "attribute": {"ONGOING": "yes", "KIND": ["smoke", "waste"]},
        },
    )
    assert r.status_code == 201, r.text
    answer = r.json()[0]
    assert answer["service_request_id"] and answer["token"]
    tok = gateway.get(f"{O311}/tokens/{answer['token']}.json", params={"jurisdiction_id": "bailiu"})
    assert tok.status_code == 200, tok.text
    assert tok.json()[0]["service_request_id"] == answer["service_request_id"]
    other_town = gateway.get(
        f"{O311}/requests/{answer['service_request_id']}.json",
        params={"jurisdiction_id": "zhaowan"},
    )
    assert other_town.status_code == 404


def test_open311_complaint_becomes_a_published_penalty_and_status_follows(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    marker = uuid.uuid4().hex[:8]
    filed = gateway.post(
        f"{O311}/requests.json",
        data={
            "jurisdiction_id": "zhaowan",
            "service_code": "illegal-construction",
            "lat": "32.8321",
            "long": "109.3654",
            "address_string": "赵湾镇街子社区集镇路12号旁",
            "description": f"集镇道路旁有人违法搭建棚屋 {marker}",
            "first_name": "小明",
            "last_name": "王",
            "phone": PHONE,
            "email": EMAIL,
            "device_id": "dev-1",
            "attribute[ONGOING]": "yes",
            "attribute[OCCURRED_AT]": "2026-11-20T08:00:00+08:00",
        },
    )
    assert filed.status_code == 201, filed.text
    answer = filed.json()[0]
    request_id = answer["service_request_id"]
    assert answer["service_notice"]

    received = _request(gateway, request_id)
    assert received["status"] == "open"
    assert received["service_code"] == "illegal-construction"
    assert received["lat"] == pytest.approx(32.8321)
    assert received["expected_datetime"]  # the 7-working-day acceptance deadline
    assert received["agency_responsible"] == "赵湾镇综合行政执法队"
    listed = gateway.get(
        f"{O311}/requests.json",
        params={"jurisdiction_id": "zhaowan", "service_request_id": request_id},
    ).json()
    assert [x["service_request_id"] for x in listed] == [request_id]
    recent = gateway.get(
        f"{O311}/requests.json",
        params={"jurisdiction_id": "zhaowan", "service_code": "illegal-construction",
                "status": "open"},
    ).json()  # fmt: skip
    assert request_id in {x["service_request_id"] for x in recent}

    team = make_team(gateway, token)
    staff = gateway.get(f"{API}/complaints/{request_id}", headers=auth(team.a_tok))
    assert staff.status_code == 200, staff.text
    assert staff.json()["complainant"]["phone"] == PHONE  # staff see who complained
    assert staff.json()["real_name"] is True
    hidden = gateway.get(f"{API}/complaints/{request_id}", headers=auth(make_team(
        gateway, token, "bailiu").a_tok))  # fmt: skip
    assert hidden.status_code == 404

    accepted = gateway.post(
        f"{API}/complaints/{request_id}/decision",
        json={"accept": True, "item_code": STATUTORY_ITEM, "feedback": "已受理，将依法调查处理"},
        headers=auth(team.a_tok),
    )
    assert accepted.status_code == 200, accepted.text
    complaint = accepted.json()
    assert complaint["state"] == "ACCEPTED" and complaint["case_id"]
    assert complaint["feedback"][0]["text"] == "已受理，将依法调查处理"
    case_id = complaint["case_id"]
    again = gateway.post(
        f"{API}/complaints/{request_id}/decision",
        json={"accept": False, "reason": "重复"},
        headers=auth(team.a_tok),
    )
    assert again.status_code == 409
    clue = _request(gateway, request_id)
    assert clue["status"] == "open" and "线索" in str(clue["status_notes"])

    to_notice(gateway, team, case_id)
    assert "权利" in str(_request(gateway, request_id)["status_notes"])
    act(gateway, team.a_tok, case_id, {"action": "statement", "waive_hearing": True})
    act(
        gateway,
        team.head,
        case_id,
        {"action": "decide", "kind": "penalty", "fine": "800.00", "band": "general"},
    )
    served = act(gateway, team.a_tok, case_id, {"action": "serve", "method": "direct"})
    assert served["state"] == "SERVED" and served["complaint_id"] == request_id
    assert "送达" in str(_request(gateway, request_id)["status_notes"])
    act(gateway, team.a_tok, case_id, {"action": "publish"})

    public = gateway.get("/public/v1/townships/zhaowan/enforcement/decisions",
                         params={"page_size": 200})  # fmt: skip
    decisions = public.json()["decisions"]
    while public.json()["next_cursor"]:
        public = gateway.get(
            "/public/v1/townships/zhaowan/enforcement/decisions",
            params={"page_size": 200, "cursor": public.json()["next_cursor"]},
        )
        decisions += public.json()["decisions"]
    mine = [d for d in decisions if d["case_no"] == served["case_no"]]
    assert len(mine) == 1
    assert mine[0]["fine"] == "800.00" and mine[0]["party"] == "王**"
    assert mine[0]["legal_basis"].startswith("《")
    assert "王建国" not in public.text and PHONE not in public.text

    act(gateway, team.a_tok, case_id, {"action": "pay", "amount": "800.00"})
    act(gateway, team.a_tok, case_id, {"action": "close"})
    closed = _request(gateway, request_id)
    assert closed["status"] == "closed"
    told = gateway.get(f"{API}/complaints/{request_id}", headers=auth(team.a_tok)).json()
    assert len(told["feedback"]) == 2 and served["case_no"] in told["feedback"][1]["text"]
    closed_list = gateway.get(
        f"{O311}/requests.json", params={"jurisdiction_id": "zhaowan", "status": "closed"}
    ).json()
    assert request_id in {x["service_request_id"] for x in closed_list}


def test_staff_entered_complaint_rejected_with_feedback(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    team = make_team(gateway, token)
    clerk = token("zhaowan", "clerk")
    r = gateway.post(
        f"{API}/complaints",
        json={"service_code": "street-vending", "description": "电话举报占道经营",
              "address": "赵湾镇集镇", "attributes": {"ONGOING": "no"},
              "complainant": {"first_name": "李", "phone": "13700001111"}, "channel": "phone"},
        headers=auth(clerk),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    queue = gateway.get(
        f"{API}/complaints", params={"state": "RECEIVED", "page_size": 200}, headers=auth(clerk)
    )
    assert queue.status_code == 200, queue.text
    assert cid in {c["id"] for c in queue.json()["complaints"]}
    assert all(c["township_id"] == "zhaowan" for c in queue.json()["complaints"])
    assert r.json()["channel"] == "phone" and r.json()["acceptance_due"]
    no_reason = gateway.post(
        f"{API}/complaints/{cid}/decision", json={"accept": False}, headers=auth(team.a_tok)
    )
    assert no_reason.status_code == 422
    rejected = gateway.post(
        f"{API}/complaints/{cid}/decision",
        json={"accept": False, "reason": "已由市场监管所处理"},
        headers=auth(team.a_tok),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"] == "REJECTED"
    assert "已由市场监管所处理" in rejected.json()["feedback"][0]["text"]
    public = _request(gateway, cid)
    assert public["status"] == "closed" and "不予受理" in str(public["status_notes"])


def test_the_spec_s_required_xml_format(gateway: httpx.Client) -> None:
    """GeoReport v2: XML is required (JSON optional): every resource answers in .xml too."""
    d = gateway.get(f"{O311}/discovery.xml")
    assert d.status_code == 200 and d.headers["content-type"].startswith("text/xml")
    assert d.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    discovery = ET.fromstring(d.content)
    assert discovery.tag == "discovery"
    formats = [f.text for f in discovery.iterfind("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]

    town = {"jurisdiction_id": "bailiu"}
    services = ET.fromstring(gateway.get(f"{O311}/services.xml", params=town).content)
    assert services.tag == "services"
    pollution = next(
        s for s in services.iterfind("service") if s.findtext("service_code") == "pollution"
    )
    assert pollution.findtext("metadata") == "true" and pollution.findtext("type") == "realtime"
    definition = ET.fromstring(gateway.get(f"{O311}/services/pollution.xml", params=town).content)
    assert definition.tag == "service_definition"
    kind = next(
        a for a in definition.iterfind("attributes/attribute") if a.findtext("code") == "KIND"
    )
    assert kind.findtext("required") == "true"
    assert {v.findtext("key") for v in kind.iterfind("values/value")} == {
        "smoke", "water", "noise", "waste",
    }  # fmt: skip

    # the spec's POST is form-encoded; the answer comes in the format the path names
    filed = gateway.post(
        f"{O311}/requests.xml",
        data={
            **town,
            "service_code": "pollution",
            "address_string": "白柳镇白柳村三组",
            "description": "夜间焚烧秸秆",
            "attribute[ONGOING]": "yes",
            "attribute[KIND][]": "smoke",
        },
    )
    assert filed.status_code == 201, filed.text
    created = ET.fromstring(filed.content)
    assert created.tag == "service_requests"
    request_id = created.findtext("request/service_request_id")
    token = created.findtext("request/token")
    assert request_id and token
    one = ET.fromstring(gateway.get(f"{O311}/requests/{request_id}.xml", params=town).content)
    assert one.findtext("request/service_request_id") == request_id
    assert one.findtext("request/status") == "open"
    assert one.findtext("request/service_code") == "pollution"
    by_token = ET.fromstring(gateway.get(f"{O311}/tokens/{token}.xml", params=town).content)
    assert by_token.findtext("request/service_request_id") == request_id
    listed = ET.fromstring(
        gateway.get(
            f"{O311}/requests.xml", params={**town, "service_request_id": request_id}
        ).content
    )
    assert [r.findtext("service_request_id") for r in listed.iterfind("request")] == [request_id]
