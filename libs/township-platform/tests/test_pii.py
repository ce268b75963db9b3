"""Personal data: ID numbers (GB 11643), mobile numbers, masking, fingerprints."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from township_platform.errors import InvalidArgument
from township_platform.pii import (
    ID_WEIGHTS,
    fingerprint,
    id_check_character,
    make_resident_id,
    mask_mobile,
    mask_name,
    mask_resident_id,
    parse_resident_id,
    validate_mobile,
    validate_resident_id,
)

GB_EXAMPLE = "11010519491231002X"  # the worked example of GB 11643-1999

regions = st.text(alphabet="0123456789", min_size=6, max_size=6)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 11, 1))
sequences = st.integers(min_value=0, max_value=999)


# --- resident identity number ------------------------------------------------------------


def test_the_standards_example_is_valid() -> None:
    assert validate_resident_id(GB_EXAMPLE) == GB_EXAMPLE
    parsed = parse_resident_id(GB_EXAMPLE)
    assert parsed.region == "110105"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sequence == "002"
    assert parsed.sex == "female"


def test_weights_are_the_iso_7064_mod_11_2_ones() -> None:
    assert ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def test_a_lower_case_x_is_normalised() -> None:
    assert validate_resident_id(GB_EXAMPLE.lower()) == GB_EXAMPLE


def test_make_resident_id_defaults() -> None:
    number = make_resident_id()
    assert number == "610928199001010017"
    assert parse_resident_id(number).sex == "male"
    assert parse_resident_id(make_resident_id(seq=2)).sex == "female"


def test_make_resident_id_refuses_bad_parts() -> None:
    with pytest.raises(ValueError):
        make_resident_id(region="61092")
    with pytest.raises(ValueError):
        make_resident_id(seq=1000)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("11010519491231002", "18 characters"),
        ("11010519491231002X1", "18 characters"),
        ("", "18 characters"),
        ("1101051949123100X2", "17 digits and a check character"),
        ("11010519491231002Y", "17 digits and a check character"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "17 digits and a check character"),  # non-ASCII digits
        ("110105194902300021", "valid birth date"),  # 30 February
        ("110105194913010021", "valid birth date"),  # month 13
        ("110105189912310021", "valid birth date"),  # before 1900
        ("110105194912310021", "GB 11643 checksum"),
        ("110105194912310020", "GB 11643 checksum"),
    ],
)
def test_invalid_id_numbers(value: str, rule: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_resident_id(value, field="applicant.id_number")
    assert caught.value.field == "applicant.id_number"
    assert caught.value.rule == rule
    assert caught.value.type == "validation-error"


def test_default_field_name() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_resident_id("123")
    assert caught.value.field == "id_number"


def test_a_birth_date_in_the_future_is_refused_when_today_is_given() -> None:
    number = make_resident_id(birth=dt.date(2026, 12, 1))
    assert validate_resident_id(number) == number
    with pytest.raises(InvalidArgument) as caught:
        validate_resident_id(number, today=dt.date(2026, 11, 27))
    assert caught.value.rule == "valid birth date"


def test_check_character_needs_seventeen_digits() -> None:
    with pytest.raises(ValueError):
        id_check_character("1234")


@given(region=regions, birth=births, seq=sequences)
def test_generated_ids_are_valid_and_parse_back(region: str, birth: dt.date, seq: int) -> None:
    number = make_resident_id(region=region, birth=birth, seq=seq)
    parsed = parse_resident_id(number)
    assert (parsed.region, parsed.birth_date, parsed.sequence) == (region, birth, f"{seq:03d}")
    assert parsed.sex == ("male" if seq % 2 else "female")


@given(
    region=regions,
    birth=births,
    seq=sequences,
    position=st.sampled_from([*range(6), 14, 15, 16, 17]),
    replacement=st.sampled_from("0123456789X"),
)
def test_any_single_changed_character_breaks_the_checksum(
    region: str, birth: dt.date, seq: int, position: int, replacement: str
) -> None:
    number = make_resident_id(region=region, birth=birth, seq=seq)
    if replacement == number[position] or (replacement == "X" and position != 17):
        return
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidArgument) as caught:
        validate_resident_id(changed)
    assert caught.value.rule == "GB 11643 checksum"


@given(region=regions, birth=births, seq=sequences, i=st.integers(0, 16))
def test_swapping_two_neighbours_is_caught(region: str, birth: dt.date, seq: int, i: int) -> None:
    number = make_resident_id(region=region, birth=birth, seq=seq)
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    if swapped == number:
        return
    with pytest.raises(InvalidArgument):
        validate_resident_id(swapped)


# --- mobile numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
    ],
)
def test_valid_mobile_numbers(value: str, normalised: str) -> None:
    assert validate_mobile(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "12812345678",  # 12 is not a mobile prefix
        "10012345678",
        "1381234567",
        "138123456789",
        "1381234567a",
        "１３８１２３４５６７８",  # full-width digits
        "02988888888",  # a landline
        "",
    ],
)
def test_invalid_mobile_numbers(value: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_mobile(value, field="applicant.phone")
    assert caught.value.field == "applicant.phone"
    assert caught.value.rule == "mainland mobile"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_eleven_digit_1_3_to_9_number_is_valid(number: str) -> None:
    assert validate_mobile(number) == number


# --- masking -----------------------------------------------------------------------------


def test_mask_resident_id() -> None:
    assert mask_resident_id("610928199001010017") == "610***********0017"
    assert mask_resident_id(GB_EXAMPLE) == "110***********002X"
    assert mask_resident_id("1234567") == "*******"
    assert mask_resident_id("") == ""


def test_mask_mobile() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("123") == "***"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张玉祥", "张**"),
        ("李娜", "李*"),
        ("欧阳修", "欧阳*"),
        ("诸葛孔明", "诸葛**"),
        ("欧阳", "欧*"),  # too short to be a compound family name plus a given name
        ("王", "*"),
        ("", ""),
        (" 张三 ", "张*"),
        ("John Smith", "J*** *****"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@given(st.text(min_size=11, max_size=30))
def test_masking_keeps_the_length(value: str) -> None:
    assert len(mask_resident_id(value)) == len(value)
    assert len(mask_mobile(value)) == len(value)


# --- fingerprints ------------------------------------------------------------------------


def test_fingerprint_is_hmac_sha256_hex() -> None:
    key = b"township-secret"
    expected = hmac.new(key, GB_EXAMPLE.encode(), hashlib.sha256).hexdigest()
    assert fingerprint(GB_EXAMPLE, key) == expected
    assert fingerprint(GB_EXAMPLE, "township-secret") == expected
    assert len(expected) == 64


def test_fingerprint_depends_on_value_and_key() -> None:
    assert fingerprint("13812345678", b"k1") == fingerprint("13812345678", b"k1")
    assert fingerprint("13812345678", b"k1") != fingerprint("13812345679", b"k1")
    assert fingerprint("13812345678", b"k1") != fingerprint("13812345678", b"k2")


def test_fingerprint_needs_a_key() -> None:
    with pytest.raises(ValueError):
        fingerprint("13812345678", b"")


def test_fingerprint_normalised_values_match() -> None:
    key = b"k"
    assert fingerprint(validate_resident_id(GB_EXAMPLE.lower()), key) == fingerprint(
        GB_EXAMPLE, key
    )
    assert fingerprint(validate_mobile("+86 138-1234-5678"), key) == fingerprint("13812345678", key)
