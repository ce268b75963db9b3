"""PostgreSQL access: engine, the unit of work, and the platform's own tables.

A unit of work is one transaction. RPC handlers and event handlers each get exactly one;
it commits on success and rolls back on error, and nothing else commits. Events emitted
inside it are written to the outbox in the same transaction, so an event exists if and only
if the change it describes was committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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
    make_url,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from township.common.v1 import common_pb2
from township_platform import clock
from township_platform.ids import new_id
from township_platform.principal import Principal
from township_platform.telemetry import (
    end_sql_span,
    inject_trace_headers,
    start_sql_span,
    trace_sql,
)

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
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 5,
        read_pool_size: int = 4,
        read_scope: str = "session",
        lean_pool_size: int = 6,
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
        self.database = make_url(self.url).database or ""
        trace_sql(self.engine.sync_engine, self.database)
        _ping_if_idle(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.reads = ReadPool(
            self.url, size=read_pool_size, database=self.database, scope=read_scope
        )
        # connections of the lean units of work (hot paths written as plain SQL)
        self.lean = RawPool(self.url, size=lean_pool_size)
        # Called with the outbox rows of each committed unit of work (the relay publishes
        # them at once instead of finding them again in the table).
        self.after_commit: Callable[[list[OutboxRow]], None] | None = None

    def unit_of_work(
        self,
        principal: Principal | None = None,
        *,
        source: str = "",
        idempotency: tuple[str, str] | None = None,
        lean: bool = False,
        single_statement: bool = False,
    ) -> AbstractAsyncContextManager[UnitOfWork]:
        """One transaction: commit on success, roll back on any exception.

        ``idempotency`` is the (scope, key) of an ``Idempotency-Key``: the response stored
        for it, if any, is looked up in the statement that scopes the transaction to the
        principal's town and handed over as ``uow.seen``.

        A *lean* unit of work has no ORM session, only ``uow.driver``: a plain asyncpg
        connection of its own pool with BEGIN and COMMIT sent directly. SQLAlchemy's
        session, connection and transaction bookkeeping cost about 0.25 ms of CPU per
        transaction (measured), as much as the rest of a points entry; hot paths written as
        plain SQL (intake, automatic points) declare themselves lean.

        A *single-statement* unit of work is a lean one whose writes are one statement,
        committed by itself: ``uow.driver`` only reads (each read its own snapshot, as every
        statement of a READ COMMITTED transaction is), and the handler hands its writes to
        ``uow.stage``; they go to the database with the outbox, Idempotency-Key and inbox
        rows as one statement, so there is no BEGIN and no COMMIT to send. Atomic as a
        transaction (one statement is all or nothing); not for handlers that lock rows
        they read (``FOR SHARE``) or write more than once. Behind a transaction-pooling
        proxy (``read_scope="transaction"``) it falls back to a lean transaction.
        """
        if single_statement and self.reads.scope == "session":
            return self._single_statement_unit_of_work(principal, source, idempotency)
        if lean or single_statement:
            return self._lean_unit_of_work(principal, source, idempotency)
        return self._orm_unit_of_work(principal, source, idempotency)

    @asynccontextmanager
    async def _orm_unit_of_work(
        self, principal: Principal | None, source: str, idempotency: tuple[str, str] | None
    ) -> AsyncIterator[UnitOfWork]:
        # A connection lost under a statement on the driver connection (a PostgreSQL
        # restart) is invalidated here, as SQLAlchemy does for its own statements, so the
        # pool replaces it instead of handing the dead connection to the next unit of work.
        async with self._sessions() as session, session.begin():
            conn = await session.connection()
            try:
                driver = Sql(await _begin(conn), self.database)
                uow = UnitOfWork(orm=session, principal=principal, source=source, driver=driver)
                await _scope(uow, idempotency)
                yield uow
                await uow.flush()
            except BaseException as e:
                # a statement cut short by cancellation may leave the protocol mid-message
                if _cut_short(e):
                    with contextlib.suppress(Exception):
                        await conn.invalidate()
                raise
        self._hand_over(uow)

    @asynccontextmanager
    async def _lean_unit_of_work(
        self, principal: Principal | None, source: str, idempotency: tuple[str, str] | None
    ) -> AsyncIterator[UnitOfWork]:
        pooled = await self.lean.acquire()
        conn = pooled.conn
        try:
            await conn.execute("BEGIN")
            uow = UnitOfWork(
                orm=None, principal=principal, source=source, driver=Sql(conn, self.database)
            )
            await _scope(uow, idempotency, session_scope=pooled.township)
            yield uow
            await uow.flush()
            await conn.execute("COMMIT")
        except BaseException as e:
            # a statement cut short (cancellation) may leave the protocol mid-message
            if _cut_short(e):
                self.lean.discard(pooled)
                raise
            try:
                await conn.execute("ROLLBACK")
            except Exception:
                self.lean.discard(pooled)
            else:
                self.lean.release(pooled)
            raise
        self.lean.release(pooled)
        self._hand_over(uow)

    @asynccontextmanager
    async def _single_statement_unit_of_work(
        self, principal: Principal | None, source: str, idempotency: tuple[str, str] | None
    ) -> AsyncIterator[UnitOfWork]:
        pooled = await self.lean.acquire()
        conn = pooled.conn
        tenant = _tenant(principal)
        uow = UnitOfWork(
            orm=None,
            principal=principal,
            source=source,
            driver=ReadOnlySql(conn, self.database),
            single_statement=True,
        )
        try:
            # The town is a *session* setting here (no transaction to hold a local one):
            # set whenever it differs from the connection's, with the key lookup if any.
            if idempotency is not None:
                pooled.township = None  # unknown until the statement answers
                row = await uow.driver.fetchrow(
                    _SESSION_SCOPE_AND_FIND_IDEMPOTENT, tenant, *idempotency
                )
                pooled.township = tenant
                uow.remember_seen(row)
            elif pooled.township != tenant:
                pooled.township = None
                await uow.driver.fetchrow(_SET_SESSION_TENANT, tenant)
                pooled.township = tenant
            yield uow
            await uow.flush()
        except BaseException as e:
            if _cut_short(e) or conn.is_in_transaction():
                self.lean.discard(pooled)
            else:
                self.lean.release(pooled)
            raise
        self.lean.release(pooled)
        self._hand_over(uow)

    def _hand_over(self, uow: UnitOfWork) -> None:
        """Give a committed unit of work's outbox rows to the relay."""
        if uow.written and self.after_commit is not None:
            self.after_commit(uow.written)

    def pool_in_use(self) -> int:
        """Connections currently checked out of the pool."""
        pool: Any = self.engine.pool
        return int(pool.checkedout()) if hasattr(pool, "checkedout") else 0

    async def warm(self) -> None:
        """Prove the database answers and open a first connection of every pool.

        A service reports ready only after this: its first calls then neither wait for a
        connection (name lookup, TLS, authentication) nor find a database that never came.
        """
        for pool in (self.reads, self.lean):
            pc = await pool.acquire()
            try:
                await pc.conn.fetchval("SELECT 1")
            except BaseException:
                pool.discard(pc)
                raise
            pool.release(pc)
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.reads.close()
        await self.lean.close()
        await self.engine.dispose()


