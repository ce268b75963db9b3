"""Pure ASGI middleware: a server span and RED metrics per route template; body size cap."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from township_gateway.problems import Problem, problem_response
from township_platform.logging import get_logger
from township_platform.metrics import LATENCY_BUCKETS
from township_platform.telemetry import context_from_headers

log = get_logger(__name__)
tracer = trace.get_tracer("township.gateway")

HTTP_REQUESTS = Counter(
    "township_gateway_http_requests", "HTTP requests", ["route", "method", "code"]
)
HTTP_DURATION = Histogram(
    "township_gateway_http_request_duration_seconds",
    "HTTP request duration",
    ["route", "method"],
    # 0.3 s is the latency SLO's threshold: the bucket must exist for the SLO rules.
    buckets=sorted((*LATENCY_BUCKETS, 0.3)),
)
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
# Labelled children, looked up once per (route, method[, code]): ``labels()`` takes a lock
# and builds a key on every call, a visible cost at a thousand requests a second.
_REQUESTS: dict[tuple[str, str, int], Any] = {}
_DURATIONS: dict[tuple[str, str], Any] = {}


def _observe(template: str, method: str, status: int, seconds: float) -> None:
    counter = _REQUESTS.get((template, method, status))
    if counter is None:
        counter = _REQUESTS[(template, method, status)] = HTTP_REQUESTS.labels(
            template, method, str(status)
        )
    counter.inc()
    histogram = _DURATIONS.get((template, method))
    if histogram is None:
        histogram = _DURATIONS[(template, method)] = HTTP_DURATION.labels(template, method)
    histogram.observe(seconds)


class _TooLarge(Exception):
    pass


class ObservabilityMiddleware:
    """One span and one metrics sample per request, labelled by route template."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            await problem_response(
                Problem(413, "request-too-large", f"the body exceeds {self.max_body_bytes} bytes")
            )(scope, receive, send)
            HTTP_REQUESTS.labels("unmatched", method, "413").inc()
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge
            return message

        async def capture_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with tracer.start_as_current_span(
            f"{method} {scope['path']}",
            context=context_from_headers(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
        ) as span:
            try:
                await self.app(scope, limited_receive, capture_send)
            except _TooLarge:
                status = 413
                await problem_response(Problem(413, "request-too-large", "the body is too large"))(
                    scope, receive, send
                )
            finally:
                route: Any = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                principal = scope.get("state", {}).get("principal")
                township = principal.township if principal is not None else None
                if span.is_recording():
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                    span.set_attribute("http.response.status_code", status)
                    if township:
                        span.set_attribute("township", township)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                if status >= 500:
                    # Inside the span: the line carries the trace id (the runbooks rely on it).
                    log.error(
                        "request failed",
                        method=method,
                        route=template,
                        status=status,
                        **({"township": township} if township else {}),
                    )
                _observe(template, method, status, time.perf_counter() - started)
