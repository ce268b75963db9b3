"""The committed OpenAPI document is what the routes generate, and what the gateway serves."""

from __future__ import annotations

import json

from gateway_testkit import get, make_settings

from township_gateway import openapi

JWKS = "http://127.0.0.1:9/jwks"  # never fetched: these requests carry no token


def test_the_committed_document_matches_the_routes() -> None:
    assert openapi.SCHEMA_FILE.read_bytes() == openapi.generate(), "run make openapi"


async def test_the_gateway_serves_it_with_its_own_version() -> None:
    response = await get(make_settings(version="2.3.4", jwt_jwks_url=JWKS), None, "/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["info"]["version"] == "2.3.4"
    committed = json.loads(openapi.SCHEMA_FILE.read_bytes())
    assert document["paths"] == committed["paths"]
    assert "/api/v1/applications/{application_id}" in document["paths"]
    for page in ("/docs", "/redoc"):
        html = await get(make_settings(jwt_jwks_url=JWKS), None, page)
        assert html.status_code == 200 and "/openapi.json" in html.text
