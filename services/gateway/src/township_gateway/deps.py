"""Shared FastAPI dependencies and small converters."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from google.protobuf.timestamp_pb2 import Timestamp
from starlette.responses import Response

from township_gateway.clients import Services

IDEMPOTENCY_PATTERN = r"^[A-Za-z0-9._:-]{1,255}$"


async def get_services(request: Request) -> Services:
    """The gRPC clients of this app.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a
    thread hop per request on the hot path.
    """
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_PATTERN,
        description=(
            "Retries with the same key return the first result (no second record) for 7 days "
            "(the deployment's retention.idempotencyKeyHours); after that the key is new again."
        ),
    ),
]


class FastJSON(Response):
    """A JSON response serialised by orjson, for routes that build their answer as data.

    FastAPI validates a returned model against ``response_model`` and serialises it again;
    a route that builds the documented shape itself (and is tested against the model) skips
    both by returning this. The decorator's ``response_model`` still documents the schema.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """orjson bytes of ``content``."""
        return orjson.dumps(content)


def iso(ts: Timestamp) -> str:
    """A protobuf timestamp as ISO 8601 (UTC)."""
    return ts.ToDatetime().isoformat() + "Z" if ts.seconds or ts.nanos else ""


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": desc,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for code, desc in (
        (400, "The body is not valid JSON (or not UTF-8)"),
        (401, "Missing or invalid bearer token"),
        (403, "The caller's role does not allow this"),
        (404, "Not found (also when it belongs to another township)"),
        (409, "The object's state does not allow this"),
        (413, "The body is larger than the gateway accepts"),
        (422, "Invalid request: the errors name each field and rule"),
        (429, "Rate limited; see Retry-After"),
        (503, "A backing service is unavailable; see Retry-After"),
    )
}
