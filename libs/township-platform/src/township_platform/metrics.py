"""Prometheus metric families shared by every service (names ``township_<service>_…``)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class ServiceMetrics:
    """RED metrics per RPC plus the event backbone's health, for one service."""

    rpc_requests: Counter
    rpc_duration: Histogram
    outbox_backlog: Gauge
    outbox_oldest_age: Gauge
    events_published: Counter
    events_consumed: Counter
    events_redelivered: Counter
    events_dead_lettered: Counter
    event_handle_duration: Histogram
    consumer_pending: Gauge
    db_pool_in_use: Gauge
    retention_deleted: Counter

    @classmethod
    def create(cls, service: str) -> ServiceMetrics:
        """Register the families for ``service`` (once per process)."""
        p = f"township_{service}"
        return cls(
            rpc_requests=Counter(f"{p}_grpc_requests", "gRPC requests handled", ["method", "code"]),
            rpc_duration=Histogram(
                f"{p}_grpc_request_duration_seconds",
                "gRPC handling time",
                ["method"],
                buckets=LATENCY_BUCKETS,
            ),
            outbox_backlog=Gauge(f"{p}_outbox_backlog_events", "Outbox events not yet published"),
            outbox_oldest_age=Gauge(
                f"{p}_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox event"
            ),
            events_published=Counter(
                f"{p}_events_published", "Events published to JetStream", ["type"]
            ),
            events_consumed=Counter(
                f"{p}_events_consumed", "Events handled by a consumer", ["consumer", "result"]
            ),
            events_redelivered=Counter(
                f"{p}_events_redelivered", "Events received more than once", ["consumer"]
            ),
            events_dead_lettered=Counter(
                f"{p}_events_dead_lettered", "Events moved to the dead-letter subject", ["consumer"]
            ),
            event_handle_duration=Histogram(
                f"{p}_event_handle_duration_seconds",
                "Time to handle one event",
                ["consumer"],
                buckets=LATENCY_BUCKETS,
            ),
            consumer_pending=Gauge(
                f"{p}_consumer_pending_events", "Events waiting in a consumer", ["consumer"]
            ),
            db_pool_in_use=Gauge(f"{p}_db_pool_connections_in_use", "DB connections checked out"),
            retention_deleted=Counter(
                f"{p}_retention_deleted_rows",
                "Bookkeeping rows deleted past their retention",
                ["table"],
            ),
        )
