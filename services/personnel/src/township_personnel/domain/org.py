"""Org units, posts and staffing status."""

from __future__ import annotations

from decimal import Decimal

from township_platform.errors import Conflict, InvalidArgument

STATUSES = ("administrative", "public-institution", "stationed", "contract")
KINDS = ("office", "centre", "special")


def normalise_status(status: str) -> str:
    """A staffing status (``public_institution`` accepted for ``public-institution``)."""
    value = status.strip().replace("_", "-")
    if value not in STATUSES:
        raise InvalidArgument(
            f"unknown staffing status {status!r}",
            field="status",
            rule="one of " + "|".join(STATUSES),
        )
    return value


def check_body_cap(active_bodies: int, max_bodies: int) -> None:
    """Refuse a new body beyond the town's cap (10 by default: the "4+4+N" pattern)."""
    if active_bodies >= max_bodies:
        raise Conflict(
            f"the township already has {active_bodies} bodies; the cap is {max_bodies}",
            type="org-unit-cap-reached",
        )


def effective_coefficient(coefficient: Decimal, workload_factor: Decimal) -> Decimal:
    """The coefficient used in distributions: the post's, adjusted by its workload."""
    return coefficient * workload_factor


def parse_factor(raw: str, field: str, *, default: str | None = None) -> Decimal:
    """A coefficient-like number: 0 < x ≤ 10, at most 2 decimals."""
    if not raw and default is not None:
        raw = default
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise InvalidArgument(f"{field} is not a number", field=field, rule="decimal") from None
    if (
        not value.is_finite()
        or value <= 0
        or value > 10
        or value != value.quantize(Decimal("0.01"))
    ):
        raise InvalidArgument(
            f"{field} must be in (0, 10] with at most 2 decimals", field=field, rule="(0, 10]"
        )
    return value
