"""The responsibility matrix (权责清单) of stationed units, and authorisation by it.

"County's people, township's use" (县上人、镇上用): the township runs daily management,
attendance, appraisal and pay disbursement; the county department keeps professional
training, redeployment (调配) and hiring. For each function the matrix says which party
decides, which advises and which is informed; calls are allowed to the party the matrix
names, and to nobody else.

A caller is the *township* party of a unit when they are a ``township_admin`` of the unit's
township, and the *county* party when they are a ``county_dept`` user of the unit's
department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from township_platform.errors import InvalidArgument, PermissionDenied
from township_platform.principal import Principal

TOWNSHIP = "township"
COUNTY = "county"


@dataclass(frozen=True, slots=True)
class Responsibility:
    """Who decides, advises and is informed for one function."""

    decides: str
    advises: str = ""
    informed: str = ""


DEFAULT_MATRIX: dict[str, Responsibility] = {
    "daily_management": Responsibility(TOWNSHIP, "", COUNTY),
    "attendance": Responsibility(TOWNSHIP, "", COUNTY),
    "appraisal": Responsibility(TOWNSHIP, COUNTY, COUNTY),
    "pay_disbursement": Responsibility(TOWNSHIP, "", COUNTY),
    "training": Responsibility(COUNTY, "", TOWNSHIP),
    "redeployment": Responsibility(COUNTY, TOWNSHIP, TOWNSHIP),
    "hiring": Responsibility(COUNTY, TOWNSHIP, TOWNSHIP),
}
FUNCTIONS = tuple(DEFAULT_MATRIX)


def configured(function: str, decides: str, advises: str, informed: str) -> Responsibility:
    """A matrix row as configured, validated: a known function, one deciding party."""
    if function not in DEFAULT_MATRIX:
        raise InvalidArgument(
            f"unknown function {function!r}", field="function", rule="|".join(FUNCTIONS)
        )
    if decides not in (TOWNSHIP, COUNTY):
        raise InvalidArgument("decides must name a party", field="decides", rule="township|county")
    for name, value in (("advises", advises), ("informed", informed)):
        if value not in ("", TOWNSHIP, COUNTY):
            raise InvalidArgument(f"unknown party {value!r}", field=name, rule="|township|county")
    if advises == decides:
        raise InvalidArgument(
            "the deciding party does not also advise", field="advises", rule="other party"
        )
    return Responsibility(decides, advises, informed)


def party_of(principal: Principal, township: str, department: str) -> str | None:
    """Which party of a unit (township, department) the caller acts for, if any."""
    if principal.township == township and principal.has_role("township_admin"):
        return TOWNSHIP
    if (
        principal.township is None
        and principal.department == department
        and principal.has_role("county_dept")
    ):
        return COUNTY
    return None


def authorize(
    matrix: Mapping[str, Responsibility],
    function: str,
    principal: Principal,
    township: str,
    department: str,
    *,
    as_: str = "decides",
) -> str:
    """The caller's party if the matrix lets it ``decides``/``advises`` on ``function``."""
    row = matrix.get(function, DEFAULT_MATRIX[function])
    allowed = row.decides if as_ == "decides" else row.advises
    party = party_of(principal, township, department)
    if party is None or party != allowed:
        who = {TOWNSHIP: "the township", COUNTY: f"the county department ({department})"}
        raise PermissionDenied(
            f"the responsibility matrix gives '{function.replace('_', ' ')}' "
            f"({as_}) to {who.get(allowed, 'nobody')}",
            type="matrix-forbids",
        )
    return party


def may_read(principal: Principal, township: str, department: str) -> bool:
    """Both parties of a unit (and county admins and auditors) may read its records."""
    if party_of(principal, township, department) is not None:
        return True
    if principal.township == township:
        return True
    return principal.township is None and principal.has_role("county_admin", "auditor")
