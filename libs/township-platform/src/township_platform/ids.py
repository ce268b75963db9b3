"""Identifiers: time-ordered UUIDv7 for rows and events."""

from __future__ import annotations

import uuid6


def new_id() -> str:
    """A new UUIDv7 as a string (sortable by creation time)."""
    return str(uuid6.uuid7())
