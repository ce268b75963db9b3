"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """What every process reads from the environment (prefix ``TOWNSHIP_<SERVICE>_``)."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_", extra="ignore")

    environment: str = Field("development", description="development | staging | production")
    version: str = "0.1.0"
    # The key the gateway signs principals with and the services check them with (a file
    # of at least 32 bytes, the same for every process). Unset: principals are unsigned and
    # only the network policy keeps callers other than the gateway away.
    principal_key_file: str | None = None
    log_level: str = "INFO"
    otlp_endpoint: str | None = Field(None, description="OTLP/gRPC endpoint; traces off if empty")
    trace_sampling_ratio: float = Field(0.1, ge=0.0, le=1.0)
    metrics_port: int = Field(9464, ge=0, le=65535, description="Prometheus /metrics; 0 = off")
    metrics_host: str = "0.0.0.0"
    shutdown_grace_seconds: float = Field(10.0, ge=0)
    shutdown_drain_seconds: float = Field(
        0.0, ge=0, description="time between readiness going false and stopping (Kubernetes: ~5)"
    )

    @field_validator("otlp_endpoint")
    @classmethod
    def _empty_is_none(cls, v: str | None) -> str | None:
        return v or None


class ServiceSettings(CommonSettings):
    """Settings of a gRPC domain service."""

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/township"
    db_pool_size: int = Field(10, ge=1)
    db_max_overflow: int = Field(5, ge=0)
    db_read_pool_size: int = Field(4, ge=1)
    db_lean_pool_size: int = Field(6, ge=1)  # connections of lean units of work
    # "transaction" behind a transaction-pooling proxy (PgBouncer pool_mode=transaction)
    db_read_scope: Literal["session", "transaction"] = "session"
    nats_url: str = "nats://127.0.0.1:4222"
    stream_replicas: int = Field(1, ge=1, le=5)
    grpc_host: str = "0.0.0.0"
    grpc_port: int = Field(50051, ge=0, le=65535)
    consumer_max_deliver: int = Field(5, ge=1)
    outbox_poll_seconds: float = Field(1.0, gt=0)
    outbox_retention_hours: float = Field(24.0, gt=0)
    # how long this service's stream keeps an event (JetStream max age)
    stream_max_age_hours: float = Field(168.0, gt=0)
    # how long an applied event is recognised (inbox) and an Idempotency-Key honoured
    inbox_retention_hours: float = Field(336.0, gt=0)
    idempotency_retention_hours: float = Field(168.0, gt=0)
    retention_sweep_seconds: float = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _inbox_outlives_redelivery(self) -> ServiceSettings:
        # An event can arrive as long as a stream keeps it, and a replay re-publishes what
        # the outbox kept: forgetting it earlier would apply it twice.
        longest = self.stream_max_age_hours + self.outbox_retention_hours
        if self.inbox_retention_hours <= longest:
            raise ValueError(
                f"INBOX_RETENTION_HOURS ({self.inbox_retention_hours:g}) must exceed "
                f"STREAM_MAX_AGE_HOURS + OUTBOX_RETENTION_HOURS ({longest:g}): an event still "
                "in a stream or replayed from an outbox would be applied twice"
            )
        return self
