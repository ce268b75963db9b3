"""Settings of the permits service (env prefix ``TOWNSHIP_PERMITS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from township_platform.config import ServiceSettings


class PermitsSettings(ServiceSettings):
    """Everything permits reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_PERMITS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/permits"
    townships_file: str | None = None
