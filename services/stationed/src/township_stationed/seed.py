"""Idempotent seed of stationed: each configured town's stationed units."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert

from township_platform.db import Database
from township_platform.towns import TownshipsConfig
from township_stationed.models import StationedUnitRow


async def seed(db: Database, towns: TownshipsConfig) -> dict[str, int]:
    """Upsert the stationed units of every configured town."""
    count = 0
    async with db.unit_of_work(source="stationed") as uow:
        for town in towns.townships:
            for unit in town.stationed_units:
                values = {
                    "name_zh": unit.name.zh,
                    "name_en": unit.name.en,
                    "department": unit.department,
                }
                await uow.session.execute(
                    pg_insert(StationedUnitRow)
                    .values(township_id=town.slug, code=unit.code, **values)
                    .on_conflict_do_update(index_elements=["township_id", "code"], set_=values)
                )
                count += 1
    return {"units": count}
