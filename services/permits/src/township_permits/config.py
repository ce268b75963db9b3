"""Settings of the permits service (env prefix ``TOWNSHIP_PERMITS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from township_platform.config import ServiceSettings


class PermitsSettings(ServiceSettings):
    """Everything permits reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_PERMITS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/permits"
    townships_file: str | None = None
    calendar_file: str | None = Field(
        None,
        description=(
            "JSON file with per-year holiday overrides (see township_platform/calendar.json); "
            "defaults to the packaged file, which carries a provisional 2027 schedule"
        ),
    )
    deadline_scan_seconds: float = Field(5.0, gt=0, description="Period of the deadline scan")
    gauges_seconds: float = Field(
        30.0, ge=0, description="Period of the business gauges' full count (0: every scan)"
    )
    warning_days: int = Field(2, ge=0, le=20, description="Warn when this many working days left")
    rectification_days: int = Field(
        15, ge=1, le=120, description="Working days to complete a rectification after a bad rating"
    )
