"""Settings of the personnel service (env prefix ``TOWNSHIP_PERSONNEL_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from township_platform.config import ServiceSettings


class PersonnelSettings(ServiceSettings):
    """Everything personnel reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_PERSONNEL_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/personnel"
    townships_file: str | None = None
