"""RFC 9457 problem+json errors, and the one place gRPC status codes become HTTP."""

from __future__ import annotations

from typing import Any

import grpc
import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from township_platform.errors import ERROR_FIELD_KEY, ERROR_RULE_KEY, ERROR_TYPE_KEY

PROBLEM_BASE = "https://township.example/problems/"

_GRPC_TO_HTTP: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.INVALID_ARGUMENT: (422, "validation-error"),
    grpc.StatusCode.NOT_FOUND: (404, "not-found"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthenticated"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "conflict"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "already-exists"),
    grpc.StatusCode.ABORTED: (409, "conflict"),
    grpc.StatusCode.OUT_OF_RANGE: (422, "validation-error"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "too-many-requests"),
    grpc.StatusCode.UNAVAILABLE: (503, "service-unavailable"),
    # The gateway never cancels its own calls (a deadline is DEADLINE_EXCEEDED), so a
    # CANCELLED comes from the service: grpc.aio cancels calls it received but had not yet
    # handed to a handler when it shuts down (grpc/grpc#41785). The service went away.
    grpc.StatusCode.CANCELLED: (503, "service-unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "timeout"),
}

_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class Problem(Exception):
    """An HTTP error rendered as problem+json."""

    def __init__(
        self,
        status: int,
        type_: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.type = type_
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(problem: Problem, instance: str = "") -> Response:
    """Render a Problem."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.type,
        "title": _TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    if problem.errors:
        body["errors"] = problem.errors
    return Response(
        orjson.dumps(body),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=problem.headers,
    )


def from_rpc_error(error: grpc.aio.AioRpcError) -> Problem:
    """Map a gRPC error (with our trailing metadata) to a Problem."""
    code = error.code()
    status, default_type = _GRPC_TO_HTTP.get(code, (502, "upstream-error"))
    raw: Any = error.trailing_metadata() or ()
    trailing = {k: v for k, v in raw if isinstance(v, str)}
    type_ = trailing.get(ERROR_TYPE_KEY, default_type)
    detail = error.details() or _TITLES.get(status, "Error")
    if status >= 500:
        detail = (
            "a backing service is unavailable; retry later"
            if status in (503, 504)
            else ("a backing service failed")
        )
    errors = []
    if ERROR_FIELD_KEY in trailing:
        errors.append(
            {
                "field": trailing[ERROR_FIELD_KEY],
                "rule": trailing.get(ERROR_RULE_KEY, ""),
                "message": error.details() or "",
            }
        )
    headers = {"Retry-After": "1"} if status in (503, 429) else {}
    return Problem(status, type_, detail, errors=errors, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def handle_problem(request: Request, exc: Exception) -> Response:
    """Exception handler for Problem."""
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


async def handle_validation(request: Request, exc: Exception) -> Response:
    """422 naming every field and the rule it broke."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _loc(tuple(e.get("loc", ()))),
            "rule": str(e.get("type", "")),
            "message": str(e.get("msg", "")),
        }
        for e in exc.errors()
    ]
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem_response(
        Problem(422, "validation-error", f"invalid request: {fields}", errors=errors),
        request.url.path,
    )


async def handle_http(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (404 route, 405 method…) as problem+json."""
    assert isinstance(exc, StarletteHTTPException)
    type_ = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem_response(
        Problem(exc.status_code, type_, str(exc.detail), headers=dict(exc.headers or {})),
        request.url.path,
    )
