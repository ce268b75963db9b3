"""Idempotent seed of enforcement: the 140-item catalogue and each town's entrustments."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from township_enforcement.catalogue_data import Entrustment, load_enforcement_catalogue
from township_enforcement.models import EnforcementItemRow, EntrustmentRow
from township_platform.db import Database
from township_platform.towns import TownshipsConfig


async def seed(db: Database, towns: TownshipsConfig) -> dict[str, int]:
    """Upsert the items; replace each configured town's entrustments with the catalogue's.

    Pilot towns get their recorded entrustments (the expired early-pilot one included); a
    town onboarded later gets its preset (``enforcement_preset``), one entrustment per item
    from the item's own county department.
    """
    catalogue = load_enforcement_catalogue()
    counts = {"items": 0, "entrustments": 0}
    async with db.unit_of_work(source="enforcement") as uow:
        s = uow.session
        for item in catalogue.items:
            values = {
                "name_zh": item.name.zh,
                "name_en": item.name.en,
                "department": item.department,
                "category": item.category,
                "legal_basis": f"{item.legal_basis.law}{item.legal_basis.provision}",
                "discretion": [b.model_dump(mode="json") for b in item.bands],
            }
            await s.execute(
                pg_insert(EnforcementItemRow)
                .values(code=item.code, **values)
                .on_conflict_do_update(index_elements=["code"], set_=values)
            )
            counts["items"] += 1
        items = {i.code: i for i in catalogue.items}
        for town in towns.townships:
            recorded = [e for e in catalogue.entrustments if e.township == town.slug]
            if not recorded:
                preset = catalogue.preset(town.enforcement_preset)
                recorded = [
                    Entrustment(
                        item_code=code,
                        township=town.slug,
                        entrusting_department=items[code].department,
                        document_no=preset.document_no,
                        document_title=preset.document_title,
                        published_on=preset.published_on,
                        valid_from=preset.valid_from,
                        valid_to=preset.valid_to,
                    )
                    for code in preset.item_codes
                ]
            await s.execute(delete(EntrustmentRow).where(EntrustmentRow.township_id == town.slug))
            s.add_all(
                EntrustmentRow(
                    township_id=town.slug,
                    item_code=e.item_code,
                    entrusting_department=e.entrusting_department,
                    document_no=e.document_no,
                    valid_from=e.valid_from,
                    valid_to=e.valid_to,
                    published_on=e.published_on,
                )
                for e in recorded
            )
            counts["entrustments"] += len(recorded)
    return counts
