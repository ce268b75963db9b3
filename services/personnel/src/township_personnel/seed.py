"""Idempotent seed of personnel: org units, posts, demo staff, the default points rules."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert as pg_insert

from township_personnel.domain.auto_points import DEFAULT_RULES
from township_personnel.models import OrgUnitRow, PersonRow, PointsRuleRow, PostRow
from township_platform.db import Database
from township_platform.towns import TownshipsConfig

# Demo staff of the pilot towns (subs match the dev tokens printed by `make run`).
DEMO_STAFF: dict[str, list[tuple[str, str, str]]] = {
    "zhaowan": [
        ("clerk-zw-01", "杨宏云", "public-institution"),
        ("clerk-zw-02", "王丽", "administrative"),
        ("agent-zw-01", "陈建国", "contract"),
        ("officer-zw-01", "刘强", "administrative"),
        ("officer-zw-02", "赵敏", "administrative"),
    ],
    "bailiu": [
        ("clerk-bl-01", "彭志莹", "administrative"),
        ("clerk-bl-02", "李娜", "public-institution"),
        ("officer-bl-01", "孙浩", "administrative"),
        ("officer-bl-02", "周婷", "administrative"),
    ],
}


async def seed(db: Database, towns: TownshipsConfig) -> dict[str, int]:
    """Upsert the configured towns' org units and posts, demo staff and default rules."""
    counts = {"org_units": 0, "posts": 0, "people": 0, "rules": 0}
    async with db.unit_of_work(source="personnel") as uow:
        s = uow.session
        for rule in DEFAULT_RULES:
            await s.execute(
                pg_insert(PointsRuleRow)
                .values(
                    code=rule.code,
                    name_zh=rule.name_zh,
                    name_en=rule.name_en,
                    points=rule.points,
                    cap_per_period=rule.cap_per_period,
                    trigger=rule.trigger,
                    evidence_required=rule.evidence_required,
                    approver_role=rule.approver_role,
                    claimable=rule.claimable,
                )
                .on_conflict_do_nothing()  # rules edited by the county are kept
            )
            counts["rules"] += 1
        for town in towns.townships:
            for unit in town.org_units:
                await s.execute(
                    pg_insert(OrgUnitRow)
                    .values(
                        township_id=town.slug,
                        code=unit.code,
                        name_zh=unit.name.zh,
                        name_en=unit.name.en,
                        kind=unit.kind,
                    )
                    .on_conflict_do_update(
                        index_elements=["township_id", "code"],
                        set_={"name_zh": unit.name.zh, "name_en": unit.name.en, "kind": unit.kind},
                    )
                )
                counts["org_units"] += 1
            for post in town.posts:
                values = {
                    "org_unit": post.org_unit,
                    "name_zh": post.name.zh,
                    "name_en": post.name.en,
                    "coefficient": Decimal(post.coefficient),
                }
                await s.execute(
                    pg_insert(PostRow)
                    .values(township_id=town.slug, code=post.code, **values)
                    .on_conflict_do_update(index_elements=["township_id", "code"], set_=values)
                )
                counts["posts"] += 1
            for sub, name, status in DEMO_STAFF.get(town.slug, []):
                await s.execute(
                    pg_insert(PersonRow)
                    .values(township_id=town.slug, sub=sub, name=name, status=status)
                    .on_conflict_do_nothing()
                )
                counts["people"] += 1
    return counts
