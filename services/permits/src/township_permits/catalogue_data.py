"""The seed service catalogue (政务服务事项目录) of the pilot towns, as strict pydantic models.

The data lives in ``seed_data/catalogue.json``: departments of the county hall, service items
(licensing 行政许可 ``XK-``, public services 公共服务 ``GG-``, other powers ``QT-``), one-visit
bundles (一件事一次办) and delegation presets (which items a township or a village service room
may take, and the document that delegated them). Everything is validated on load, including
cross-references, so a bad edit to the JSON fails at start-up, not in the middle of an intake.
"""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

SLUG = r"^[a-z][a-z0-9-]{1,30}$"
ITEM_CODE = r"^(XK|GG|QT)-\d{5}-\d{3}$"
YUAN = r"^\d{1,9}\.\d{2}$"

ItemType = Literal["licensing", "public_service", "other"]
DayUnit = Literal["working", "natural"]
Level = Literal["township", "village"]
Channel = Literal["window", "village_room", "online", "agent"]
MaterialForm = Literal["original", "copy"]

_Row = TypeVar("_Row", bound=BaseModel)

CODE_PREFIX: dict[ItemType, str] = {"licensing": "XK", "public_service": "GG", "other": "QT"}
"""The code prefix each item type must carry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(_Strict):
    """A text in Chinese with its English rendering."""

    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=300)


class Department(_Strict):
    """A county department whose items are handled in the township hall."""

    code: str = Field(pattern=SLUG)
    name: LocalizedText


class TimeLimit(_Strict):
    """A time limit: an amount of working or natural days (0 means on the spot, 即办)."""

    amount: int = Field(ge=0, le=365)
    unit: DayUnit

    def natural_days_upper_bound(self) -> int:
        """Natural days this limit may span at most, counting a week as 5 working days."""
        if self.unit == "natural":
            return self.amount
        return math.ceil(self.amount * 7 / 5)

    def within(self, other: TimeLimit) -> bool:
        """Whether this limit is no longer than ``other`` (compared in comparable units)."""
        if self.unit == other.unit:
            return self.amount <= other.amount
        if self.unit == "natural":
            # N natural days fit in M working days whenever N <= M (working days are a subset).
            return self.amount <= other.amount
        return self.natural_days_upper_bound() <= other.amount


class RequiredMaterial(_Strict):
    """A material the applicant brings; ``code`` is what an intake's materials refer to."""

    code: str = Field(pattern=SLUG)
    name: LocalizedText
    form: MaterialForm
    count: int = Field(ge=1, le=20)
    required: bool
    condition: LocalizedText | None = None

    @model_validator(mode="after")
    def _condition_iff_optional(self) -> Self:
        if self.required and self.condition is not None:
            raise ValueError(f"material {self.code}: a required material has no condition")
        if not self.required and self.condition is None:
            raise ValueError(f"material {self.code}: a conditional material needs its condition")
        return self


