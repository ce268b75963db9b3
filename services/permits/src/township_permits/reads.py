"""Hot-path reads on raw prepared statements (no ORM, no transaction).

The ORM path of ``GetApplication`` (a unit of work, ``session.get`` of the application and
of its item, then a query for the history) cost ~3 ms of CPU per call; this is one
statement, with row-level security still scoping it (see ``township_platform.db.ReadPool``).
Rows are handed to the same converters as ORM rows through read-only attribute views.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson

from township_permits.models import ApplicationRow, HistoryRow, ReceiptRow, ServiceItemRow
from township_platform.db import ReadPool, Sql, UnitOfWork

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

APPLICATION_WITH_HISTORY = """
SELECT a.id, a.township_id, a.receipt_code, a.bundle, a.item_code, a.department, a.state,
       a.channel, a.village, a.applicant, a.materials, a.submitted_by, a.submitted_at,
       a.applicant_consent, a.received_on, a.correction_window_from, a.pauses,
       a.extension_days, a.decided_on, a.missing_materials,
       i.name_zh, i.promised_amount, i.promised_unit, i.statutory_amount, i.statutory_unit,
       (SELECT coalesce(json_agg(json_build_array(
                   h.from_state, h.to_state, h.action, h.actor_sub, h.reason,
                   (extract(epoch FROM h.at) * 1000000)::bigint) ORDER BY h.id), '[]'::json)
          FROM application_history h WHERE h.application_id = a.id) AS history
  FROM applications a JOIN service_items i ON i.code = a.item_code
 WHERE a.id = $1
"""


class RecordView:
    """Attribute access over a database record (what the converters read from ORM rows)."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None


class HistoryView:
    """One history entry from the aggregated JSON array."""

    __slots__ = ("action", "actor_sub", "at", "from_state", "reason", "to_state")

    def __init__(self, entry: list[Any]) -> None:
        self.from_state, self.to_state, self.action, self.actor_sub, self.reason = entry[:5]
        self.at = _EPOCH + timedelta(microseconds=entry[5])


async def application_with_history(
    pool: ReadPool, township: str | None, app_id: str
) -> tuple[ApplicationRow, ServiceItemRow, list[HistoryRow]] | None:
    """An application, its catalogue item and its history, in one statement."""
    record = await pool.fetchrow(township, APPLICATION_WITH_HISTORY, app_id)
    if record is None:
        return None
    view = RecordView(record)
    history = [HistoryView(e) for e in record["history"]]
    return (
        cast(ApplicationRow, view),
        cast(ServiceItemRow, view),
        cast(list[HistoryRow], history),
    )


# intake: the hot write path -------------------------------------------------------------
# An intake is the busiest write of the system (every service hall, every window). Its
# reference data is read in one statement and its rows written in one (data-modifying CTEs:
# the receipt, its applications and their first history entries; foreign keys are checked
# at the end of the statement), on the unit of work's own connection.
_INTAKE_CONTEXT = """
SELECT b.item_codes::text AS bundle_items,
       (SELECT coalesce(json_object_agg(d.item_code, d.level), '{}')::text
          FROM delegations d WHERE d.township_id = $1) AS levels,
       (SELECT coalesce(json_agg(json_build_object(
                   'code', s.code, 'name_zh', s.name_zh, 'department', s.department,
                   'promised_amount', s.promised_amount, 'promised_unit', s.promised_unit,
                   'statutory_amount', s.statutory_amount, 'statutory_unit', s.statutory_unit,
                   'channels', coalesce(s.guide -> 'channels', '[]'::jsonb))), '[]')::text
          FROM service_items s
         WHERE s.code = ANY(CASE WHEN $2 = '' THEN ARRAY[$3]::text[]
                                 ELSE ARRAY(SELECT jsonb_array_elements_text(b.item_codes))
                            END)) AS items
  FROM (SELECT 1) AS one LEFT JOIN bundles b ON b.code = $2
"""
_INTAKE_WRITES = """
receipt AS (
  INSERT INTO receipts (receipt_code, township_id, bundle, applicant_masked, submitted_at)
  VALUES ($1, $2, $3, $4, $5)
), opened AS (
  INSERT INTO applications (id, township_id, receipt_code, bundle, item_code, department,
                            state, channel, village, applicant, materials, submitted_by,
                            submitted_at, updated_at, applicant_consent, received_on,
                            correction_window_from, pauses, extension_days, decided_on,
                            promised_due, statutory_due, missing_materials)
  SELECT u.id, $2, $1, $3, u.item_code, u.department, 'SUBMITTED', $6, $7,
         $8::text::jsonb, $9::text::jsonb, $10, $5, $5, $11, $12, $12, '[]', 0, NULL,
         u.promised_due, u.statutory_due, '[]'
    FROM unnest($13::text[], $14::text[], $15::text[], $16::date[], $17::date[])
         AS u(id, item_code, department, promised_due, statutory_due)
  RETURNING id
), history AS (
  INSERT INTO application_history (application_id, township_id, from_state, to_state,
                                   action, actor_sub, reason, at)
  SELECT opened.id, $2, '', 'SUBMITTED', 'submit', $10, '', $5 FROM opened
)
"""


