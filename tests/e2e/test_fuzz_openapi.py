"""Schemathesis against the gateway's own OpenAPI document, with valid tokens for two towns.

Bounded: a fixed number of generated cases per operation. No response may be a 5xx, and
every response must conform to the documented schema (status code, content type, body).
Failing cases found earlier are kept below as explicit regression tests.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from township_testing.stack import LocalStack

from tests.e2e.conftest import TokenFactory, auth

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 15


@pytest.fixture(scope="session")
def api_schema(system: LocalStack) -> Any:
    """The live OpenAPI document of the running gateway."""
    return schemathesis.openapi.from_url(f"{system.gateway_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="session", params=["zhaowan", "bailiu"])
def fuzz_token(request: pytest.FixtureRequest, token: TokenFactory) -> str:
    """A token holding every township role, for each pilot town."""
    roles = ("clerk", "approver", "agent", "officer", "legal_reviewer", "township_admin")
    return token(request.param, *roles, sub=f"fuzz-{request.param}", certificate="FZ-0001")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_5xx_and_responses_match_the_schema(case: Any, fuzz_token: str) -> None:
    case.call_and_validate(headers={**auth(fuzz_token), "Idempotency-Key": str(uuid.uuid4())})


# Regression cases found by fuzzing ------------------------------------------------------


def test_non_object_json_body_is_422_not_500(gateway: httpx.Client, token: TokenFactory) -> None:
    tok = token("zhaowan", "clerk")
    for body in (b"[]", b"null", b"123", b'"x"', b'{"bundle": {"deep": [[[[]]]]}}'):
        r = gateway.post(
            "/api/v1/applications",
            content=body,
            headers={**auth(tok), "Content-Type": "application/json"},
        )
        assert r.status_code == 422, (body, r.text)


def test_oversized_body_is_413(gateway: httpx.Client, token: TokenFactory) -> None:
    tok = token("zhaowan", "clerk")
    r = gateway.post(
        "/api/v1/applications",
        content=b'{"x": "' + b"a" * 400_000 + b'"}',
        headers={**auth(tok), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
