"""Idempotent seed of stationed: each configured town's units and responsibility matrix."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert

from township_platform.db import Database
from township_platform.towns import TownshipsConfig
from township_stationed.domain.matrix import DEFAULT_MATRIX
from township_stationed.models import MatrixRow, StationedUnitRow


async def seed(db: Database, towns: TownshipsConfig) -> dict[str, int]:
    """Upsert the stationed units of every configured town; default matrix rows if missing."""
    count = rows = 0
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
            for function, r in DEFAULT_MATRIX.items():
                # A town's own configuration of the matrix is kept on re-seed.
                await uow.session.execute(
                    pg_insert(MatrixRow)
                    .values(
                        township_id=town.slug,
                        function=function,
                        decides=r.decides,
                        advises=r.advises,
                        informed=r.informed,
                    )
                    .on_conflict_do_nothing()
                )
                rows += 1
    return {"units": count, "matrix_rows": rows}
