"""Hot-path reads on raw prepared statements (no ORM, no transaction).

The ORM path of ``GetApplication`` (a unit of work, ``session.get`` of the application and
of its item, then a query for the history) cost ~3 ms of CPU per call; this is one
statement, with row-level security still scoping it (see ``township_platform.db.ReadPool``).
Rows are handed to the same converters as ORM rows through read-only attribute views.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from township_permits.models import ApplicationRow, HistoryRow, ServiceItemRow
from township_platform.db import ReadPool

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
