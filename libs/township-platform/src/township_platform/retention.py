"""How long a service keeps what it deduplicates with, and the sweep that forgets the rest.

Every service keeps three bookkeeping tables that grow with every request and event: the
Idempotency-Keys it answered (with the stored response), the inbox of events each of its
consumers applied, and the outbox of the events it published (kept for ``township replay``).
Without a limit they grow for ever (a county of 100 towns at 1,000 applications a day adds
~100,000 rows a day to each). The sweep deletes rows older than their retention in small
batches (no long lock, no long transaction), every few minutes, on every replica (batches of
two replicas never wait for each other for long: each deletes what it finds, by physical
row address).

The retention is a promise with a limit:

- an Idempotency-Key is honoured for ``IDEMPOTENCY_RETENTION_HOURS`` (7 days): a retry
  within it returns the first result; after it the key is new again;
- a published event stays in the outbox for ``OUTBOX_RETENTION_HOURS`` (24 hours), what
  ``township replay`` can re-publish; an unsent one stays until it is sent;
- an event is recognised as applied for ``INBOX_RETENTION_HOURS`` (14 days), which must
  exceed the time an event can still arrive: the stream keeps it ``STREAM_MAX_AGE_HOURS``
  (7 days) after it was published, and ``township replay`` re-publishes events the outbox
  kept ``OUTBOX_RETENTION_HOURS`` (24 hours). The settings refuse a shorter inbox.

Times are the database's clock (storage age), not the application's clock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

_PURGE = (
    "DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE {unsent}"
    "{column} < now() - make_interval(secs => $1) LIMIT $2))"
)
PURGE_INBOX = _PURGE.format(table="inbox", column="processed_at", unsent="")
PURGE_IDEMPOTENCY_KEYS = _PURGE.format(table="idempotency_keys", column="created_at", unsent="")
# sent events only: an unsent one waits for NATS however old it is
PURGE_OUTBOX = _PURGE.format(table="outbox", column="created_at", unsent="sent_at IS NOT NULL AND ")


@dataclass(frozen=True)
class Retention:
    """What a service keeps, in seconds, and how many rows one statement deletes."""

    inbox_seconds: float
    idempotency_seconds: float
    outbox_seconds: float
    batch: int = 5_000

    async def sweep(self, conn: asyncpg.Connection) -> dict[str, int]:
        """Delete what is past its retention; rows deleted per table."""
        deleted: dict[str, int] = {}
        for table, statement, keep in (
            ("inbox", PURGE_INBOX, self.inbox_seconds),
            ("idempotency_keys", PURGE_IDEMPOTENCY_KEYS, self.idempotency_seconds),
            ("outbox", PURGE_OUTBOX, self.outbox_seconds),
        ):
            total = 0
            while True:
                status = await conn.execute(statement, keep, self.batch)
                n = int(status.rsplit(" ", 1)[-1])
                total += n
                if n < self.batch:
                    break
                await asyncio.sleep(0.05)  # between batches: leave the database to the requests
            deleted[table] = total
        return deleted
