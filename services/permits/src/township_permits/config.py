"""Settings of the permits service (env prefix ``TOWNSHIP_PERMITS_``)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from township_permits.domain.calendar import CalendarConfig, WorkCalendar
from township_platform.config import ServiceSettings


class PermitsSettings(ServiceSettings):
    """Everything permits reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TOWNSHIP_PERMITS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/permits"
    townships_file: str | None = None
    calendar_file: str | None = Field(
        None,
        description=(
            "JSON file with per-year holiday overrides (see seed_data/calendar.json); "
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


def calendar_document(path: str | None) -> dict[str, Any]:
    """The calendar file's content (the packaged one when ``path`` is empty)."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = (
            resources.files("township_permits.seed_data")
            .joinpath("calendar.json")
            .read_text(encoding="utf-8")
        )
    data: dict[str, Any] = json.loads(text)
    return data


def load_calendar(path: str | None) -> tuple[WorkCalendar, list[int]]:
    """The working-day calendar and the years it marks provisional.

    The file is either a bare :class:`CalendarConfig` (``years``,
    ``weekends_only_fallback``) or a document with ``calendar`` holding one, plus an optional
    ``description`` and ``provisional_years`` (logged at start-up as a reminder).
    """
    data = calendar_document(path)
    config = data["calendar"] if "calendar" in data else data
    provisional = [int(y) for y in data.get("provisional_years", [])] if "calendar" in data else []
    return WorkCalendar(CalendarConfig.model_validate(config)), provisional