async def _scope(
    uow: UnitOfWork, idempotency: tuple[str, str] | None, *, session_scope: str | None = ""
) -> None:
    """The first statement of a unit of work: its town, and the stored Idempotency-Key.

    Row-level security reads ``township.current`` (second wall behind query filters). It
    is transaction-local, so a pooled connection outside a transaction is unscoped unless
    a single-statement unit of work left a *session* setting on it (``session_scope``,
    None when unknown): county-wide work (consumers, jobs, county users) skips the
    statement only on a connection known to be unscoped.
    """
    tenant = _tenant(uow.principal)
    if idempotency is not None:
        uow.remember_seen(
            await uow.driver.fetchrow(_SCOPE_AND_FIND_IDEMPOTENT, tenant, *idempotency)
        )
    elif tenant or session_scope != "":
        await uow.driver.execute(SET_TENANT, tenant)


_CONNECTION_ERRORS = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # protocol state broken (e.g. the server ended the session)
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    ConnectionError,
    OSError,
)


@dataclass(eq=False)
class _Pooled:
    conn: asyncpg.Connection
    # the township.current this session is scoped to ("" none, None unknown)
    township: str | None = None


class RawPool:
    """A small pool of plain asyncpg connections (no ORM, no per-checkout round trip)."""

    def __init__(self, url: str, *, size: int = 4) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.size = size
        self._idle: asyncio.LifoQueue[_Pooled] = asyncio.LifoQueue()
        self._open = 0
        self._all: set[_Pooled] = set()

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn, timeout=5)

    async def acquire(self) -> _Pooled:
        """An open connection (waits while ``size`` are in use)."""
        while True:
            try:
                pc = self._idle.get_nowait()
            except asyncio.QueueEmpty:
                if self._open < self.size:
                    self._open += 1
                    try:
                        # a new session has no town setting: unscoped
                        pc = _Pooled(await self._connect(), township="")
                    except BaseException:
                        self._open -= 1
                        raise
                    self._all.add(pc)
                    return pc
                pc = await self._idle.get()
            if not pc.conn.is_closed():
                return pc
            self.discard(pc)

    def release(self, pc: _Pooled) -> None:
        """Give a healthy connection back."""
        self._idle.put_nowait(pc)

    def discard(self, pc: _Pooled) -> None:
        """Close a connection that may be broken (a new one replaces it when needed)."""
        if pc in self._all:
            self._all.discard(pc)
            self._open -= 1
        pc.conn.terminate()

    async def close(self) -> None:
        """Close every connection."""
        for pc in list(self._all):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pc.conn.close(), 2)
            self._all.discard(pc)
        self._open = 0


