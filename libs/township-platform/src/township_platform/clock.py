"""The one source of "now" for domain code, so deadlines can be tested with controlled time.

In production this is the system clock. In development and tests only, when the environment
variable ``TOWNSHIP_CLOCK_FILE`` names a file, the number of seconds it holds is added to the
system clock (the e2e tests move every process's clock forward together by writing it). The
override is refused when ``TOWNSHIP_ENVIRONMENT`` is ``production``.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_cache: tuple[float, float] = (0.0, 0.0)  # (read at monotonic, offset seconds)


def _offset() -> float:
    global _cache
    path = os.environ.get("TOWNSHIP_CLOCK_FILE")
    if not path or os.environ.get("TOWNSHIP_ENVIRONMENT", "development") == "production":
        return 0.0
    read_at, offset = _cache
    if time.monotonic() - read_at < 0.2:
        return offset
    try:
        with open(path, encoding="ascii") as f:
            offset = float(f.read().strip() or 0)
    except (OSError, ValueError):
        offset = 0.0
    _cache = (time.monotonic(), offset)
    return offset


def now() -> datetime:
    """The current instant (UTC, aware)."""
    return datetime.now(UTC) + timedelta(seconds=_offset())


def today() -> date:
    """Today's date in China (deadlines count in local working days)."""
    return now().astimezone(CHINA).date()


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or instant; without an offset it is China time (the county's clocks).

    Raises ``ValueError`` for anything else.
    """
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=CHINA)
