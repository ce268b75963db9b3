"""Schemathesis on the enforcement and Open311 operations: no 5xx, documented responses."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.e2e.conftest import TokenFactory, auth
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_enforcement_operations_never_5xx(system: LocalStack, token: TokenFactory) -> None:
    schema = schemathesis.openapi.from_url(f"{system.gateway_url}/openapi.json").include(
        tag_regex="^(enforcement|open311)$"
    )
    tok = token(
        "zhaowan",
        "officer",
        "legal_reviewer",
        "township_admin",
        "clerk",
        sub="fuzz-enforcement",
        extra={"certificate": "FZ-0002"},
    )
    headers = {**auth(tok), "Idempotency-Key": ""}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            headers["Idempotency-Key"] = str(uuid.uuid4())
            # Schema-valid but semantically refused input (an unknown service code, an item
            # not entrusted to the town, a fine outside the band) is a correct 422.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except Exception as e:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(e)[:800]}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
