"""Funding of stationed units: budget lines and the append-only ledger of movements.

City finance allocates yearly lines per unit and person (salary, allowances, appraisal
bonus, benefits); the township disburses against them. Every movement is a ledger entry with
a signed effect on what remains: allocations add, disbursements subtract, corrections add
or subtract. Nothing is ever edited; a mistake is corrected by a new entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from township_platform.errors import Conflict, InvalidArgument

CATEGORIES = ("salary", "allowances", "appraisal_bonus", "benefits")
FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("100000000")


def parse_amount(raw: str, field: str = "amount", *, signed: bool = False) -> Decimal:
    """Yuan to the fen: a finite decimal with at most 2 places, positive unless ``signed``."""
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise InvalidArgument(f"{field} is not a number", field=field, rule="decimal") from None
    if not value.is_finite() or value != value.quantize(FEN):
        raise InvalidArgument(
            f"{field} must be in yuan with at most 2 decimals (to the fen)",
            field=field,
            rule="at most 2 decimals",
        )
    if (value == 0) or (not signed and value < 0) or abs(value) > MAX_AMOUNT:
        raise InvalidArgument(
            f"{field} must be {'non-zero' if signed else 'positive'} and at most {MAX_AMOUNT}",
            field=field,
            rule="non-zero" if signed else "> 0",
        )
    return value


@dataclass(frozen=True, slots=True)
class Balance:
    """What a line was given, what went out, and what remains."""

    allocated: Decimal
    disbursed: Decimal
    remaining: Decimal


def balance(movements: Iterable[tuple[str, Decimal]]) -> Balance:
    """Sum a line's (kind, signed amount) movements."""
    allocated = disbursed = remaining = Decimal("0.00")
    for kind, amount in movements:
        remaining += amount
        if kind == "disbursement":
            disbursed -= amount
        else:
            allocated += amount
    return Balance(allocated, disbursed, remaining)


def check_disbursement(remaining: Decimal, amount: Decimal) -> None:
    """Refuse a disbursement above what remains on the line."""
    if amount > remaining:
        raise Conflict(
            f"disbursement of {amount} exceeds the {remaining} remaining on the budget line",
            type="over-budget",
        )


def check_correction(remaining: Decimal, amount: Decimal) -> None:
    """A correction may not leave a line below zero."""
    if remaining + amount < 0:
        raise Conflict(
            f"a correction of {amount} would leave the line at {remaining + amount}",
            type="over-budget",
        )
