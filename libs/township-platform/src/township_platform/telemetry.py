"""OpenTelemetry traces (OTLP when configured), W3C propagation helpers, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry import context as otel_context
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

_configured = False


def setup_telemetry(
    *,
    service: str,
    version: str,
    environment: str,
    otlp_endpoint: str | None,
    sampling_ratio: float,
) -> None:
    """Install the tracer provider (and an OTLP metric reader when an endpoint is set).

    Without an endpoint spans are still created for sampled requests (so trace ids reach
    the logs) but nothing is exported.
    """
    global _configured
    if _configured:
        return
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
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        insecure = otlp_endpoint.startswith("http://")
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=insecure))
        )
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=otlp_endpoint, insecure=insecure)
        )
        otel_metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
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
