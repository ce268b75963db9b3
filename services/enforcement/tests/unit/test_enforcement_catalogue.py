"""The seed enforcement catalogue loads and holds the pilot's figures (140 / 84 / 11)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from township_enforcement.catalogue_data import (
    LEVEL_ORDER,
    EnforcementCatalogue,
    load_enforcement_catalogue,
)

IN_FORCE = date(2023, 11, 24)  # the day the source article was published
TODAY = date.today()
CATEGORIES = ("statutory_township", "market_supervision", "entrusted")
GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "gen_enforcement_catalogue.py"


def _raw() -> dict[str, Any]:
    text = (
        resources.files("township_enforcement.seed_data")
        .joinpath("catalogue.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def _current_entrustments(catalogue: EnforcementCatalogue, day: date) -> set[str]:
    return {e.item_code for e in catalogue.entrustments if e.is_valid_on(day)}


def test_loads() -> None:
    catalogue = load_enforcement_catalogue()
    assert isinstance(catalogue, EnforcementCatalogue)
    assert load_enforcement_catalogue() is catalogue
    assert set(catalogue.townships) == {"zhaowan", "bailiu"}


def test_exactly_140_items() -> None:
    assert len(load_enforcement_catalogue().items) == 140


@pytest.mark.parametrize("day", [IN_FORCE, TODAY], ids=["2023-11-24", "today"])
def test_exactly_84_items_entrusted_now_by_exactly_11_departments(day: date) -> None:
    catalogue = load_enforcement_catalogue()
    if day > date(2028, 8, 31):
        pytest.skip("the seed entrustments run to 2028-08-31")
    current = [e for e in catalogue.entrustments if e.is_valid_on(day)]
    assert len({e.item_code for e in current}) == 84
    assert len({e.entrusting_department for e in current}) == 11
    for township in catalogue.townships:
        assert len(catalogue.entrusted_on(township, day)) == 84


def test_pilot_preset_is_the_84_entrusted_items() -> None:
    catalogue = load_enforcement_catalogue()
    pilot = catalogue.preset("pilot")
    assert pilot.document_title == "《市级部门委托镇级实施综合行政执法事项目录》"
    assert len(pilot.item_codes) == 84
    assert set(pilot.item_codes) == _current_entrustments(catalogue, IN_FORCE)
    assert len({catalogue.item(code).department for code in pilot.item_codes}) == 11


def test_categories_split_the_catalogue() -> None:
    catalogue = load_enforcement_catalogue()
    by_category = {c: [i for i in catalogue.items if i.category == c] for c in CATEGORIES}
    # 84 currently entrusted + 1 whose entrustment lapsed; the rest are the township's own
    # statutory items and the stationed market supervision office's items.
    assert len(by_category["entrusted"]) == 85
    assert len(by_category["statutory_township"]) + len(by_category["market_supervision"]) == 55
    assert all(i.department == "township" for i in by_category["statutory_township"])
    assert all(i.department == "market-supervision" for i in by_category["market_supervision"])


def test_codes_are_unique_and_well_formed() -> None:
    catalogue = load_enforcement_catalogue()
    codes = [i.code for i in catalogue.items]
    assert len(codes) == len(set(codes))
    prefixes = {d.code: d.prefix for d in catalogue.departments}
    for item in catalogue.items:
        assert re.match(r"^ZF-[A-Z]{2}-\d{4}$", item.code), item.code
        assert item.code.split("-")[1] == prefixes[item.department], item.code


def test_bands_are_valid() -> None:
    for item in load_enforcement_catalogue().items:
        assert 1 <= len(item.bands) <= 3
        for band in item.bands:
            assert band.min_amount <= band.max_amount, item.code
        for lower, upper in zip(item.bands, item.bands[1:], strict=False):
            assert LEVEL_ORDER[lower.level] < LEVEL_ORDER[upper.level], item.code
            assert lower.max_amount < upper.min_amount, item.code


def test_legal_bases_cite_a_law_and_an_article() -> None:
    for item in load_enforcement_catalogue().items:
        assert item.legal_basis.law.startswith("《"), item.code
        assert item.legal_basis.law.endswith("》"), item.code
        assert re.match(r"^第[一二三四五六七八九十百零]+条", item.legal_basis.provision), item.code


def test_every_entrustment_refers_to_an_existing_entrusted_item() -> None:
    catalogue = load_enforcement_catalogue()
    items = {i.code: i for i in catalogue.items}
    for entrustment in catalogue.entrustments:
        item = items[entrustment.item_code]
        assert item.category == "entrusted"
        assert entrustment.entrusting_department == item.department
        assert entrustment.township in catalogue.townships


def test_current_entrustments_share_the_2023_document() -> None:
    catalogue = load_enforcement_catalogue()
    current = [e for e in catalogue.entrustments if e.is_valid_on(IN_FORCE)]
    assert len(current) == 84 * 2
    for entrustment in current:
        assert entrustment.document_no == "旬政发〔2023〕12号"
        assert entrustment.valid_from == date(2023, 9, 1)
        assert entrustment.valid_to == date(2028, 8, 31)
        assert entrustment.note is None


def test_the_lapsed_entrustment_is_expired() -> None:
    catalogue = load_enforcement_catalogue()
    lapsed = [e for e in catalogue.entrustments if not e.is_valid_on(IN_FORCE)]
    assert len(lapsed) == 1
    (entrustment,) = lapsed
    assert entrustment.valid_to < IN_FORCE
    assert entrustment.valid_to < TODAY
    assert entrustment.note is not None
    assert entrustment.item_code not in catalogue.preset("pilot").item_codes
    assert entrustment.item_code not in _current_entrustments(catalogue, TODAY)
    # The lapsed item: zhaowan once had it (expired); bailiu never did.
    assert catalogue.entrustments_of(entrustment.item_code, "zhaowan") == (entrustment,)
    assert catalogue.entrustment_on(entrustment.item_code, "zhaowan", TODAY) is None
    assert catalogue.entrustment_on(entrustment.item_code, "zhaowan", entrustment.valid_to)
    assert catalogue.entrustments_of(entrustment.item_code, "bailiu") == ()


def test_unknown_field_is_rejected() -> None:
    raw = _raw()
    raw["items"][0]["surprise"] = True
    with pytest.raises(ValidationError):
        EnforcementCatalogue.model_validate(raw)


def test_overlapping_bands_are_rejected() -> None:
    raw = _raw()
    bands = raw["items"][0]["bands"]
    bands[1]["min_fine"] = bands[0]["max_fine"]
    with pytest.raises(ValidationError, match="overlap"):
        EnforcementCatalogue.model_validate(raw)


def test_entrustment_of_a_non_entrusted_item_is_rejected() -> None:
    raw = _raw()
    statutory = next(i for i in raw["items"] if i["category"] == "statutory_township")
    raw["entrustments"][0]["item_code"] = statutory["code"]
    with pytest.raises(ValidationError, match="not an entrusted catalogue item"):
        EnforcementCatalogue.model_validate(raw)


def test_generator_output_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
