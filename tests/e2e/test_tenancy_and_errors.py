"""Tenancy (404, never another town's data), authentication (401) and validation (422)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.conftest import TokenFactory, auth, eventually, newborn_body

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def zhaowan_intake(gateway: httpx.Client, token: TokenFactory) -> dict[str, str]:
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    r = gateway.post("/api/v1/applications", json=newborn_body(), headers=auth(tok))
    assert r.status_code == 201, r.text
    eventually(
        lambda: (
            gateway.get(
                "/api/v1/personnel/points", params={"person": clerk}, headers=auth(tok)
            ).status_code
            == 200
        )
    )
    return {"clerk": clerk, "app_id": r.json()["applications"][0]["id"], "token": tok}


def test_other_town_cannot_read_application_or_points(
    gateway: httpx.Client, token: TokenFactory, zhaowan_intake: dict[str, str]
) -> None:
    bailiu = token("bailiu", "clerk", "approver", sub="clerk-bl-01")
    r = gateway.get(f"/api/v1/applications/{zhaowan_intake['app_id']}", headers=auth(bailiu))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "zhaowan" not in r.text
    p = gateway.get(
        "/api/v1/personnel/points", params={"person": zhaowan_intake["clerk"]}, headers=auth(bailiu)
    )
    assert p.status_code == 404
    # the owner still sees both
    own = gateway.get(
        f"/api/v1/applications/{zhaowan_intake['app_id']}", headers=auth(zhaowan_intake["token"])
    )
    assert own.status_code == 200


def test_unknown_application_is_404_like_another_towns(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    tok = token("zhaowan", "clerk")
    r = gateway.get(f"/api/v1/applications/{uuid.uuid4()}", headers=auth(tok))
    assert r.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_requests_without_a_valid_token_get_401_and_write_nothing(
    gateway: httpx.Client, token: TokenFactory, headers: dict[str, str]
) -> None:
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    r = gateway.post("/api/v1/applications", json=newborn_body(), headers=headers)
    assert r.status_code == 401
    assert r.json()["status"] == 401
    assert gateway.get(f"/api/v1/applications/{uuid.uuid4()}", headers=headers).status_code == 401
    tok = token("zhaowan", "clerk", sub=clerk)
    assert (
        gateway.get(
            "/api/v1/personnel/points", params={"person": clerk}, headers=auth(tok)
        ).status_code
        == 404
    )


def test_malformed_body_gets_422_naming_the_field_and_writes_nothing(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    key = f"k-{uuid.uuid4()}"
    bad = newborn_body()
    bad["applicant"]["phone"] = "12"  # type: ignore[index]
    r = gateway.post(
        "/api/v1/applications", json=bad, headers={**auth(tok), "Idempotency-Key": key}
    )
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"].endswith("/validation-error")
    assert [e["field"] for e in problem["errors"]] == ["applicant.phone"]

    missing = gateway.post("/api/v1/applications", json={"bundle": "newborn"}, headers=auth(tok))
    assert missing.status_code == 422
    assert "applicant" in {e["field"] for e in missing.json()["errors"]}

    unknown_bundle = newborn_body()
    unknown_bundle["bundle"] = "no-such-bundle"
    u = gateway.post("/api/v1/applications", json=unknown_bundle, headers=auth(tok))
    assert u.status_code == 422
    assert u.json()["errors"][0]["field"] == "bundle"

    not_json = gateway.post(
        "/api/v1/applications",
        content=b"{not json",
        headers={**auth(tok), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422

    # nothing was written: the clerk has no ledger, and the key is still free
    assert (
        gateway.get(
            "/api/v1/personnel/points", params={"person": clerk}, headers=auth(tok)
        ).status_code
        == 404
    )
    ok = gateway.post(
        "/api/v1/applications", json=newborn_body(), headers={**auth(tok), "Idempotency-Key": key}
    )
    assert ok.status_code == 201


def test_wrong_role_is_403(gateway: httpx.Client, token: TokenFactory) -> None:
    auditor = token("zhaowan", "auditor")
    r = gateway.post("/api/v1/applications", json=newborn_body(), headers=auth(auditor))
    assert r.status_code == 403


def test_public_lookup_of_unknown_receipt_is_404(gateway: httpx.Client) -> None:
    assert gateway.get("/public/v1/applications/ZW261127ABCDEFGH").status_code == 404
    assert gateway.get("/public/v1/applications/bad code").status_code == 422


def test_health_and_openapi(gateway: httpx.Client) -> None:
    assert gateway.get("/healthz").json()["status"] == "ok"
    ready = gateway.get("/readyz")
    assert ready.status_code == 200
    assert all(ready.json()["services"].values())
    spec = gateway.get("/openapi.json").json()
    assert "/api/v1/applications" in spec["paths"]
    assert "Problem" in spec["components"]["schemas"]


def test_resident_id_with_a_bad_checksum_is_422_naming_the_field(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    from township_platform.pii import make_resident_id

    good = make_resident_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    body = newborn_body()
    body["applicant"]["id_number"] = bad  # type: ignore[index]
    r = gateway.post("/api/v1/applications", json=body, headers=auth(tok))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "applicant.id_number"
    assert "GB 11643" in r.json()["errors"][0]["rule"]
    body["applicant"]["id_number"] = good  # type: ignore[index]
    ok = gateway.post("/api/v1/applications", json=body, headers=auth(tok))
    assert ok.status_code == 201
    public = gateway.get(f"/public/v1/applications/{ok.json()['receipt_code']}")
    assert good not in public.text