class ServiceItem(_Strict):
    """A service item (政务服务事项) with its service guide (办事指南)."""

    code: str = Field(pattern=ITEM_CODE)
    name: LocalizedText
    type: ItemType
    department: str = Field(pattern=SLUG)
    legal_basis: tuple[str, ...] = Field(min_length=1)
    statutory_limit: TimeLimit
    promised_limit: TimeLimit
    statutory_extension: TimeLimit | None = None
    fee: str = Field(pattern=YUAN)
    materials: tuple[RequiredMaterial, ...] = Field(min_length=1)
    steps: tuple[LocalizedText, ...] = Field(min_length=1)
    visits: int = Field(ge=0, le=5)
    level: Level
    channels: tuple[Channel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.code.startswith(CODE_PREFIX[self.type] + "-"):
            raise ValueError(
                f"item {self.code}: a {self.type} item's code starts with {CODE_PREFIX[self.type]}-"
            )
        if not self.promised_limit.within(self.statutory_limit):
            raise ValueError(f"item {self.code}: promised limit exceeds the statutory limit")
        for basis in self.legal_basis:
            if not basis.startswith("《"):
                raise ValueError(f"item {self.code}: legal basis {basis!r} must cite 《title》")
        codes = [m.code for m in self.materials]
        if len(codes) != len(set(codes)):
            raise ValueError(f"item {self.code}: duplicate material codes")
        if len(self.channels) != len(set(self.channels)):
            raise ValueError(f"item {self.code}: duplicate channels")
        if self.level == "village" and "village_room" not in self.channels:
            raise ValueError(f"item {self.code}: a village-level item is offered in village rooms")
        if self.visits == 0 and not {"online", "agent"} & set(self.channels):
            raise ValueError(f"item {self.code}: zero visits needs the online or agent channel")
        return self

    @property
    def fee_yuan(self) -> Decimal:
        """The fee as a Decimal amount of yuan."""
        return Decimal(self.fee)


class Bundle(_Strict):
    """A one-visit bundle (一件事一次办): one intake opens an application per item."""

    code: str = Field(pattern=SLUG)
    name: LocalizedText
    item_codes: tuple[str, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if len(self.item_codes) != len(set(self.item_codes)):
            raise ValueError(f"bundle {self.code}: duplicate item codes")
        return self


class DelegationPreset(_Strict):
    """A named set of delegations (item → township or village level) and its document."""

    name: str = Field(pattern=SLUG)
    document_no: str = Field(min_length=1)
    document_title: str = Field(pattern=r"^《.+》$")
    issued_on: date
    effective_from: date
    township_items: tuple[str, ...]
    village_items: tuple[str, ...]

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        both = set(self.township_items) & set(self.village_items)
        if both:
            raise ValueError(f"preset {self.name}: items at both levels: {sorted(both)}")
        for codes in (self.township_items, self.village_items):
            if len(codes) != len(set(codes)):
                raise ValueError(f"preset {self.name}: duplicate item codes")
        if self.effective_from < self.issued_on:
            raise ValueError(f"preset {self.name}: effective before it was issued")
        return self

    @property
    def item_codes(self) -> frozenset[str]:
        """Every item delegated by this preset, at either level."""
        return frozenset(self.township_items) | frozenset(self.village_items)

    def level_of(self, item_code: str) -> Level | None:
        """The level ``item_code`` is delegated to, or None when not delegated."""
        if item_code in self.village_items:
            return "village"
        if item_code in self.township_items:
            return "township"
        return None


class Catalogue(_Strict):
    """The whole seed catalogue, cross-checked."""

    departments: tuple[Department, ...] = Field(min_length=1)
    items: tuple[ServiceItem, ...] = Field(min_length=1)
    bundles: tuple[Bundle, ...]
    delegation_presets: tuple[DelegationPreset, ...]

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        _unique("department", [d.code for d in self.departments])
        _unique("item", [i.code for i in self.items])
        _unique("bundle", [b.code for b in self.bundles])
        _unique("delegation preset", [p.name for p in self.delegation_presets])
        departments = {d.code for d in self.departments}
        items = {i.code for i in self.items}
        for item in self.items:
            if item.department not in departments:
                raise ValueError(f"item {item.code}: unknown department {item.department}")
        for bundle in self.bundles:
            missing = set(bundle.item_codes) - items
            if missing:
                raise ValueError(f"bundle {bundle.code}: unknown items {sorted(missing)}")
        for preset in self.delegation_presets:
            undefined = preset.item_codes - items
            if undefined:
                raise ValueError(f"preset {preset.name}: unknown items {sorted(undefined)}")
            for bundle in self.bundles:
                outside = set(bundle.item_codes) - preset.item_codes
                if outside:
                    raise ValueError(
                        f"preset {preset.name}: bundle {bundle.code} has "
                        f"undelegated items {sorted(outside)}"
                    )
        return self

    def department(self, code: str) -> Department:
        """The department ``code``; KeyError if unknown."""
        return _find(self.departments, "code", code, "department")

    def item(self, code: str) -> ServiceItem:
        """The service item ``code``; KeyError if unknown."""
        return _find(self.items, "code", code, "service item")

    def bundle(self, code: str) -> Bundle:
        """The bundle ``code``; KeyError if unknown."""
        return _find(self.bundles, "code", code, "bundle")

    def preset(self, name: str) -> DelegationPreset:
        """The delegation preset ``name``; KeyError if unknown."""
        return _find(self.delegation_presets, "name", name, "delegation preset")


def _unique(what: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"duplicate {what} code {code}")
        seen.add(code)


def _find(rows: tuple[_Row, ...], attr: str, key: str, what: str) -> _Row:
    for row in rows:
        if getattr(row, attr) == key:
            return row
    raise KeyError(f"unknown {what} {key!r}")


@cache
def load_catalogue() -> Catalogue:
    """Read and validate the packaged seed catalogue (cached: the models are frozen)."""
    text = (
        resources.files("township_permits.seed_data")
        .joinpath("catalogue.json")
        .read_text(encoding="utf-8")
    )
    return Catalogue.model_validate(json.loads(text))
