"""County administration of the service catalogue (事项目录) and its delegations (下放)."""

from __future__ import annotations

from typing import Literal

from fastapi import Path, Query

from township.permits.v1 import permits_pb2
from township_gateway.auth import require_roles
from township_gateway.deps import PROBLEM_RESPONSES, ServicesDep
from township_gateway.routing import PrefixRouter
from township_gateway.schemas import TimeLimitOut
from township_gateway.schemas_permits import (
    DelegationIn,
    DelegationOut,
    MaterialRequirementOut,
    ServiceGuideOut,
    ServiceItemIn,
    StepOut,
)
from township_platform.principal import Principal

router = PrefixRouter(prefix="/api/v1/catalogue", tags=["catalogue"], responses=PROBLEM_RESPONSES)

ITEM = Path(pattern=r"^(XK|GG|QT)-\d{5}-\d{3}$")
SLUG = Path(pattern=r"^[a-z][a-z0-9-]{1,30}$")
ADMIN = require_roles("county_admin")


def _limit(t: permits_pb2.TimeLimit) -> TimeLimitOut:
    return TimeLimitOut(amount=t.amount, unit=t.unit)


def guide_out(g: permits_pb2.ServiceGuide) -> ServiceGuideOut:
    """A service guide."""
    return ServiceGuideOut(
        code=g.code,
        name_zh=g.name_zh,
        name_en=g.name_en,
        type=g.type,
        department=g.department,
        department_name_zh=g.department_name_zh,
        legal_basis=list(g.legal_basis),
        statutory_limit=_limit(g.statutory_limit),
        promised_limit=_limit(g.promised_limit),
        statutory_extension=_limit(g.statutory_extension) if g.statutory_extension.amount else None,
        fee=g.fee,
        materials=[
            MaterialRequirementOut(
                code=m.code,
                name_zh=m.name_zh,
                name_en=m.name_en,
                form=m.form,
                count=m.count,
                required=m.required,
                condition_zh=m.condition_zh,
                condition_en=m.condition_en,
            )
            for m in g.materials
        ],
        steps=[StepOut(zh=s.zh, en=s.en) for s in g.steps],
        visits=g.visits,
        channels=list(g.channels),
        level=g.level,
        delegated_level=g.delegated_level,
    )


def delegation_out(d: permits_pb2.Delegation) -> DelegationOut:
    """A delegation."""
    return DelegationOut(
        township=d.township_id,
        item_code=d.item_code,
        level=d.level,
        document_no=d.document_no,
        document_title=d.document_title,
        source=d.source,
    )


@router.get("/items", response_model=list[ServiceGuideOut], summary="The county catalogue")
async def list_items(
    services: ServicesDep,
    principal: Principal = require_roles("county_admin", "auditor", "county_dept", "approver"),
    department: str | None = Query(None, pattern=r"^[a-z][a-z0-9-]{1,30}$"),
    type: Literal["licensing", "public_service", "other"] | None = None,
) -> list[ServiceGuideOut]:
    """Every item of the county catalogue with its guide, delegated to a township or not."""
    reply = await services.call(
        services.permits.ListServiceItems,
        permits_pb2.ListServiceItemsRequest(department=department or "", type=type or ""),
        principal,
    )
    return [guide_out(g) for g in reply.items]


@router.put(
    "/items/{item_code}", response_model=ServiceGuideOut, summary="Create or replace an item"
)
async def put_item(
    body: ServiceItemIn,
    services: ServicesDep,
    principal: Principal = ADMIN,
    item_code: str = ITEM,
) -> ServiceGuideOut:
    """County admins: create or replace a service item with its full guide. The code's prefix
    must match the type (XK licensing, GG public service, QT other); the promised limit may
    not exceed the statutory one. A later seed keeps these edits."""
    m = body
    ext = m.statutory_extension
    g = await services.call(
        services.permits.UpsertServiceItem,
        permits_pb2.UpsertServiceItemRequest(
            item=permits_pb2.ServiceGuide(
                code=item_code,
                name_zh=m.name.zh,
                name_en=m.name.en,
                type=m.type,
                department=m.department,
                legal_basis=m.legal_basis,
                statutory_limit=permits_pb2.TimeLimit(
                    amount=m.statutory_limit.amount, unit=m.statutory_limit.unit
                ),
                promised_limit=permits_pb2.TimeLimit(
                    amount=m.promised_limit.amount, unit=m.promised_limit.unit
                ),
                statutory_extension=permits_pb2.TimeLimit(
                    amount=ext.amount if ext else 0, unit=ext.unit if ext else ""
                ),
                fee=m.fee,
                materials=[
                    permits_pb2.MaterialRequirement(
                        code=x.code,
                        name_zh=x.name.zh,
                        name_en=x.name.en,
                        form=x.form,
                        count=x.count,
                        required=x.required,
                        condition_zh=x.condition.zh if x.condition else "",
                        condition_en=x.condition.en if x.condition else "",
                    )
                    for x in m.materials
                ],
                steps=[permits_pb2.GuideStep(zh=s.zh, en=s.en) for s in m.steps],
                visits=m.visits,
                channels=list(m.channels),
                level=m.level,
            )
        ),
        principal,
    )
    return guide_out(g)


@router.get("/delegations", response_model=list[DelegationOut], summary="Delegations")
async def list_delegations(
    services: ServicesDep,
    principal: Principal = require_roles("county_admin", "auditor", "township_admin", "clerk"),
    township: str | None = Query(None, pattern=r"^[a-z][a-z0-9-]{1,30}$"),
    item: str | None = Query(None, pattern=r"^(XK|GG|QT)-\d{5}-\d{3}$"),
) -> list[DelegationOut]:
    """Which items are delegated where, with the delegating document (township staff: their
    own town only)."""
    reply = await services.call(
        services.permits.ListDelegations,
        permits_pb2.ListDelegationsRequest(township_id=township or "", item_code=item or ""),
        principal,
    )
    return [delegation_out(d) for d in reply.delegations]


@router.put(
    "/delegations/{township}/{item_code}",
    response_model=DelegationOut,
    summary="Delegate an item to a township",
)
async def put_delegation(
    body: DelegationIn,
    services: ServicesDep,
    principal: Principal = ADMIN,
    township: str = SLUG,
    item_code: str = ITEM,
) -> DelegationOut:
    """County admins: delegate an item to a configured township, or down to its village
    service rooms (only items offered in village rooms), citing the delegating document."""
    d = await services.call(
        services.permits.PutDelegation,
        permits_pb2.PutDelegationRequest(
            delegation=permits_pb2.Delegation(
                township_id=township,
                item_code=item_code,
                level=body.level,
                document_no=body.document_no,
                document_title=body.document_title,
            )
        ),
        principal,
    )
    return delegation_out(d)


@router.delete(
    "/delegations/{township}/{item_code}",
    status_code=204,
    summary="Withdraw a delegation",
    response_model=None,
)
async def remove_delegation(
    services: ServicesDep,
    principal: Principal = ADMIN,
    township: str = SLUG,
    item_code: str = ITEM,
) -> None:
    """County admins: the township no longer takes the item (open applications continue)."""
    await services.call(
        services.permits.RemoveDelegation,
        permits_pb2.RemoveDelegationRequest(township_id=township, item_code=item_code),
        principal,
    )
