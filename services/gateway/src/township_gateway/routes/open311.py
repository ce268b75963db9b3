"""Open311 GeoReport v2 (complaints and reports intake for civic apps)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/open311/v2", tags=["open311"])
