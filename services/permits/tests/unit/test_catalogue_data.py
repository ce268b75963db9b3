"""The seed service catalogue loads, is self-consistent and matches the pilot's shape."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from township_permits.catalogue_data import Catalogue, TimeLimit, load_catalogue

CODE = re.compile(r"^(XK|GG|QT)-\d{5}-\d{3}$")


def _raw() -> dict[str, Any]:
    text = (
        resources.files("township_permits.seed_data")
        .joinpath("catalogue.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def test_loads() -> None:
    catalogue = load_catalogue()
    assert isinstance(catalogue, Catalogue)
    assert load_catalogue() is catalogue


def test_enough_items_across_departments() -> None:
    catalogue = load_catalogue()
    assert len(catalogue.items) >= 36
    assert len(catalogue.departments) >= 14
    assert len({item.department for item in catalogue.items}) >= 8


def test_codes_are_unique() -> None:
    catalogue = load_catalogue()
    codes = [item.code for item in catalogue.items]
    assert len(codes) == len(set(codes))
    departments = [d.code for d in catalogue.departments]
    assert len(departments) == len(set(departments))
    bundles = [b.code for b in catalogue.bundles]
    assert len(bundles) == len(set(bundles))


def test_code_format_matches_type() -> None:
    prefix = {"licensing": "XK", "public_service": "GG", "other": "QT"}
    for item in load_catalogue().items:
        assert CODE.match(item.code), item.code
        assert item.code.startswith(prefix[item.type] + "-"), item.code


def test_every_item_names_a_known_department() -> None:
    catalogue = load_catalogue()
    known = {d.code for d in catalogue.departments}
    assert {item.department for item in catalogue.items} <= known


def test_bundle_and_preset_codes_exist() -> None:
    catalogue = load_catalogue()
    items = {item.code for item in catalogue.items}
    assert len(catalogue.bundles) >= 4
    for bundle in catalogue.bundles:
        assert set(bundle.item_codes) <= items, bundle.code
    pilot = catalogue.preset("pilot")
    assert pilot.item_codes <= items
    for bundle in catalogue.bundles:
        assert set(bundle.item_codes) <= pilot.item_codes, bundle.code


def test_pilot_preset_matches_item_levels() -> None:
    catalogue = load_catalogue()
    pilot = catalogue.preset("pilot")
    assert pilot.document_no == "旬政办发〔2023〕18号"
    assert pilot.document_title == "《旬阳市下沉镇办理的市级政务服务事项目录》"
    assert len(pilot.village_items) >= 8
    for item in catalogue.items:
        assert pilot.level_of(item.code) == item.level, item.code


def test_promised_within_statutory() -> None:
    for item in load_catalogue().items:
        assert item.promised_limit.within(item.statutory_limit), item.code
        promised, statutory = item.promised_limit, item.statutory_limit
        if promised.unit == statutory.unit:
            assert promised.amount <= statutory.amount, item.code


def test_time_limit_comparison_across_units() -> None:
    assert TimeLimit(amount=5, unit="working").within(TimeLimit(amount=7, unit="natural"))
    assert not TimeLimit(amount=10, unit="working").within(TimeLimit(amount=10, unit="natural"))
    assert TimeLimit(amount=7, unit="natural").within(TimeLimit(amount=7, unit="working"))


def test_newborn_bundle_has_exactly_the_two_items() -> None:
    catalogue = load_catalogue()
    newborn = catalogue.bundle("newborn")
    assert newborn.name.zh == "新生儿出生一件事"
    assert newborn.name.en == "Newborn, one visit"
    assert len(newborn.item_codes) == 2
    names = {catalogue.item(code).name.zh for code in newborn.item_codes}
    assert names == {"出生登记", "新生儿城乡居民基本医疗保险参保登记"}
    departments = {catalogue.item(code).department for code in newborn.item_codes}
    assert departments == {"public-security", "medical-insurance"}


def test_fees_and_materials_are_well_formed() -> None:
    for item in load_catalogue().items:
        assert item.fee_yuan >= 0
        for material in item.materials:
            assert material.count >= 1
            assert (material.condition is None) == material.required, (item.code, material.code)


def test_realistic_items_are_present() -> None:
    names = {item.name.zh for item in load_catalogue().items}
    for expected in (
        "出生登记",
        "城乡居民基本养老保险参保登记",
        "最低生活保障申请",
        "临时救助申请",
        "残疾人证办理（新办）",
        "农村村民宅基地审批",
        "乡村建设规划许可证核发",
        "个体工商户设立登记",
        "食品摊贩登记",
        "林木采伐许可证核发",
    ):
        assert expected in names


def test_unknown_field_is_rejected() -> None:
    raw = _raw()
    raw["items"][0]["surprise"] = 1
    with pytest.raises(ValidationError):
        Catalogue.model_validate(raw)


def test_promised_beyond_statutory_is_rejected() -> None:
    raw = _raw()
    raw["items"][0]["promised_limit"] = {"amount": 99, "unit": "working"}
    with pytest.raises(ValidationError, match="promised limit"):
        Catalogue.model_validate(raw)


def test_bundle_with_unknown_item_is_rejected() -> None:
    raw = _raw()
    raw["bundles"][0]["item_codes"].append("GG-99999-999")
    with pytest.raises(ValidationError, match="unknown items"):
        Catalogue.model_validate(raw)


def test_lookup_of_unknown_code_raises_key_error() -> None:
    with pytest.raises(KeyError):
        load_catalogue().item("XK-00000-000")
