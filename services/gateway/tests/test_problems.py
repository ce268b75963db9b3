"""How gRPC statuses of the services become HTTP problems (pure mapping)."""

from __future__ import annotations

import grpc
import pytest
from grpc import aio

from township_gateway.problems import from_rpc_error
from township_platform.errors import ERROR_FIELD_KEY, ERROR_RULE_KEY, ERROR_TYPE_KEY


def _error(
    code: grpc.StatusCode, details: str = "", trailing: tuple[tuple[str, str], ...] = ()
) -> aio.AioRpcError:
    return aio.AioRpcError(
        code, aio.Metadata(), aio.Metadata(*trailing), details=details, debug_error_string=None
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.UNAVAILABLE, 503),
        # a service shutting down cancels the calls it had not started: it went away
        (grpc.StatusCode.CANCELLED, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 502),
        (grpc.StatusCode.UNKNOWN, 502),
    ],
)
def test_status_mapping(code: grpc.StatusCode, status: int) -> None:
    problem = from_rpc_error(_error(code, "secret internals"))
    assert problem.status == status
    if status >= 500:
        assert "secret internals" not in problem.detail  # no service internals leak
    if status == 503:
        assert problem.headers == {"Retry-After": "1"}


def test_field_and_rule_travel_from_the_service() -> None:
    problem = from_rpc_error(
        _error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "not a valid resident ID number",
            (
                (ERROR_TYPE_KEY, "validation-error"),
                (ERROR_FIELD_KEY, "applicant.id_number"),
                (ERROR_RULE_KEY, "GB 11643 check digit"),
            ),
        )
    )
    assert problem.status == 422
    assert problem.errors == [
        {
            "field": "applicant.id_number",
            "rule": "GB 11643 check digit",
            "message": "not a valid resident ID number",
        }
    ]
