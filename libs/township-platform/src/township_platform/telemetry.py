"""OpenTelemetry traces (OTLP when configured), W3C propagation helpers, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    start_http_server,
)

from township_platform.logging import current_township

if TYPE_CHECKING:  # the gateway has no database: SQLAlchemy stays out of its memory
    from sqlalchemy.engine import Engine

_configured = False


def setup_telemetry(
    *,
    service: str,
    version: str,
    environment: str,
    otlp_endpoint: str | None,
    sampling_ratio: float,
) -> None:
    """Install the tracer provider; spans go to ``otlp_endpoint`` (OTLP/gRPC) when set.

    New traces are kept with probability ``sampling_ratio``; a span with a parent follows
    the parent's decision (``ParentBased``), so a trace is whole or absent. Without an
    endpoint spans are still created for sampled requests (so trace ids reach the logs) but
    nothing is exported. Metrics are Prometheus only (:func:`start_metrics_server`).
    """
    global _configured
    if _configured:
        return
    # No `<counter>_created` gauges next to every counter and histogram: they double the
    # series and carry no unit.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    resource = Resource.create(
        {
            "service.name": f"township-{service}",
            "service.namespace": "township",
            "service.version": version,
            "deployment.environment": environment,
        }
    )
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(sampling_ratio))
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        insecure = otlp_endpoint.startswith("http://")
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=insecure))
        )
    trace.set_tracer_provider(provider)
    _configured = True


def shutdown_telemetry() -> None:
    """Flush spans still in memory (called on graceful shutdown)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def inject_trace_headers(carrier: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write ``traceparent``/``tracestate`` of the current span into ``carrier``."""
    inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str] | None) -> otel_context.Context:
    """The trace context carried by ``headers`` (NATS headers or gRPC metadata)."""
    return extract(dict(headers or {}))


def start_metrics_server(host: str, port: int, registry: CollectorRegistry = REGISTRY) -> None:
    """Serve Prometheus ``/metrics`` on its own port (0 disables)."""
    if port:
        start_http_server(port, addr=host, registry=registry)


_db_tracer = trace.get_tracer("township.db")
_SPAN_KEY = "_township_span"


def start_sql_span(statement: str, database: str) -> Any:
    """A CLIENT span for one statement, or None outside a sampled span (no cost then)."""
    if not trace.get_current_span().is_recording():
        return None
    operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    span = _db_tracer.start_span(
        f"{operation} {database}",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": "postgresql",
            "db.namespace": database,
            "db.operation.name": operation,
            "db.query.text": statement.strip()[:2000],
        },
    )
    township = current_township.get()
    if township:
        span.set_attribute("township", township)
    return span


def end_sql_span(span: Any, error: BaseException | None = None) -> None:
    """End a span from :func:`start_sql_span`, marking a failed statement."""
    if error is not None:
        name = type(error).__name__
        span.set_status(Status(StatusCode.ERROR, name))
        span.set_attribute("error.type", name)
    span.end()


def trace_sql(engine: Engine, database: str) -> None:
    """One CLIENT span per SQL statement, only inside a sampled span (an RPC, an event).

    Statements outside any span (the relay's polling, consumers' bookkeeping between
    events) make no span, so an idle service exports nothing. The statement text carries
    bind placeholders only, never the values.
    """

    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _start(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if context is None:
            return
        span = start_sql_span(statement, database)
        if span is None:
            return
        setattr(context, _SPAN_KEY, span)

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        span = getattr(context, _SPAN_KEY, None)
        if span is not None:
            span.end()
            setattr(context, _SPAN_KEY, None)

    @event.listens_for(engine, "handle_error")
    def _error(exception_context: Any) -> None:
        span = getattr(exception_context.execution_context, _SPAN_KEY, None)
        if span is not None:
            error = type(exception_context.original_exception).__name__
            span.set_status(Status(StatusCode.ERROR, error))
            span.set_attribute("error.type", error)
            span.end()
            setattr(exception_context.execution_context, _SPAN_KEY, None)