class IntakeItem:
    """What an intake needs of a catalogue item."""

    __slots__ = (
        "channels",
        "code",
        "department",
        "name_zh",
        "promised_amount",
        "promised_unit",
        "statutory_amount",
        "statutory_unit",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        self.code: str = data["code"]
        self.name_zh: str = data["name_zh"]
        self.department: str = data["department"]
        self.promised_amount: int = data["promised_amount"]
        self.promised_unit: str = data["promised_unit"]
        self.statutory_amount: int = data["statutory_amount"]
        self.statutory_unit: str = data["statutory_unit"]
        self.channels: list[str] = data["channels"]


async def intake_context(
    conn: Sql, township: str, bundle: str, item_code: str
) -> tuple[list[str] | None, dict[str, str], dict[str, IntakeItem]]:
    """The bundle's item codes (None when it does not exist), the town's delegations, and
    the catalogue items the intake may open (the bundle's, or the one item), by code."""
    row = await conn.fetchrow(_INTAKE_CONTEXT, township, bundle, item_code)
    bundle_items = orjson.loads(row["bundle_items"]) if bundle and row["bundle_items"] else None
    items = {d["code"]: IntakeItem(d) for d in orjson.loads(row["items"])}
    return bundle_items, orjson.loads(row["levels"]), items


def stage_intake(
    uow: UnitOfWork, receipt: ReceiptRow, apps: list[ApplicationRow], *, actor: str
) -> None:
    """Stage the receipt, its applications and their first history entries: written with
    the intake's events and Idempotency-Key in the unit of work's one statement.

    Every application of one intake shares its applicant, materials, channel, village and
    consent; what differs per item travels as arrays.
    """
    first = apps[0]
    uow.stage(
        _INTAKE_WRITES,
        receipt.receipt_code,
        receipt.township_id,
        receipt.bundle,
        receipt.applicant_masked,
        receipt.submitted_at,
        first.channel,
        first.village,
        orjson.dumps(first.applicant).decode(),
        orjson.dumps(first.materials).decode(),
        actor,
        first.applicant_consent,
        first.received_on,
        [a.id for a in apps],
        [a.item_code for a in apps],
        [a.department for a in apps],
        [a.promised_due for a in apps],
        [a.statutory_due for a in apps],
    )


# queues ---------------------------------------------------------------------------------
_PAGE_COLUMNS = """
SELECT a.id, a.township_id, a.receipt_code, a.bundle, a.item_code, a.department, a.state,
       a.channel, a.village, a.applicant, a.materials, a.submitted_by, a.submitted_at,
       a.applicant_consent, a.received_on, a.correction_window_from, a.pauses,
       a.extension_days, a.decided_on, a.missing_materials,
       i.name_zh, i.promised_amount, i.promised_unit, i.statutory_amount, i.statutory_unit
  FROM applications a JOIN service_items i ON i.code = a.item_code
"""
_RUNNING = ["SUBMITTED", "ACCEPTED", "IN_REVIEW"]


async def application_page(
    pool: ReadPool,
    scope: str | None,
    f: Any,
    *,
    page_size: int,
    after: str,
) -> list[tuple[ApplicationRow, ServiceItemRow]]:
    """A queue page (``f`` is a ``repository.ApplicationFilter``) in id order after ``after``.

    One statement with the item joined (cursor pagination on the UUIDv7 id: intake order);
    ``scope`` is the caller's township for row-level security (None: county).
    """
    where: list[str] = []
    args: list[Any] = []

    def cond(sql: str, value: Any) -> None:
        args.append(value)
        where.append(sql.format(f"${len(args)}"))

    if after:
        cond("a.id > {}", after)
    if f.township:
        cond("a.township_id = {}", f.township)
    if f.department:
        cond("a.department = {}", f.department)
    if f.village:
        cond("a.village = {}", f.village)
    if f.states:
        cond("a.state = ANY({}::text[])", list(f.states))
    if f.item_code:
        cond("a.item_code = {}", f.item_code)
    if f.channel:
        cond("a.channel = {}", f.channel)
    if f.intake_by:
        cond("a.submitted_by = {}", f.intake_by)
    if f.receipt_code:
        cond("a.receipt_code = {}", f.receipt_code)
    if f.overdue_on:
        cond("a.state = ANY({}::text[])", _RUNNING)
        cond("a.promised_due < {}", f.overdue_on)
    args.append(page_size)
    query = (
        _PAGE_COLUMNS
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY a.id LIMIT ${len(args)}"
    )
    rows = await pool.fetch(scope, query, *args)
    out = []
    for record in rows:
        view = RecordView(record)
        out.append((cast(ApplicationRow, view), cast(ServiceItemRow, view)))
    return out
