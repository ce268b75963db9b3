"""PostgreSQL access: engine, the unit of work, and the platform's own tables.

A unit of work is one transaction. RPC handlers and event handlers each get exactly one;
it commits on success and rolls back on error, and nothing else commits. Events emitted
inside it are written to the outbox in the same transaction, so an event exists if and only
if the change it describes was committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from google.protobuf.any_pb2 import Any as AnyProto
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    func,
    insert,
    make_url,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from township.common.v1 import common_pb2
from township_platform import clock
from township_platform.ids import new_id
from township_platform.principal import Principal
from township_platform.telemetry import inject_trace_headers, trace_sql

OUTBOX_CHANNEL = "township_outbox"

platform_metadata = MetaData()

outbox = Table(
    "outbox",
    platform_metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("subject", String(255), nullable=False),
    Column("type", String(128), nullable=False),
    Column("township_id", String(64), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
)
Index("ix_outbox_unsent", outbox.c.seq, postgresql_where=outbox.c.sent_at.is_(None))

inbox = Table(
    "inbox",
    platform_metadata,
    Column("consumer", String(128), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("type", String(128), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

idempotency = Table(
    "idempotency_keys",
    platform_metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("method", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def async_url(url: str) -> str:
    """Normalise a PostgreSQL URL to the asyncpg driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


class Database:
    """One engine per process; hands out units of work."""

    def __init__(
        self, url: str, *, pool_size: int = 10, max_overflow: int = 5, read_pool_size: int = 4
    ) -> None:
        self.url = async_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            # Pinging on every checkout costs a round trip per unit of work; connections
            # idle for more than IDLE_PING_SECONDS are pinged instead (see _ping_if_idle).
            pool_pre_ping=False,
            pool_recycle=1800,
            # Errors and logs name the statement, never the bound values (personal data).
            hide_parameters=True,
        )
        trace_sql(self.engine.sync_engine, make_url(self.url).database or "")
        _ping_if_idle(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.reads = ReadPool(self.url, size=read_pool_size)

    @asynccontextmanager
    async def unit_of_work(
        self, principal: Principal | None = None, *, source: str = ""
    ) -> AsyncIterator[UnitOfWork]:
        """One transaction: commit on success, roll back on any exception."""
        async with self._sessions() as session, session.begin():
            uow = UnitOfWork(session=session, principal=principal, source=source)
            # Row-level security reads this setting (second wall behind query filters).
            tenant = principal.township if principal and principal.township else ""
            await session.execute(
                text("SELECT set_config('township.current', :t, true)"), {"t": tenant}
            )
            yield uow
            if uow.emitted:
                await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))

    def pool_in_use(self) -> int:
        """Connections currently checked out of the pool."""
        pool: Any = self.engine.pool
        return int(pool.checkedout()) if hasattr(pool, "checkedout") else 0

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.reads.close()
        await self.engine.dispose()


_CONNECTION_ERRORS = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    ConnectionError,
    OSError,
)


@dataclass(eq=False)
class _ReadConnection:
    conn: asyncpg.Connection
    township: str | None = None  # the township.current this session is scoped to


class ReadPool:
    """Raw asyncpg connections for the read-only hot paths (no ORM, no transaction).

    A read through the unit of work costs four round trips (BEGIN, the row-level-security
    setting, the query, COMMIT) and SQLAlchemy's per-statement work; here a read is one
    prepared statement. Each connection keeps ``township.current`` as a *session* setting
    and changes it only when the next caller is of another township, so row-level security
    still scopes every read. These connections are never used for writes or for the
    unscoped work of relays and consumers (those use the engine's pool).
    """

    def __init__(self, url: str, *, size: int = 4) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.size = size
        self._idle: asyncio.LifoQueue[_ReadConnection] = asyncio.LifoQueue()
        self._open = 0
        self._all: set[_ReadConnection] = set()

    async def _new(self) -> _ReadConnection:
        conn = await asyncpg.connect(self.dsn, timeout=5)
        for name in ("json", "jsonb"):
            await conn.set_type_codec(
                name,
                encoder=lambda v: orjson.dumps(v).decode(),
                decoder=orjson.loads,
                schema="pg_catalog",
            )
        return _ReadConnection(conn)

    async def _acquire(self) -> _ReadConnection:
        while True:
            try:
                rc = self._idle.get_nowait()
            except asyncio.QueueEmpty:
                if self._open < self.size:
                    self._open += 1
                    try:
                        rc = await self._new()
                    except BaseException:
                        self._open -= 1
                        raise
                    self._all.add(rc)
                    return rc
                rc = await self._idle.get()
            if not rc.conn.is_closed():
                return rc
            self._discard(rc)

    def _discard(self, rc: _ReadConnection) -> None:
        if rc in self._all:
            self._all.discard(rc)
            self._open -= 1
        rc.conn.terminate()

    @contextlib.asynccontextmanager
    async def connection(self, township: str | None) -> AsyncIterator[asyncpg.Connection]:
        """A connection scoped to ``township`` (None or "": unscoped, for county users)."""
        rc = await self._acquire()
        tenant = township or ""
        try:
            if rc.township != tenant:
                rc.township = None
                await rc.conn.execute("SELECT set_config('township.current', $1, false)", tenant)
                rc.township = tenant
            yield rc.conn
        except (*_CONNECTION_ERRORS, asyncio.CancelledError):
            self._discard(rc)  # a query cut short may leave the protocol mid-message
            raise
        except BaseException:
            if rc.conn.is_in_transaction() or rc.township != tenant:
                self._discard(rc)
            else:
                self._idle.put_nowait(rc)
            raise
        else:
            self._idle.put_nowait(rc)

    async def fetchrow(self, township: str | None, query: str, *args: Any) -> Any:
        """One row (or None); retried once on a fresh connection after a lost one."""
        for attempt in (1, 2):
            try:
                async with self.connection(township) as conn:
                    return await conn.fetchrow(query, *args)
            except _CONNECTION_ERRORS:
                if attempt == 2:
                    raise
        return None  # pragma: no cover - the loop returns or raises

    async def fetch(self, township: str | None, query: str, *args: Any) -> list[Any]:
        """All rows; retried once on a fresh connection after a lost one."""
        for attempt in (1, 2):
            try:
                async with self.connection(township) as conn:
                    return list(await conn.fetch(query, *args))
            except _CONNECTION_ERRORS:
                if attempt == 2:
                    raise
        return []  # pragma: no cover

    async def close(self) -> None:
        """Close every connection."""
        for rc in list(self._all):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(rc.conn.close(), 2)
            self._all.discard(rc)
        self._open = 0


