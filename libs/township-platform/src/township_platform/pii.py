"""Personal data: validation, masking for display, and keyed fingerprints for lookups.

* Resident identity number (公民身份号码, GB 11643-1999): 6-digit region code, 8-digit birth
  date, 3-digit sequence (odd for men, even for women), and an ISO 7064 MOD 11-2 check
  character (``0``–``9`` or ``X``).
* Mainland mobile number (手机号): 11 digits, ``1[3-9]`` then nine digits.
* Masking (脱敏) keeps just enough to recognise a record: ID ``610***********1234``,
  phone ``138****5678``, name ``张**``.
* :func:`fingerprint` is an HMAC-SHA256, so a service can find a person by ID number or
  phone without storing the plain value; normalise first (the validators return the
  normalised form), or the same person gets two fingerprints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from township_platform.errors import InvalidArgument

ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
"""ISO 7064 MOD 11-2 weights of the first 17 digits (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, …)."""
ID_CHECK_CHARACTERS = "10X98765432"
"""Check character for each value of the weighted sum modulo 11."""

_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)

COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "独孤", "南宫", "西门",
        "申屠", "百里", "呼延", "澹台", "公冶", "太史", "赫连", "万俟", "闻人", "司空",
    }
)  # fmt: skip
"""Two-character family names (复姓) kept whole when a name is masked."""


def id_check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARACTERS[total % 11]


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A valid resident identity number, split into its parts."""

    number: str
    region: str
    birth_date: dt.date
    sequence: str

    @property
    def sex(self) -> str:
        """``"male"`` for an odd sequence, ``"female"`` for an even one."""
        return "male" if int(self.sequence[-1]) % 2 else "female"


def parse_resident_id(
    value: str, *, field: str = "id_number", today: dt.date | None = None
) -> ResidentId:
    """Validate and split an ID number; InvalidArgument(field=field, rule=…) when invalid."""
    number = value.upper() if isinstance(value, str) else ""
    if len(number) != 18:
        raise InvalidArgument(
            "a resident identity number has 18 characters", field=field, rule="18 characters"
        )
    if not number.isascii() or not _ID_SHAPE.fullmatch(number):
        raise InvalidArgument(
            "a resident identity number is 17 digits and a digit or X",
            field=field,
            rule="17 digits and a check character",
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth < _EARLIEST_BIRTH or (today is not None and birth > today):
        raise InvalidArgument(
            "the birth date in the resident identity number is not a valid date",
            field=field,
            rule="valid birth date",
        )
    if id_check_character(number[:17]) != number[17]:
        raise InvalidArgument(
            "the resident identity number's check character is wrong",
            field=field,
            rule="GB 11643 checksum",
        )
    return ResidentId(number=number, region=number[:6], birth_date=birth, sequence=number[14:17])


def validate_resident_id(
    value: str, *, field: str = "id_number", today: dt.date | None = None
) -> str:
    """The normalised ID number (upper-case X); InvalidArgument when invalid."""
    return parse_resident_id(value, field=field, today=today).number


def make_resident_id(
    region: str = "610928", birth: dt.date = dt.date(1990, 1, 1), seq: int = 1
) -> str:
    """A valid ID number for tests and seeds (odd ``seq`` for a man, even for a woman)."""
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"region must be 6 digits, got {region!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be 0..999, got {seq}")
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_character(first17)


def validate_mobile(value: str, *, field: str = "phone") -> str:
    """The 11-digit mainland mobile number (``+86``, spaces and dashes dropped)."""
    number = re.sub(r"[\s-]", "", value) if isinstance(value, str) else ""
    if number.startswith("+86"):
        number = number[3:]
    if not number.isascii() or not _MOBILE.fullmatch(number):
        raise InvalidArgument(
            "a mainland mobile number is 11 digits starting with 13 to 19",
            field=field,
            rule="mainland mobile",
        )
    return number


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    middle = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * middle + value[len(value) - keep_end :]


def mask_resident_id(value: str) -> str:
    """First 3 and last 4 characters shown: ``610***********1234``."""
    return _mask(value, 3, 4)


def mask_mobile(value: str) -> str:
    """First 3 and last 4 digits shown: ``138****5678``."""
    return _mask(value, 3, 4)


def mask_name(value: str) -> str:
    """Family name kept, the rest starred: ``张**``, ``欧阳*``; a lone character is starred."""
    name = value.strip()
    if len(name) <= 1:
        return "*" * len(name)
    family = name[:2] if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else name[:1]
    return family + "".join(" " if c == " " else "*" for c in name[len(family) :])


def fingerprint(value: str, key: bytes | str) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, hex: find records without storing the value."""
    secret = key.encode() if isinstance(key, str) else key
    if not secret:
        raise ValueError("fingerprint key must not be empty")
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()
