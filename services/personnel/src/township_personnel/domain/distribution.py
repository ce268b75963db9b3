"""Bonus distribution (绩效奖金分配) by post coefficient and points (系数+积分).

``share_i = pool × cᵢ·pᵢ / Σ cⱼ·pⱼ``, where cᵢ is the post coefficient and pᵢ the person's
total points for the period. The exact shares are rational; they are rounded to the fen
(0.01 yuan) by the largest-remainder method (最大余额法) so that they add up exactly to the pool:

1. every share is first rounded down to the fen;
2. the fen left over (fewer than the number of people) go one each to the lines with the
   largest remainders; equal remainders go to the smaller person id first.

People whose weight cᵢ·pᵢ is zero or negative (no points, net negative points after
deductions, or a zero coefficient) get nothing and are left out of the denominator, so a
deduction can never take money from the others' shares. If nobody has a positive weight the
pool cannot be split and the call is refused.

Everything is exact: coefficients and points are ``Decimal``; weights and fractions are
computed as ``Fraction``; each result line keeps every intermediate value for the notice
(公示) and for appeals.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from township_platform.errors import InvalidArgument

FEN = Decimal("0.01")
EXACT_PLACES = 10
"""Decimal places used when an exact (rational) value is shown as a decimal."""


@dataclass(frozen=True, slots=True)
class ShareInput:
    """One person's claim on the pool: post coefficient and points by rule."""

    person: str
    coefficient: Decimal
    points_by_rule: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ShareLine:
    """One person's share, with every step that led to it."""

    person: str
    coefficient: Decimal
    points_by_rule: Mapping[str, Decimal]
    total_points: Decimal
    weight: Decimal
    fraction: Fraction
    exact_share: Fraction
    floor_share: Decimal
    remainder: Fraction
    fen_added: int
    share: Decimal

    @property
    def included(self) -> bool:
        """True when the person took part in the split (positive weight)."""
        return self.weight > 0


@dataclass(frozen=True, slots=True)
class Distribution:
    """A pool split into shares that sum exactly to it."""

    pool: Decimal
    total_weight: Decimal
    lines: tuple[ShareLine, ...]

    @property
    def total(self) -> Decimal:
        """Sum of the shares (always equal to the pool)."""
        return sum((line.share for line in self.lines), Decimal("0.00"))


def _finite(value: Decimal, field_name: str, person: str) -> Fraction:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidArgument(
            f"{field_name} of {person!r} must be a finite Decimal, got {value!r}",
            field=field_name,
            rule="finite decimal",
        )
    return Fraction(value)


def _scaled(units: int, places: int) -> Decimal:
    """``units × 10^-places`` as an exact Decimal (no context rounding)."""
    return Decimal(f"{units}E-{places}")


