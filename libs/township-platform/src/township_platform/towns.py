"""The township configuration: which towns exist and what each one has.

One JSON document (``townships.json``), rendered by the Helm chart from the ``townships:``
values list and read by every service; adding an entry onboards a town. Each service takes
what concerns it (permits: delegations; personnel: org units and posts; stationed: units).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Name(_Strict):
    """A name in Chinese with its English rendering."""

    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=200)


SLUG = r"^[a-z][a-z0-9-]{1,30}$"


class Village(_Strict):
    """A village or community (村/社区) inside a township, with its service room."""

    code: str = Field(pattern=SLUG)
    name: Name


class RateLimit(_Strict):
    """Requests per second (sustained) and burst, per township at the gateway."""

    requests_per_second: float = Field(50, gt=0)
    burst: int = Field(100, ge=1)


class OrgUnit(_Strict):
    """An internal body of the township (office, centre, special body)."""

    code: str = Field(pattern=SLUG)
    name: Name
    kind: str = Field(pattern=r"^(office|centre|special)$")


class Post(_Strict):
    """A post of the post catalogue (岗位目录), with its appraisal coefficient."""

    code: str = Field(pattern=SLUG)
    name: Name
    org_unit: str = Field(pattern=SLUG)
    coefficient: str = Field(pattern=r"^\d+(\.\d{1,2})?$")


class StationedUnit(_Strict):
    """A county office stationed in the township (驻镇单位)."""

    code: str = Field(pattern=SLUG)
    name: Name
    department: str = Field(pattern=SLUG)


class Catalogue(_Strict):
    """Which catalogue items are delegated to the town (a named preset plus extras)."""

    preset: str = Field("pilot", pattern=SLUG)
    extra_items: list[str] = Field(default_factory=list)
    excluded_items: list[str] = Field(default_factory=list)


class Township(_Strict):
    """One township (tenant)."""

    slug: str = Field(pattern=SLUG)
    name: Name
    villages: list[Village] = Field(default_factory=list)
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    catalogue: Catalogue = Field(default_factory=Catalogue)
    enforcement_preset: str = Field("pilot", pattern=SLUG)
    max_bodies: int = Field(10, ge=1, le=50)
    org_units: list[OrgUnit] = Field(default_factory=list)
    posts: list[Post] = Field(default_factory=list)
    stationed_units: list[StationedUnit] = Field(default_factory=list)


class TownshipsConfig(_Strict):
    """The whole document."""

    townships: list[Township]

    def get(self, slug: str) -> Township | None:
        """The township called ``slug``, if configured."""
        return next((t for t in self.townships if t.slug == slug), None)

    @property
    def slugs(self) -> list[str]:
        """Every configured slug."""
        return [t.slug for t in self.townships]


def load_townships(path: str | Path) -> TownshipsConfig:
    """Read and validate ``townships.json``."""
    return TownshipsConfig.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
