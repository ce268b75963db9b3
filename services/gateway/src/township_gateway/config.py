"""Settings of the gateway (env prefix ``TOWNSHIP_GATEWAY_``)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from township_platform.config import CommonSettings

DEV_ISSUER = "township-dev"


class GatewaySettings(CommonSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_GATEWAY_", extra="ignore")

    http_host: str = "0.0.0.0"
    http_port: int = Field(8080, ge=0, le=65535)
    metrics_port: int = 0  # /metrics is served on the HTTP port
    permits_addr: str = "127.0.0.1:50051"
    enforcement_addr: str = "127.0.0.1:50052"
    personnel_addr: str = "127.0.0.1:50053"
    stationed_addr: str = "127.0.0.1:50054"
    rpc_timeout_seconds: float = Field(5.0, gt=0)
    jwt_public_key_file: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str = DEV_ISSUER
    jwt_audience: str = "township"
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    dev_mode: bool = False
    townships_file: str | None = None
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    client_rate_per_second: float = Field(20.0, gt=0)
    client_burst: int = Field(40, ge=1)
    public_rate_per_second: float = Field(10.0, gt=0)
    public_burst: int = Field(30, ge=1)
    public_base_url: str = "https://township.example"
    # Set: the replicas share their rate-limit buckets over this NATS (core subjects only),
    # so a limit holds for the deployment; unset, each replica limits alone.
    nats_url: str | None = None
    rate_limit_share_seconds: float = Field(0.2, gt=0, le=5)

    @field_validator("nats_url")
    @classmethod
    def _no_nats_is_none(cls, v: str | None) -> str | None:
        return v or None

    @model_validator(mode="after")
    def _keys_and_dev(self) -> GatewaySettings:
        if not (self.jwt_public_key_file or self.jwt_jwks_url):
            raise ValueError("set JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL")
        if self.jwt_issuer == DEV_ISSUER and not self.dev_mode:
            raise ValueError(
                "the development issuer is refused unless TOWNSHIP_GATEWAY_DEV_MODE=true"
            )
        for alg in self.jwt_algorithms:
            if alg not in ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256"):
                raise ValueError(f"algorithm {alg} is not allowed (asymmetric only)")
        return self
