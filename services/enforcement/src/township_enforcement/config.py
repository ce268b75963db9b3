"""Settings of the enforcement service (env prefix ``TOWNSHIP_ENFORCEMENT_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from township_platform.config import ServiceSettings


class EnforcementSettings(ServiceSettings):
    """Everything enforcement reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_ENFORCEMENT_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/enforcement"
    townships_file: str | None = None
    calendar_file: str | None = None
    """Working-day calendar file, in permits' format (``township_platform/calendar.json``,
    the default, which carries a provisional 2027 schedule)."""
    calendar_weekends_only_fallback: bool = False
    """Count Monday to Friday for a year neither the overrides nor chinese_calendar know."""
    deadline_scan_seconds: float = 5.0
