"""gRPC server bootstrap shared by every service.

``ServiceApp`` wires settings, logging, telemetry, the database, NATS, the outbox relay,
event consumers and the gRPC server (health, reflection, the unit-of-work interceptor), and
shuts everything down gracefully on SIGTERM: readiness goes NOT_SERVING first, in-flight
RPCs get the grace period, then consumers and the relay stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import grpc
from grpc import aio
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from nats.aio.client import Client as NatsClient
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.exc import IntegrityError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from township_platform import rpc
from township_platform.bus import (
    EventConsumer,
    OutboxRelay,
    Subscription,
    ensure_stream,
    stream_name,
    stream_subjects,
)
from township_platform.config import ServiceSettings
from township_platform.db import Database, request_hash
from township_platform.errors import (
    ERROR_FIELD_KEY,
    ERROR_RULE_KEY,
    ERROR_TYPE_KEY,
    DomainError,
    IdempotencyMismatch,
)
from township_platform.logging import configure_logging, current_township, get_logger
from township_platform.messaging import connect_nats
from township_platform.metrics import ServiceMetrics
from township_platform.principal import (
    IDEMPOTENCY_KEY,
    Principal,
    PrincipalVerifier,
    load_signing_keys,
    metadata_value,
)
from township_platform.retention import Retention
from township_platform.telemetry import (
    context_from_headers,
    setup_telemetry,
    shutdown_telemetry,
    start_metrics_server,
)

log = get_logger(__name__)
tracer = trace.get_tracer("township.grpc")

Behavior = Callable[[Any, Any], Awaitable[Any]]


SLOW_RPC_SECONDS = 1.0
"""An RPC slower than this is logged (the gateway's deadline is 5 s by default)."""

LIVENESS = "liveness"
"""The health-check name of the process being alive (liveness and startup probes). "" and the
service names are readiness: SERVING only once the database has answered."""

WARM_TIMEOUT_SECONDS = 10.0
"""How long one attempt to reach the database at start may take."""


class UnitOfWorkInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Runs every unary RPC as one unit of work with the caller's principal.

    Reads the principal from metadata (refusing calls without one unless the method is
    public), opens the transaction, replays a stored response for a repeated
    Idempotency-Key, maps domain errors to gRPC status codes with the error's type, field
    and rule in trailing metadata, and records RED metrics and a server span.
    """

    def __init__(
        self,
        db: Database,
        metrics: ServiceMetrics,
        service: str,
        public: set[str],
        readonly: set[str] | None = None,
        verifier: PrincipalVerifier | None = None,
        lean: set[str] | None = None,
        single_statement: set[str] | None = None,
    ) -> None:
        self.db = db
        self.verifier = verifier or PrincipalVerifier(None)
        self.metrics = metrics
        self.service = service
        self.public = public
        self.readonly = readonly or set()
        self.lean = lean or set()
        self.single_statement = single_statement or set()
        # grpc.aio asks the interceptor for every call; the wrapped handler of a method
        # never changes, so it is built once per method.
        self._wrapped: dict[str, Any] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        method: str = details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler: Any = await continuation(details)
        if handler is None or handler.unary_unary is None or method.startswith("/grpc."):
            return handler
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = wrapped
        return wrapped

    def _wrap(self, method: str, handler: Any) -> Any:
        inner: Behavior = handler.unary_unary
        serialize = handler.response_serializer
        short = method.rsplit("/", 1)[-1]
        is_public = short in self.public
        is_readonly = short in self.readonly
        is_single = short in self.single_statement
        is_lean = is_single or short in self.lean
        duration = self.metrics.rpc_duration.labels(short)
        requests: dict[grpc.StatusCode, Any] = {}

        async def behavior(request: Any, context: Any) -> Any:
            metadata = tuple(context.invocation_metadata() or ())
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            headers = {k: v for k, v in metadata if isinstance(v, str)}
            with tracer.start_as_current_span(
                method.lstrip("/"),
                context=context_from_headers(headers),
                kind=SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.method": short},
            ) as span:
                try:
                    principal = self.verifier.principal(metadata)
                    if principal is None and not is_public:
                        code = grpc.StatusCode.UNAUTHENTICATED
                        await context.abort(code, "missing, malformed or unsigned principal")
                    if principal and principal.township:
                        span.set_attribute("township", principal.township)
                        current_township.set(principal.township)
                    if is_readonly:
                        return await self._read(inner, request, context, principal)
                    key = metadata_value(metadata, IDEMPOTENCY_KEY)
                    try:
                        return await self._run(
                            inner, request, context, principal, key, method, is_lean, is_single
                        )
                    except (IntegrityError, asyncpg.UniqueViolationError):
                        if key is None:
                            raise
                        # A concurrent twin committed first: answer with its response.
                        return await self._run(
                            inner, request, context, principal, key, method, is_lean, is_single
                        )
                except DomainError as e:
                    code = e.status
                    span.set_status(Status(StatusCode.ERROR, e.type))
                    trailing = [(ERROR_TYPE_KEY, e.type)]
                    if e.field:
                        trailing.append((ERROR_FIELD_KEY, e.field))
                    if e.rule:
                        trailing.append((ERROR_RULE_KEY, e.rule))
                    context.set_trailing_metadata(tuple(trailing))
                    await context.abort(code, e.message)
                except aio.AbortError:
                    raise
                except asyncio.CancelledError:
                    # the caller's deadline passed (what it saw), or it or a shutdown cancelled
                    left = context.time_remaining()
                    expired = left is not None and left <= 0
                    code = (
                        grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
                    )
                    raise
                except Exception:
                    code = grpc.StatusCode.INTERNAL
                    span.set_status(Status(StatusCode.ERROR, "internal"))
                    log.exception("unhandled error in rpc", method=method)
                    await context.abort(code, "internal error")
                finally:
                    counter = requests.get(code)
                    if counter is None:
                        counter = requests[code] = self.metrics.rpc_requests.labels(
                            short, code.name
                        )
                    counter.inc()
                    elapsed = time.perf_counter() - started
                    duration.observe(elapsed)
                    if elapsed > SLOW_RPC_SECONDS:
                        # Inside the span: the line carries the trace id of the slow call.
                        log.warning(
                            "slow rpc", method=short, code=code.name, seconds=round(elapsed, 3)
                        )

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=lambda r: r if isinstance(r, bytes) else serialize(r),
        )

    async def _read(
        self, inner: Behavior, request: Any, context: Any, principal: Principal | None
    ) -> Any:
        """A read-only method: no transaction; it reads through ``rpc.reads()``."""
        token_reads = rpc._reads.set(self.db.reads)
        token_principal = rpc._principal.set(principal)
        try:
            return await inner(request, context)
        finally:
            rpc._reads.reset(token_reads)
            rpc._principal.reset(token_principal)

    async def _run(
        self,
        inner: Behavior,
        request: Any,
        context: Any,
        principal: Principal | None,
        key: str | None,
        method: str,
        lean: bool,
        single_statement: bool,
    ) -> Any:
        scope = (principal.township or principal.department or "county") if principal else ""
        idempotency = (scope, key) if key is not None else None
        async with self.db.unit_of_work(
            principal,
            source=self.service,
            idempotency=idempotency,
            lean=lean,
            single_statement=single_statement,
        ) as uow:
            token_uow = rpc._uow.set(uow)
            token_principal = rpc._principal.set(principal)
            try:
                if key is None:
                    return await inner(request, context)
                digest = request_hash(method, request.SerializeToString(deterministic=True))
                if uow.seen is not None:
                    if uow.seen[0] != method or uow.seen[1] != digest:
                        raise IdempotencyMismatch(
                            "this Idempotency-Key was already used with a different request",
                            field="Idempotency-Key",
                            rule="same key, same body",
                        )
                    return uow.seen[2]
                response = await inner(request, context)
                uow.remember_idempotent(scope, key, method, digest, response.SerializeToString())
                return response
            finally:
                rpc._uow.reset(token_uow)
                rpc._principal.reset(token_principal)


def _use_uvloop() -> None:
    """Run the service on uvloop when it is installed (as the gateway does under uvicorn).

    The default selector loop spends a large share of a service's CPU in its own socket and
    scheduling code; grpc.aio, asyncpg and nats-py all run on uvloop.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - optional speed-up
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _until_it_works(step: Callable[[], Awaitable[Any]], message: str) -> None:
    """Run ``step`` until it succeeds: 0.25 s between tries, doubling to 5 s; each failure
    logged with ``message`` (a cancellation is not a failure: it ends the tries)."""

    def logged(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else None
        log.warning(message, error=type(error).__name__, detail=str(error)[:200], retry_in=wait)

    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(Exception),
        wait=wait_exponential(multiplier=0.25, max=5.0),
        before_sleep=logged,
    ):
        with attempt:
            await step()


@dataclass
class _Bus:
    """What a service runs on NATS, once NATS has been reached."""

    nc: NatsClient | None = None
    relay: OutboxRelay | None = None
    consumers: list[EventConsumer] = field(default_factory=list)


class ServiceApp:
    """One domain service process: gRPC API, outbox relay, consumers, metrics, health."""

    def __init__(self, service: str, settings: ServiceSettings) -> None:
        self.service = service
        self.settings = settings
        _use_uvloop()
        configure_logging(service, settings.log_level)
        setup_telemetry(
            service=service,
            version=settings.version,
            environment=settings.environment,
            otlp_endpoint=settings.otlp_endpoint,
            sampling_ratio=settings.trace_sampling_ratio,
        )
        self.metrics = ServiceMetrics.create(service)
        self.db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            read_pool_size=settings.db_read_pool_size,
            read_scope=settings.db_read_scope,
            lean_pool_size=settings.db_lean_pool_size,
        )
        self._servicers: list[tuple[Callable[[Any, aio.Server], None], Any, str]] = []
        self._public: set[str] = set()
        self._readonly: set[str] = set()
        self._lean: set[str] = set()
        self._single_statement: set[str] = set()
        self._subscriptions: list[Subscription] = []
        self._publishes = False
        self._periodic: list[tuple[str, float, Callable[[Database], Awaitable[None]]]] = []
        retention = Retention(
            inbox_seconds=settings.inbox_retention_hours * 3600,
            idempotency_seconds=settings.idempotency_retention_hours * 3600,
            outbox_seconds=settings.outbox_retention_hours * 3600,
        )
        self.every("retention", settings.retention_sweep_seconds, self._sweeper(retention))
        self.bound_port: int | None = None

    @property
    def subscriptions(self) -> list[Subscription]:
        """The durable consumers this service runs (what ``rewind`` re-reads)."""
        return list(self._subscriptions)

    def add_servicer(
        self,
        register: Callable[[Any, aio.Server], None],
        servicer: Any,
        full_name: str,
        *,
        public: Iterable[str] = (),
        readonly: Iterable[str] = (),
        lean: Iterable[str] = (),
        single_statement: Iterable[str] = (),
    ) -> None:
        """Serve ``servicer``; methods named in ``public`` accept calls without a principal.

        Methods named in ``readonly`` run without a unit of work: they read with
        ``rpc.reads()`` (raw prepared statements, row-level security still applies) and
        must not write. Methods named in ``lean`` get a lean unit of work (``uow.driver``
        only, no ORM session; see ``Database.unit_of_work``); methods named in
        ``single_statement`` a single-statement one (reads on ``uow.driver``, all writes
        through ``uow.stage``, no BEGIN/COMMIT).
        """
        self._servicers.append((register, servicer, full_name))
        self._public.update(public)
        self._readonly.update(readonly)
        self._lean.update(lean)
        self._single_statement.update(single_statement)

    def publishes_events(self) -> None:
        """Run the outbox relay for this service's stream."""
        self._publishes = True

    def consume(self, subscription: Subscription) -> None:
        """Run a durable consumer for ``subscription``."""
        self._subscriptions.append(subscription)

    def every(self, name: str, seconds: float, job: Callable[[Database], Awaitable[None]]) -> None:
        """Run ``job`` every ``seconds`` (e.g. a deadline scan); errors are logged, not fatal.

        Jobs must be idempotent and safe to run on several replicas at once (use row locks
        or ``SKIP LOCKED``); they open their own units of work.
        """
        self._periodic.append((name, seconds, job))

    def _sweeper(self, retention: Retention) -> Callable[[Database], Awaitable[None]]:
        """The periodic job that forgets inbox rows and Idempotency-Keys past retention."""

        async def sweep(db: Database) -> None:
            conn = await asyncpg.connect(db.lean.dsn, timeout=5)
            try:
                deleted = await retention.sweep(conn)
            finally:
                await conn.close()
            for table, n in deleted.items():
                self.metrics.retention_deleted.labels(table).inc(n)
            if any(deleted.values()):
                log.info("retention sweep", service=self.service, **deleted)

        return sweep

    async def _run_periodic(
        self, name: str, seconds: float, job: Callable[[Database], Awaitable[None]]
    ) -> None:
        while True:
            try:
                await job(self.db)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic job failed", job=name)
            await asyncio.sleep(seconds)

    async def _become_ready(self, health_servicer: Any, names: list[str]) -> None:
        """Report SERVING once the database answers (retried with backoff until it does)."""
        await _until_it_works(
            lambda: asyncio.wait_for(self.db.warm(), WARM_TIMEOUT_SECONDS),
            "database not reachable yet: not ready",
        )
        for name in names:
            await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("ready", service=self.service)

    async def _start_bus(self, bus: _Bus, tasks: list[asyncio.Task[None]]) -> None:
        """Connect to NATS (retried until it answers), then start the relay and consumers."""
        s = self.settings
        bus.nc = await connect_nats(s.nats_url, f"township-{self.service}")
        js = bus.nc.jetstream()
        if self._publishes:
            await _until_it_works(
                lambda: ensure_stream(
                    js,
                    stream_name(self.service),
                    stream_subjects(self.service),
                    s.stream_replicas,
                    max_age=timedelta(hours=s.stream_max_age_hours),
                ),
                "stream not ready yet",
            )
            bus.relay = OutboxRelay(self.db, js, self.metrics, poll_seconds=s.outbox_poll_seconds)
            tasks.append(asyncio.create_task(bus.relay.run(), name="outbox-relay"))
        for sub in self._subscriptions:
            consumer = EventConsumer(
                self.db,
                js,
                self.metrics,
                self.service,
                sub,
                max_deliver=s.consumer_max_deliver,
                replicas=s.stream_replicas,
            )
            bus.consumers.append(consumer)
            tasks.append(asyncio.create_task(consumer.run(), name=f"consumer-{sub.durable}"))
        log.info("events flowing", service=self.service, consumers=len(bus.consumers))

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then shut down gracefully."""
        s = self.settings
        start_metrics_server(s.metrics_host, s.metrics_port)
        server = aio.server(
            interceptors=[
                UnitOfWorkInterceptor(
                    self.db,
                    self.metrics,
                    self.service,
                    self._public,
                    self._readonly,
                    PrincipalVerifier(load_signing_keys(s.principal_key_file)),
                    self._lean,
                    self._single_statement,
                )
            ],
            options=[("grpc.so_reuseport", 0)],
        )
        health_servicer = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        names = [n for _, _, n in self._servicers]
        for register, servicer, _ in self._servicers:
            register(servicer, server)
        reflection.enable_server_reflection(
            [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        self.bound_port = server.add_insecure_port(f"{s.grpc_host}:{s.grpc_port}")

        await server.start()
        # Alive at once (liveness and startup probes ask for LIVENESS); ready ("" and every
        # service name, the readiness probe and the gateway's /readyz) once the database has
        # answered: until then load balancers send no calls that could only fail.
        await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        for name in ["", *names]:
            await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        log.info(
            "serving", service=self.service, grpc_port=self.bound_port, metrics_port=s.metrics_port
        )
        tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(self._become_ready(health_servicer, ["", *names]), name="ready")
        ]
        for job_name, seconds, job in self._periodic:
            tasks.append(
                asyncio.create_task(self._run_periodic(job_name, seconds, job), name=job_name)
            )
        # NATS is not needed to serve: writes wait in the outbox, so the relay and the
        # consumers start whenever NATS can be reached (at once, normally).
        bus = _Bus()
        tasks.append(asyncio.create_task(self._start_bus(bus, tasks), name="bus"))

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

        # Readiness first (NOT_SERVING, so load balancers stop sending), then let in-flight
        # RPCs and the event in hand finish within the grace period, then stop the rest.
        log.info("shutting down", grace_seconds=s.shutdown_grace_seconds)
        # no relay or consumer starts from here on (NATS may have come only now)
        starting = [t for t in tasks if t.get_name() == "bus" and not t.done()]
        for task in starting:
            task.cancel()
        if starting:
            await asyncio.wait(starting, timeout=2)
        await health_servicer.enter_graceful_shutdown()
        if s.shutdown_drain_seconds:
            await asyncio.sleep(s.shutdown_drain_seconds)
        for consumer in bus.consumers:
            consumer.stop()
        await server.stop(s.shutdown_grace_seconds)
        consumer_tasks = [t for t in tasks if t.get_name().startswith("consumer-")]
        if consumer_tasks:
            await asyncio.wait(consumer_tasks, timeout=s.shutdown_grace_seconds)
        # then the relay publishes what the last commits handed over (bounded)
        relay_tasks = [t for t in tasks if t.get_name() == "outbox-relay"]
        if bus.relay is not None and relay_tasks:
            bus.relay.stop()
            await asyncio.wait(relay_tasks, timeout=2)
        for task in tasks:
            task.cancel()
        # Every remaining step is bounded: a stuck dependency must not keep the pod alive.
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=5)
            for task in stuck:
                log.warning("task did not stop in time", task=task.get_name())
        for step, timeout in (
            (bus.relay.close() if bus.relay is not None else None, 2),
            (bus.nc.drain() if bus.nc is not None else None, 6),
            (self.db.dispose(), 5),
        ):
            if step is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(step, timeout)
        shutdown_telemetry()
        log.info("stopped", service=self.service)
