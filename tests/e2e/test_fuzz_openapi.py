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
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from tests.e2e.conftest import TokenFactory, auth
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 15

# Business rules may refuse schema-valid input with a 422 (e.g. "exactly one of bundle or
# item_code"), so positive_data_acceptance is not among them; everything about the
# response itself is.
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]


@pytest.fixture(scope="session")
def fuzz_tokens(token: TokenFactory) -> list[str]:
    """Tokens holding every township role, one per pilot town."""
    roles = ("clerk", "approver", "agent", "officer", "legal_reviewer", "township_admin")
    return [
        token(town, *roles, sub=f"fuzz-{town}", certificate="FZ-0001")
        for town in ("zhaowan", "bailiu")
    ]


def test_no_5xx_and_responses_match_the_schema(system: LocalStack, fuzz_tokens: list[str]) -> None:
    """Every operation of /openapi.json, MAX_EXAMPLES generated cases, both towns' tokens."""
    schema = schemathesis.openapi.from_url(f"{system.gateway_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            for tok in fuzz_tokens:
                case.call_and_validate(
                    headers={**auth(tok), "Idempotency-Key": str(uuid.uuid4())},
                    checks=CHECKS,
                    excluded_checks=[openapi_checks.positive_data_acceptance],
                )

        try:
            run()
        except (Exception, BaseExceptionGroup) as e:  # collect every failure, fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {e}"[:2000])
    print(f"\nfuzzed {operations} operations x {MAX_EXAMPLES} cases x 2 towns")
    assert operations > 10
    assert not failures, "\n\n".join(failures)


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


def test_evidence_size_beyond_int64_is_422_not_500(
    gateway: httpx.Client, token: TokenFactory
) -> None:
    """Found by the tenant matrix's generated bodies: 10**19 overflowed the proto's int64."""
    tok = token("zhaowan", "officer", "township_admin", certificate="FZ-0002")
    r = gateway.post(
        f"/api/v1/enforcement/inspections/{uuid.uuid4()}/completion",
        json={
            "findings": [
                {
                    "text": "x",
                    "evidence": [{"name": "photo", "sha256": "0" * 64, "size": 10**19}],
                }
            ]
        },
        headers=auth(tok),
    )
    assert r.status_code == 422, r.text
    assert any(e["field"].endswith("size") for e in r.json()["errors"])
