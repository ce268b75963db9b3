"""Idempotent seed of permits: the county catalogue, bundles and each town's delegations."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from township_permits.catalogue_data import load_catalogue
from township_permits.models import BundleRow, DelegationRow, ServiceItemRow
from township_platform.db import Database
from township_platform.towns import TownshipsConfig


async def seed(db: Database, towns: TownshipsConfig) -> dict[str, int]:
    """Upsert the catalogue and bundles; set each configured town's delegations."""
    catalogue = load_catalogue()
    counts = {"items": 0, "bundles": 0, "delegations": 0}
    async with db.unit_of_work(source="permits") as uow:
        s = uow.session
        for item in catalogue.items:
            values = {
                "name_zh": item.name.zh,
                "name_en": item.name.en,
                "type": item.type,
                "department": item.department,
                "legal_basis": "；".join(item.legal_basis),
                "statutory_amount": item.statutory_limit.amount,
                "statutory_unit": item.statutory_limit.unit,
                "promised_amount": item.promised_limit.amount,
                "promised_unit": item.promised_limit.unit,
                "fee": item.fee,
                "visits": item.visits,
                "guide": item.model_dump(
                    mode="json",
                    include={"materials", "steps", "channels", "statutory_extension", "level"},
                ),
            }
            # Items edited through the API (source "admin") keep their edits.
            await s.execute(
                pg_insert(ServiceItemRow)
                .values(code=item.code, **values)
                .on_conflict_do_update(
                    index_elements=["code"],
                    set_=values,
                    where=ServiceItemRow.source == "seed",
                )
            )
            counts["items"] += 1
        for bundle in catalogue.bundles:
            values = {
                "name_zh": bundle.name.zh,
                "name_en": bundle.name.en,
                "item_codes": list(bundle.item_codes),
            }
            await s.execute(
                pg_insert(BundleRow)
                .values(code=bundle.code, **values)
                .on_conflict_do_update(index_elements=["code"], set_=values)
            )
            counts["bundles"] += 1
        for town in towns.townships:
            preset = catalogue.preset(town.catalogue.preset)
            levels = dict.fromkeys(preset.township_items, "township")
            levels.update(dict.fromkeys(preset.village_items, "village"))
            for code in town.catalogue.extra_items:
                levels.setdefault(code, "township")
            for code in town.catalogue.excluded_items:
                levels.pop(code, None)
            await s.execute(
                delete(DelegationRow).where(
                    DelegationRow.township_id == town.slug,
                    DelegationRow.item_code.not_in(list(levels)),
                    DelegationRow.source == "seed",
                )
            )
            for code, level in sorted(levels.items()):
                values = {
                    "level": level,
                    "document_no": preset.document_no,
                    "document_title": preset.document_title,
                }
                await s.execute(
                    pg_insert(DelegationRow)
                    .values(township_id=town.slug, item_code=code, **values)
                    .on_conflict_do_update(
                        index_elements=["township_id", "item_code"],
                        set_=values,
                        where=DelegationRow.source == "seed",
                    )
                )
                counts["delegations"] += 1
    return counts
