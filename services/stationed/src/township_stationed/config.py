"""Settings of the stationed service (env prefix ``TOWNSHIP_STATIONED_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from township_platform.config import ServiceSettings


class StationedSettings(ServiceSettings):
    """Everything stationed reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_STATIONED_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/stationed"
    townships_file: str | None = None
