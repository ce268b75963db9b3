"""Settings of the enforcement service (env prefix ``TOWNSHIP_ENFORCEMENT_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from township_platform.config import ServiceSettings


class EnforcementSettings(ServiceSettings):
    """Everything enforcement reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_ENFORCEMENT_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/enforcement"
    townships_file: str | None = None