IDLE_PING_SECONDS = 1.0
_IDLE_SINCE = "township_idle_since"


def _ping_if_idle(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling without a round trip per checkout.

    A connection that sat in the pool for more than ``IDLE_PING_SECONDS`` (e.g. across a
    PostgreSQL restart) is pinged when checked out and replaced if the ping fails; one in
    constant use is not, since a dead server fails it at once and SQLAlchemy then
    invalidates the whole pool.
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since <= IDLE_PING_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as e:
            raise DisconnectionError(str(e)) from e
        if not alive:
            raise DisconnectionError("ping failed")


@dataclass
class UnitOfWork:
    """A transaction plus the events it will publish once committed."""

    session: AsyncSession
    principal: Principal | None
    source: str
    emitted: list[str] = field(default_factory=list)

    def actor(self) -> common_pb2.Actor:
        """The principal as an event actor."""
        p = self.principal
        if p is None:
            return common_pb2.Actor(sub="system", roles=["system"])
        return common_pb2.Actor(
            sub=p.sub, name=p.name, roles=list(p.roles), department=p.department or ""
        )

    async def emit(
        self,
        payload: Message,
        *,
        township: str,
        entity: str,
        verb: str,
        event_id: str | None = None,
    ) -> str:
        """Write an event to the outbox in this transaction; returns its event id."""
        event_id = event_id or new_id()
        type_ = f"{self.source}.{entity}.{verb}.v1"
        now = Timestamp()
        now.FromDatetime(clock.now())
        any_payload = AnyProto()
        any_payload.Pack(payload)
        envelope = common_pb2.EventEnvelope(
            event_id=event_id,
            type=type_,
            occurred_at=now,
            township_id=township,
            actor=self.actor(),
            payload=any_payload,
            source=self.source,
        )
        headers: dict[str, str] = {}
        inject_trace_headers(headers)
        await self.session.execute(
            insert(outbox).values(
                event_id=event_id,
                subject=event_subject(township, self.source, entity, verb),
                type=type_,
                township_id=township,
                envelope=envelope.SerializeToString(),
                headers=headers,
            )
        )
        self.emitted.append(event_id)
        return event_id

    async def mark_consumed(self, consumer: str, event_id: str, type_: str) -> bool:
        """Record ``event_id`` in the inbox; False when this consumer already handled it."""
        result = await self.session.execute(
            pg_insert(inbox)
            .values(consumer=consumer, event_id=event_id, type=type_)
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )
        return result.first() is not None

    async def find_idempotent(self, scope: str, key: str) -> tuple[str, str, bytes] | None:
        """(method, request hash, stored response) for an Idempotency-Key, if seen before."""
        row = (
            await self.session.execute(
                select(
                    idempotency.c.method, idempotency.c.request_hash, idempotency.c.response
                ).where(idempotency.c.scope == scope, idempotency.c.key == key)
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None

    async def store_idempotent(
        self, scope: str, key: str, method: str, request_hash: str, response: bytes
    ) -> None:
        """Store the response for an Idempotency-Key in this transaction."""
        await self.session.execute(
            insert(idempotency).values(
                scope=scope, key=key, method=method, request_hash=request_hash, response=response
            )
        )


def event_subject(township: str, service: str, entity: str, verb: str) -> str:
    """``township.<township>.<service>.<entity>.<verb>.v1`` (``_county`` for county-wide)."""
    return f"township.{township or '_county'}.{service}.{entity}.{verb}.v1"


def request_hash(method: str, body: bytes) -> str:
    """Stable hash of a request, to tell a retry from a reuse of the same key."""
    return hashlib.sha256(method.encode() + b"\0" + body).hexdigest()