class ReadPool(RawPool):
    """Raw asyncpg connections for the read-only hot paths (no ORM, no transaction).

    A read through the unit of work costs four round trips (BEGIN, the row-level-security
    setting, the query, COMMIT) and SQLAlchemy's per-statement work; here a read is one
    prepared statement. Each connection keeps ``township.current`` as a *session* setting
    and changes it only when the next caller is of another township, so row-level security
    still scopes every read. These connections never write; relays and consumers write
    through their own connections (a consumer only asks here, unscoped, whether an event is
    already in its inbox after a handler failed).

    Behind a *transaction*-pooling proxy (PgBouncer ``pool_mode=transaction``) a session
    setting would follow the server connection to another client: ``scope="transaction"``
    then wraps each read in a transaction with a transaction-local setting (three round
    trips more per read, still no ORM).
    """

    def __init__(
        self, url: str, *, size: int = 4, database: str = "", scope: str = "session"
    ) -> None:
        if scope not in ("session", "transaction"):
            raise ValueError("scope is 'session' or 'transaction'")
        super().__init__(url, size=size)
        self.scope = scope
        self.database = database

    async def _connect(self) -> asyncpg.Connection:
        conn = await super()._connect()
        for name in ("json", "jsonb"):
            await conn.set_type_codec(
                name,
                encoder=lambda v: orjson.dumps(v).decode(),
                decoder=orjson.loads,
                schema="pg_catalog",
            )
        return conn

    @contextlib.asynccontextmanager
    async def connection(self, township: str | None) -> AsyncIterator[asyncpg.Connection]:
        """A connection scoped to ``township`` (None or "": unscoped, for county users)."""
        rc = await self.acquire()
        tenant = township or ""
        try:
            if self.scope == "transaction":
                async with rc.conn.transaction(readonly=True):
                    await rc.conn.execute(SET_TENANT, tenant)
                    yield rc.conn
            else:
                if rc.township != tenant:
                    rc.township = None
                    await rc.conn.execute(_SET_SESSION_TENANT, tenant)
                    rc.township = tenant
                yield rc.conn
        except (*_CONNECTION_ERRORS, asyncio.CancelledError):
            self.discard(rc)  # a query cut short may leave the protocol mid-message
            raise
        except BaseException:
            session_stale = self.scope == "session" and rc.township != tenant
            if rc.conn.is_in_transaction() or session_stale:
                self.discard(rc)
            else:
                self.release(rc)
            raise
        else:
            self.release(rc)

    async def _retried(self, township: str | None, read: Callable[[Sql], Awaitable[Any]]) -> Any:
        """``read`` on a scoped connection; once more on a fresh one after a lost one."""
        try:
            async with self.connection(township) as conn:
                return await read(Sql(conn, self.database))
        except _CONNECTION_ERRORS:
            async with self.connection(township) as conn:
                return await read(Sql(conn, self.database))

    async def fetchrow(self, township: str | None, query: str, *args: Any) -> Any:
        """One row (or None); retried once on a fresh connection after a lost one."""
        return await self._retried(township, lambda sql: sql.fetchrow(query, *args))

    async def fetch(self, township: str | None, query: str, *args: Any) -> list[Any]:
        """All rows; retried once on a fresh connection after a lost one."""
        rows: list[Any] = await self._retried(township, lambda sql: sql.fetch(query, *args))
        return rows