def _to_decimal(value: Fraction) -> Decimal:
    """An exact Decimal for a Fraction with a finite decimal expansion (sums, products)."""
    places, scale = 0, 1
    while (value.numerator * scale) % value.denominator:
        places, scale = places + 1, scale * 10
    return _scaled(value.numerator * scale // value.denominator, places)


def _decimal_text(value: Fraction, places: int = EXACT_PLACES) -> str:
    """``value`` as a decimal string rounded half-even to ``places`` digits after the point."""
    return _text(_scaled(round(value * 10**places), places))


def _text(value: Decimal) -> str:
    """Plain positional notation, never scientific (``0.00``, not ``0E-2``)."""
    return format(value, "f")


def _validate_pool(pool: Decimal) -> int:
    if not isinstance(pool, Decimal) or not pool.is_finite():
        raise InvalidArgument(
            f"pool must be a finite Decimal, got {pool!r}", field="pool", rule="finite decimal"
        )
    if pool < 0:
        raise InvalidArgument(f"pool must not be negative: {pool}", field="pool", rule=">= 0")
    fen = Fraction(pool) * 100
    if fen.denominator != 1:
        raise InvalidArgument(
            f"pool must be in whole fen (at most 2 decimals): {pool}",
            field="pool",
            rule="at most 2 decimals",
        )
    return int(fen)


def distribute_bonus(pool: Decimal, lines: Sequence[ShareInput]) -> Distribution:
    """Split ``pool`` by weight cᵢ·pᵢ, rounded to the fen by largest remainder, summing exactly."""
    pool_fen = _validate_pool(pool)
    seen: set[str] = set()
    weights: list[Fraction] = []
    totals: list[Fraction] = []
    for line in lines:
        if line.person in seen:
            raise InvalidArgument(
                f"person {line.person!r} appears twice", field="person", rule="unique"
            )
        seen.add(line.person)
        coefficient = _finite(line.coefficient, "coefficient", line.person)
        if coefficient < 0:
            raise InvalidArgument(
                f"coefficient of {line.person!r} must not be negative: {line.coefficient}",
                field="coefficient",
                rule=">= 0",
            )
        total = sum(
            (_finite(p, "points", line.person) for p in line.points_by_rule.values()),
            Fraction(0),
        )
        totals.append(total)
        weights.append(coefficient * total)

    total_weight = sum((w for w in weights if w > 0), Fraction(0))
    if total_weight == 0:
        raise InvalidArgument(
            "nobody has a positive weight (coefficient × points): the pool cannot be split",
            field="points",
            rule="at least one positive weight",
        )

    exact_fen = [pool_fen * w / total_weight if w > 0 else Fraction(0) for w in weights]
    floor_fen = [math.floor(x) for x in exact_fen]
    leftover = pool_fen - sum(floor_fen)
    order = sorted(
        (i for i, w in enumerate(weights) if w > 0),
        key=lambda i: (-(exact_fen[i] - floor_fen[i]), lines[i].person),
    )
    bonus = set(order[:leftover])

    result = []
    for i, line in enumerate(lines):
        included = weights[i] > 0
        added = 1 if i in bonus else 0
        result.append(
            ShareLine(
                person=line.person,
                coefficient=line.coefficient,
                points_by_rule=MappingProxyType(dict(line.points_by_rule)),
                total_points=_to_decimal(totals[i]),
                weight=_to_decimal(weights[i]),
                fraction=weights[i] / total_weight if included else Fraction(0),
                exact_share=exact_fen[i] / 100,
                floor_share=_scaled(floor_fen[i], 2),
                remainder=(exact_fen[i] - floor_fen[i]) / 100,
                fen_added=added,
                share=_scaled(floor_fen[i] + added, 2),
            )
        )
    return Distribution(pool=pool, total_weight=_to_decimal(total_weight), lines=tuple(result))


def _rules(distribution: Distribution) -> list[str]:
    return sorted({rule for line in distribution.lines for rule in line.points_by_rule})


def _line_record(line: ShareLine) -> dict[str, object]:
    return {
        "person": line.person,
        "coefficient": _text(line.coefficient),
        "points_by_rule": {rule: _text(points) for rule, points in line.points_by_rule.items()},
        "total_points": _text(line.total_points),
        "weight": _text(line.weight),
        "included": line.included,
        "fraction": str(line.fraction),
        "exact_share": _decimal_text(line.exact_share),
        "exact_share_fraction": str(line.exact_share),
        "floor_share": _text(line.floor_share),
        "remainder": _decimal_text(line.remainder),
        "fen_added": line.fen_added,
        "share": _text(line.share),
    }


def render_json(distribution: Distribution) -> str:
    """The distribution as JSON: amounts as decimal strings, fractions as ``"n/d"``."""
    document = {
        "pool": _text(distribution.pool),
        "total_weight": _text(distribution.total_weight),
        "total": _text(distribution.total),
        "rounding": "largest remainder to the fen; ties by larger remainder, then person id",
        "lines": [_line_record(line) for line in distribution.lines],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


CSV_COLUMNS = (
    "person",
    "coefficient",
    "total_points",
    "weight",
    "fraction",
    "exact_share",
    "floor_share",
    "remainder",
    "fen_added",
    "share",
)
"""Fixed CSV columns; one ``points:<rule>`` column per rule follows ``coefficient``."""


def _points_cell(line: ShareLine, rule: str) -> str:
    points = line.points_by_rule.get(rule)
    return "" if points is None else _text(points)


def render_csv(distribution: Distribution) -> str:
    """The distribution as CSV (RFC 4180), one row per person, one column per points rule."""
    rules = _rules(distribution)
    header = [CSV_COLUMNS[0], CSV_COLUMNS[1], *(f"points:{r}" for r in rules), *CSV_COLUMNS[2:]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for line in distribution.lines:
        writer.writerow(
            [
                line.person,
                _text(line.coefficient),
                *(_points_cell(line, rule) for rule in rules),
                _text(line.total_points),
                _text(line.weight),
                str(line.fraction),
                _decimal_text(line.exact_share),
                _text(line.floor_share),
                _decimal_text(line.remainder),
                line.fen_added,
                _text(line.share),
            ]
        )
    return buffer.getvalue()
