"""The responsibility matrix, the funding ledger's arithmetic, redeployment and attendance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from township_platform.errors import Conflict, InvalidArgument, PermissionDenied
from township_platform.principal import Principal
from township_stationed.domain import attendance, funding, matrix, redeployment

D = Decimal
ADMIN = Principal(sub="a", roles=("township_admin",), township="zhaowan")
CLERK = Principal(sub="c", roles=("clerk",), township="zhaowan")
FINANCE = Principal(sub="f", roles=("county_dept",), department="finance")
JUSTICE = Principal(sub="j", roles=("county_dept",), department="justice")
M = matrix.DEFAULT_MATRIX


def test_the_matrix_refuses_the_wrong_party_both_ways() -> None:
    assert matrix.authorize(M, "pay_disbursement", ADMIN, "zhaowan", "finance") == "township"
    assert matrix.authorize(M, "training", FINANCE, "zhaowan", "finance") == "county"
    with pytest.raises(PermissionDenied) as e:
        matrix.authorize(M, "training", ADMIN, "zhaowan", "finance")
    assert e.value.type == "matrix-forbids"
    with pytest.raises(PermissionDenied):
        matrix.authorize(M, "pay_disbursement", FINANCE, "zhaowan", "finance")
    with pytest.raises(PermissionDenied):  # another department is no party at all
        matrix.authorize(M, "training", JUSTICE, "zhaowan", "finance")
    with pytest.raises(PermissionDenied):  # a clerk is not the township's party
        matrix.authorize(M, "attendance", CLERK, "zhaowan", "finance")
    assert matrix.authorize(M, "redeployment", ADMIN, "zhaowan", "finance", as_="advises")
    with pytest.raises(PermissionDenied):
        matrix.authorize(M, "redeployment", FINANCE, "zhaowan", "finance", as_="advises")


def test_the_matrix_is_configurable() -> None:
    custom = dict(M, attendance=matrix.Responsibility("county"))
    assert matrix.authorize(custom, "attendance", FINANCE, "zhaowan", "finance") == "county"
    with pytest.raises(PermissionDenied):
        matrix.authorize(custom, "attendance", ADMIN, "zhaowan", "finance")


def test_a_configured_row_is_validated() -> None:
    assert matrix.configured("attendance", "county", "township", "") == matrix.Responsibility(
        "county", "township", ""
    )
    for bad in (("flying", "county", "", ""), ("training", "nobody", "", "")):
        with pytest.raises(InvalidArgument):
            matrix.configured(*bad)
    with pytest.raises(InvalidArgument):
        matrix.configured("training", "county", "county", "")


def test_amounts_are_yuan_to_the_fen() -> None:
    assert funding.parse_amount("100000.01") == D("100000.01")
    for bad in ("0", "-1", "0.001", "abc", "NaN"):
        with pytest.raises(InvalidArgument):
            funding.parse_amount(bad)
    assert funding.parse_amount("-0.01", signed=True) == D("-0.01")


def test_balance_and_over_budget() -> None:
    bal = funding.balance(
        [("allocation", D("1000.00")), ("disbursement", D("-400.00")), ("correction", D("0.01"))]
    )
    assert (bal.allocated, bal.disbursed, bal.remaining) == (D("1000.01"), D("400.00"), D("600.01"))
    funding.check_disbursement(D("600.01"), D("600.01"))
    with pytest.raises(Conflict) as e:
        funding.check_disbursement(D("600.01"), D("600.02"))
    assert e.value.type == "over-budget"
    with pytest.raises(Conflict):
        funding.check_correction(D("5"), D("-5.01"))


def test_redeployment_runs_through_both_parties() -> None:
    state = redeployment.step("PROPOSED", "object")
    assert state == "OBJECTED"
    state = redeployment.step(state, "confirm")
    assert state == "COUNTY_DECISION"
    assert redeployment.step(state, "take_effect") == "EFFECTIVE"
    with pytest.raises(Conflict):
        redeployment.step("PROPOSED", "confirm")  # the township's opinion comes first
    with pytest.raises(Conflict):
        redeployment.step("EFFECTIVE", "withdraw")
    assert redeployment.due(date(2026, 1, 1), date(2026, 1, 1))
    assert not redeployment.due(None, date(2026, 1, 1))


def test_quarters_and_tallies() -> None:
    assert attendance.quarter_range(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    assert attendance.quarter_range(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    with pytest.raises(InvalidArgument):
        attendance.quarter_range(2026, 5)
    t = attendance.tally([("a", "present"), ("a", "present"), ("a", "leave"), ("b", "absent")])
    assert t["a"]["present"] == 2 and t["a"]["leave"] == 1 and t["b"]["absent"] == 1