SET_TENANT = "SELECT set_config('township.current', $1, true)"


_SET_SESSION_TENANT = "SELECT set_config('township.current', $1, false)"


class Sql:
    """An asyncpg connection whose statements are traced like the ORM's (one CLIENT span per
    statement inside a sampled span; nothing otherwise). Hot paths write plain SQL on it."""

    __slots__ = ("database", "raw")

    def __init__(self, raw: asyncpg.Connection, database: str) -> None:
        self.raw = raw
        self.database = database

    async def _traced(self, query: str, call: Callable[[], Awaitable[Any]]) -> Any:
        span = start_sql_span(query, self.database)
        if span is None:
            return await call()
        try:
            result = await call()
        except BaseException as e:
            end_sql_span(span, e)
            raise
        end_sql_span(span)
        return result

    async def execute(self, query: str, *args: Any) -> str:
        """Run a statement; its status line."""
        status: str = await self._traced(query, lambda: self.raw.execute(query, *args))
        return status

    async def executemany(self, query: str, args: list[tuple[Any, ...]]) -> None:
        """Run a statement once per argument tuple, pipelined."""
        await self._traced(query, lambda: self.raw.executemany(query, args))

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """Every row."""
        return list(await self._traced(query, lambda: self.raw.fetch(query, *args)))

    async def fetchrow(self, query: str, *args: Any) -> Any:
        """The first row, or None."""
        return await self._traced(query, lambda: self.raw.fetchrow(query, *args))

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first column of the first row, or None."""
        return await self._traced(query, lambda: self.raw.fetchval(query, *args))

    async def last_statement(self, query: str, *args: Any) -> Any:
        """The unit of work's own last statement (its first row); the platform's only."""
        return await Sql._traced(self, query, lambda: self.raw.fetchrow(query, *args))


class ReadOnlySql(Sql):
    """The driver of a single-statement unit of work: reads only.

    Each statement runs by itself (no transaction), so a write here would commit at once,
    before the unit of work's own statement; it is refused. Writes go to ``uow.stage``.
    """

    __slots__ = ()

    async def _traced(self, query: str, call: Callable[[], Awaitable[Any]]) -> Any:
        head = query.lstrip()[:6].upper()
        if head != "SELECT" or _LOCKING_READ.search(query):
            raise RuntimeError(
                "a single-statement unit of work reads with uow.driver (plain SELECT, no "
                "row locks) and writes with uow.stage"
            )
        return await super()._traced(query, call)


_LOCKING_READ = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)\b", re.IGNORECASE)


def _tenant(principal: Principal | None) -> str:
    """The town a unit of work is scoped to ("" for county-wide work)."""
    return principal.township if principal and principal.township else ""


def _cut_short(error: BaseException) -> bool:
    """A cancelled statement or a lost connection: the connection cannot be reused."""
    return isinstance(error, asyncio.CancelledError) or _connection_lost(error)


def _connection_lost(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the server connection is gone."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _CONNECTION_ERRORS):
            return True
        current = current.__cause__ or current.__context__
    return False


async def _begin(conn: AsyncConnection) -> asyncpg.Connection:
    """Start the session's transaction now and return its asyncpg connection.

    The platform's own statements (the tenant setting, outbox, inbox, idempotency keys) and
    the hot paths run on the driver connection directly: one prepared statement each instead
    of SQLAlchemy's per-statement work (measured ~0.3 ms of CPU per statement), in the same
    transaction as the ORM's statements. SQLAlchemy's asyncpg adapter begins lazily, at its
    first statement, so it is asked to begin here first.
    """
    fairy = await conn.get_raw_connection()
    adapted: Any = fairy.dbapi_connection
    if adapted._transaction is None:
        await adapted._start_transaction()
    driver: asyncpg.Connection = fairy.driver_connection
    return driver


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


# The idempotency table has no township column (no row-level security), so the lookup may
# share the statement that sets the transaction's town.
_SCOPE_AND_FIND_IDEMPOTENT = (
    "SELECT set_config('township.current', $1, true) AS tenant, "
    "k.method, k.request_hash, k.response "
    "FROM (SELECT 1) AS one LEFT JOIN idempotency_keys k ON k.scope = $2 AND k.key = $3"
)
_SESSION_SCOPE_AND_FIND_IDEMPOTENT = _SCOPE_AND_FIND_IDEMPOTENT.replace("$1, true", "$1, false")
_FIND_CONSUMED = "SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2"


class AlreadyConsumed(Exception):
    """An event of this unit of work was already applied by the same consumer.

    Raised at the end of the unit of work (so it rolls back): the inbox row is written with
    the transaction's other platform rows in its last statement, not checked up front.
    """


@functools.lru_cache(maxsize=128)
def _final_statement(events: bool, idempotent: bool, inbox: bool, staged: str, n: int) -> str:
    """The unit of work's last statement (before COMMIT, or committing by itself in a
    single-statement unit of work): the handler's staged writes, its outbox events, the
    stored response of an Idempotency-Key and its consumed events' inbox rows, in one
    round trip.

    Parameters: the staged writes' $1..$n, then events (6 arrays), idempotency (5 values),
    inbox (3 arrays), numbered in that order over the parts present.
    """
    parts: list[str] = [staged] if staged else []

    def p(cast: str = "") -> str:
        nonlocal n
        n += 1
        return f"${n}{cast}"

    if events:
        arrays = [p(c) for c in ("::text[]",) * 4 + ("::bytea[]", "::text[]")]
        parts.append(
            "ev AS (INSERT INTO outbox (event_id, subject, type, township_id, envelope, headers) "
            "SELECT e.event_id, e.subject, e.type, e.township_id, e.envelope, e.headers::jsonb "
            f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY "
            "AS e(event_id, subject, type, township_id, envelope, headers, ord) ORDER BY e.ord)"
        )
    if idempotent:
        values = ", ".join(p() for _ in range(5))
        parts.append(
            "idem AS (INSERT INTO idempotency_keys (scope, key, method, request_hash, response) "
            f"VALUES ({values}))"
        )
    if inbox:
        arrays = [p("::text[]") for _ in range(3)]
        parts.append(
            "inb AS (INSERT INTO inbox (consumer, event_id, type) "
            f"SELECT * FROM unnest({', '.join(arrays)}) ON CONFLICT DO NOTHING RETURNING 1)"
        )
    counted = "(SELECT count(*) FROM inb)" if inbox else "0"
    return f"WITH {', '.join(parts)} SELECT {counted} AS consumed"


_PLACEHOLDER = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=128)
def _renumbered(ctes: str, offset: int) -> str:
    """``ctes`` with its placeholders $1.. moved up by ``offset``."""
    if not offset:
        return ctes
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", ctes)


# (event_id, subject, type, township_id, envelope, headers as JSON text): one outbox row
OutboxRow = tuple[str, str, str, str, bytes, str]


@dataclass
class UnitOfWork:
    """A transaction plus the events it will publish once committed.

    ``session`` is the ORM's view of the transaction; ``driver`` is the same transaction's
    asyncpg connection, for hot paths written as plain SQL (jsonb parameters are passed as
    JSON text there, and come back as text).
    """

    orm: AsyncSession | None  # None in a lean unit of work
    principal: Principal | None
    source: str
    driver: Sql
    emitted: list[str] = field(default_factory=list)
    seen: tuple[str, str, bytes] | None = None
    written: list[OutboxRow] = field(default_factory=list)  # outbox rows, once flushed
    _pending: list[OutboxRow] = field(default_factory=list)
    _idempotent: tuple[str, str, str, str, bytes] | None = None
    _consumed: list[tuple[str, str, str]] = field(default_factory=list)
    _staged: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    single_statement: bool = False  # writes only through ``stage`` (see Database)

    @property
    def session(self) -> AsyncSession:
        """The ORM's view of the transaction."""
        if self.orm is None:
            raise RuntimeError(
                "a lean unit of work has no ORM session: use uow.driver, "
                "or do not declare this handler lean"
            )
        return self.orm

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
        """Add an event to the outbox of this transaction; returns its event id.

        The rows are written together just before the commit (one statement), so an event
        exists if and only if the transaction that emitted it committed.
        """
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
        self._pending.append(
            (
                event_id,
                event_subject(township, self.source, entity, verb),
                type_,
                township,
                envelope.SerializeToString(),
                orjson.dumps(headers).decode(),
            )
        )
        self.emitted.append(event_id)
        return event_id

    def consume(self, consumer: str, event_id: str, type_: str) -> None:
        """Record ``event_id`` in ``consumer``'s inbox with this transaction's other rows.

        If the consumer already applied it, the unit of work raises ``AlreadyConsumed`` at
        its end and rolls back, so a redelivered event never has its effect twice.
        """
        self._consumed.append((consumer, event_id, type_))

    def remember_seen(self, row: Any) -> None:
        """Keep the stored response the scoping statement found for the key (if any)."""
        if row["method"] is not None:
            self.seen = (row["method"], row["request_hash"], row["response"])

    def stage(self, ctes: str, *args: Any) -> None:
        """Write with this unit of work's own last statement (outbox, key, inbox rows).

        ``ctes`` are ``WITH`` items (``name AS (INSERT ... )``, comma-separated, names not
        ``ev``/``idem``/``inb``) with placeholders numbered from $1 for ``args``. They run
        in the same statement as the events that describe them, so a hot path written as
        plain SQL costs one round trip for all its writes; in a single-statement unit of
        work it is the only way to write.
        """
        self._staged.append((ctes, args))

    def remember_idempotent(
        self, scope: str, key: str, method: str, request_hash: str, response: bytes
    ) -> None:
        """Store the response for an Idempotency-Key in this transaction (at its end)."""
        self._idempotent = (scope, key, method, request_hash, response)

    async def flush(self) -> None:
        """Write the platform's rows of this transaction in one statement: the emitted events
        (after the ORM's changes, which they describe), the Idempotency-Key's response and
        the inbox rows; raise ``AlreadyConsumed`` if an inbox row was there already."""
        events, self._pending = self._pending, []
        idempotent, self._idempotent = self._idempotent, None
        consumed, self._consumed = self._consumed, []
        staged, self._staged = self._staged, []
        if not (events or idempotent or consumed or staged):
            return
        if (events or staged) and self.orm is not None:
            await self.orm.flush()  # ORM changes first: events describe committed state
        if events:
            self.written = events
        args: list[Any] = []
        ctes: list[str] = []
        for sql, values in staged:
            ctes.append(_renumbered(sql, len(args)))
            args += values
        n_staged = len(args)
        if events:
            args += [list(column) for column in zip(*events, strict=True)]
        if idempotent:
            args += idempotent
        if consumed:
            args += [list(column) for column in zip(*consumed, strict=True)]
        query = _final_statement(
            bool(events), idempotent is not None, bool(consumed), ", ".join(ctes), n_staged
        )
        row = await self.driver.last_statement(query, *args)
        if consumed and row["consumed"] < len(consumed):
            raise AlreadyConsumed(f"{len(consumed) - row['consumed']} event(s) already applied")


async def already_consumed(db: Database, consumer: str, event_id: str) -> bool:
    """Whether ``consumer`` has applied ``event_id`` (committed inbox row)."""
    return await db.reads.fetchrow(None, _FIND_CONSUMED, consumer, event_id) is not None


def event_subject(township: str, service: str, entity: str, verb: str) -> str:
    """``township.<township>.<service>.<entity>.<verb>.v1`` (``_county`` for county-wide)."""
    return f"township.{township or '_county'}.{service}.{entity}.{verb}.v1"


def request_hash(method: str, body: bytes) -> str:
    """Stable hash of a request, to tell a retry from a reuse of the same key."""
    return hashlib.sha256(method.encode() + b"\0" + body).hexdigest()
