"""The public catalogue and service guides, and the county's catalogue administration."""

from __future__ import annotations

import random

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth
from tests.e2e.permits_support import headers, intake, ok

pytestmark = pytest.mark.e2e


def test_public_catalogue_and_guides_need_no_token(gateway: httpx.Client) -> None:
    town = ok(gateway.get("/public/v1/townships/zhaowan/catalogue"))
    items = town["items"]
    assert len(items) >= 30
    assert len({i["department"] for i in items}) >= 8
    assert {"public-security", "social-security", "medical-insurance", "civil-affairs"} <= {
        i["department"] for i in items
    }
    village = ok(
        gateway.get("/public/v1/townships/zhaowan/catalogue", params={"village": "zw-shuanghe"})
    )["items"]
    assert village and {i["level"] for i in village} == {"village"}
    other = gateway.get("/public/v1/townships/zhaowan/catalogue", params={"village": "bl-x"})
    assert other.status_code == 422
    assert len(village) < len(items)

    guide = ok(gateway.get("/public/v1/townships/zhaowan/catalogue/QT-00101-001"))
    assert guide["name_zh"] == "出生登记"
    assert guide["delegated_level"] == "township"
    assert guide["department_name_zh"]
    assert any(m["required"] for m in guide["materials"])
    assert any(m["condition_zh"] for m in guide["materials"] if not m["required"])
    assert len(guide["steps"]) >= 2
    assert guide["statutory_limit"] == {"amount": 5, "unit": "working"}
    assert guide["legal_basis"][0].startswith("《")
    licence = ok(gateway.get("/public/v1/items/XK-00601-001"))
    assert licence["statutory_extension"] == {"amount": 10, "unit": "working"}
    assert gateway.get("/public/v1/items/XK-09990-001").status_code == 404
    assert gateway.get("/public/v1/items/not-a-code").status_code == 422
    assert gateway.get("/public/v1/townships/nowhere/catalogue").status_code == 404

    bundle = ok(gateway.get("/public/v1/townships/bailiu/catalogue"))  # both pilot towns are seeded
    assert len(bundle["items"]) >= 30


def _item_body(department: str = "market-supervision") -> dict[str, object]:
    return {
        "name": {"zh": "测试许可事项", "en": "Test licence"},
        "type": "licensing",
        "department": department,
        "legal_basis": ["《中华人民共和国行政许可法》第十二条"],
        "statutory_limit": {"amount": 20, "unit": "working"},
        "promised_limit": {"amount": 10, "unit": "working"},
        "statutory_extension": {"amount": 10, "unit": "working"},
        "fee": "0.00",
        "materials": [
            {
                "code": "application-form",
                "name": {"zh": "申请表", "en": "Application form"},
                "form": "original",
            }
        ],
        "steps": [{"zh": "受理", "en": "Intake"}, {"zh": "审查", "en": "Review"}],
        "visits": 1,
        "level": "township",
        "channels": ["window", "agent"],
    }


def test_county_admin_manages_items_and_delegations(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    admin = token(None, "county_admin")
    clerk = token("bailiu", "clerk")
    code = f"XK-09{random.randint(100, 999)}-001"
    url = f"/api/v1/catalogue/items/{code}"

    assert gateway.put(url, json=_item_body(), headers=auth(clerk)).status_code == 403
    bad = gateway.put(url, json={**_item_body(), "type": "public_service"}, headers=auth(admin))
    assert bad.status_code == 422  # an XK code is a licensing item
    unknown_dept = gateway.put(url, json=_item_body("no-such-dept"), headers=auth(admin))
    assert unknown_dept.status_code == 422
    assert unknown_dept.json()["errors"][0]["field"] == "department"
    created = ok(gateway.put(url, json=_item_body(), headers=auth(admin)))
    assert created["code"] == code and created["promised_limit"]["amount"] == 10

    catalogue = ok(
        gateway.get(
            "/api/v1/catalogue/items",
            params={"department": "market-supervision", "type": "licensing"},
            headers=auth(admin),
        )
    )
    assert code in {i["code"] for i in catalogue}  # listed before any delegation
    assert {(i["department"], i["type"]) for i in catalogue} == {
        ("market-supervision", "licensing")
    }

    body = {"applicant": {"name": "钱七"}, "item_code": code}
    refused = gateway.post("/api/v1/applications", json=body, headers=headers(clerk))
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/item-not-delegated")

    deleg = f"/api/v1/catalogue/delegations/bailiu/{code}"
    village = gateway.put(
        deleg, json={"level": "village", "document_no": "旬政办发〔2026〕9号"}, headers=auth(admin)
    )
    assert village.status_code == 422  # not offered in village rooms
    assert village.json()["errors"][0]["field"] == "level"
    nowhere = gateway.put(
        f"/api/v1/catalogue/delegations/atlantis/{code}",
        json={"level": "township", "document_no": "x"},
        headers=auth(admin),
    )
    assert nowhere.status_code == 422
    d = ok(
        gateway.put(
            deleg,
            json={
                "level": "township",
                "document_no": "旬政办发〔2026〕9号",
                "document_title": "《关于下放部分市级政务服务事项的通知》",
            },
            headers=auth(admin),
        )
    )
    assert (d["township"], d["level"], d["source"]) == ("bailiu", "township", "admin")
    listed = ok(
        gateway.get("/api/v1/catalogue/delegations", params={"item": code}, headers=auth(admin))
    )
    assert [(x["township"], x["document_no"]) for x in listed] == [
        ("bailiu", "旬政办发〔2026〕9号")
    ]
    assert any(
        i["code"] == code for i in ok(gateway.get("/public/v1/townships/bailiu/catalogue"))["items"]
    )
    app = intake(gateway, clerk, item=code)["applications"][0]
    assert app["department"] == "market-supervision"
    # zhaowan was not given the item
    zw = gateway.post("/api/v1/applications", json=body, headers=headers(token("zhaowan", "clerk")))
    assert zw.status_code == 422

    assert gateway.delete(deleg, headers=auth(clerk)).status_code == 403
    assert gateway.delete(deleg, headers=auth(admin)).status_code == 204
    assert gateway.delete(deleg, headers=auth(admin)).status_code == 404
    again = gateway.post("/api/v1/applications", json=body, headers=headers(clerk))
    assert again.status_code == 422
    # the application taken before the withdrawal carries on
    assert ok(gateway.get(f"/api/v1/applications/{app['id']}", headers=auth(clerk)))["state"] == (
        "SUBMITTED"
    )
