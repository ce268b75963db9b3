"""The whole system on one machine: NATS, PostgreSQL, four services and the gateway.

Used by ``make run`` (``township run``), the e2e test fixtures and the benchmark, so all
three start the system the same way. Every process binds 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from township_testing.devkeys import ensure_dev_keys
from township_testing.procs import (
    ProcessExited,
    free_port,
    kill_process,
    port_open,
    start_process,
    stop_process,
    wait_for,
)
from township_testing.servers import NatsServer, PostgresServer

SERVICES = ("permits", "enforcement", "personnel", "stationed")
ALL_PROCESSES = (*SERVICES, "gateway")
APP_ROLE = "township"  # an ordinary role: row-level security applies to it


def _port_or_free(preferred: int) -> int:
    return preferred if preferred and not port_open(preferred) else free_port()


@dataclass
class StackConfig:
    """Where the stack keeps its data and which ports it uses (0 = any free port)."""

    root: Path
    townships_file: Path
    gateway_port: int = 0
    service_ports: dict[str, int] = field(default_factory=dict)
    metrics_ports: dict[str, int] = field(default_factory=dict)
    nats_url: str | None = None
    database_url: str | None = None
    pg_data: Path | None = None
    fast_postgres: bool = True
    tied_to_parent: bool = True
    trace_sampling_ratio: float = 1.0
    otlp_endpoint: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def ensure_principal_key(folder: Path) -> Path:
    """The stack's principal-signing key (random, created once, kept with the data)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "principal.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
        path.chmod(0o600)
    return path


class LocalStack:
    """Starts, stops and kills the parts of the system."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.root = config.root
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.nats: NatsServer | None = None
        self.postgres: PostgresServer | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.private_key, self.public_key = ensure_dev_keys(self.root / "keys")
        self.principal_key = ensure_principal_key(self.root / "keys")
        self.grpc_ports = {s: _port_or_free(config.service_ports.get(s, 0)) for s in SERVICES}
        self.metrics_ports = {s: _port_or_free(config.metrics_ports.get(s, 0)) for s in SERVICES}
        self.gateway_port = _port_or_free(config.gateway_port)
        self._started_with: dict[str, dict[str, str] | None] = {}
        self.clock_file = self.root / "clock-offset-seconds"
        self.clock_file.write_text("0")

    def shift_clock(self, seconds: float) -> None:
        """Move every process's clock (development only; see township_platform.clock)."""
        self.clock_file.write_text(str(seconds))

    # infrastructure ---------------------------------------------------------------
    @property
    def nats_url(self) -> str:
        """URL of NATS (ours or the configured one)."""
        if self.config.nats_url:
            return self.config.nats_url
        assert self.nats is not None
        return self.nats.url

    def database_url(self, service: str) -> str:
        """URL of one service's database (one database per service)."""
        if self.config.database_url:
            base = self.config.database_url.rsplit("/", 1)[0]
            return f"{base}/{service}"
        assert self.postgres is not None
        return self.postgres.url(service, user=APP_ROLE)

    def start_infrastructure(self) -> None:
        """Start nats-server and PostgreSQL unless URLs point at existing ones."""
        if not self.config.nats_url:
            self.nats = NatsServer(self.root / "nats", log_path=self.logs / "nats.log")
            self.nats.start(tied_to_parent=self.config.tied_to_parent)
        if not self.config.database_url:
            self.postgres = PostgresServer(
                self.config.pg_data or self.root / "pg",
                log_path=self.logs / "postgres.log",
                fast=self.config.fast_postgres,
            )
            self.postgres.start(tied_to_parent=self.config.tied_to_parent)
            self.postgres.ensure_role(APP_ROLE)

    # processes ---------------------------------------------------------------------
    def env(self, name: str) -> dict[str, str]:
        """Environment of one process."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSHIP_")}
        p = f"TOWNSHIP_{name.upper()}_"
        common = {
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "INFO",
            "TRACE_SAMPLING_RATIO": str(self.config.trace_sampling_ratio),
            "TOWNSHIPS_FILE": str(self.config.townships_file),
            "SHUTDOWN_GRACE_SECONDS": "5",
            # the gateway signs principals with it, the services check them: as deployed
            "PRINCIPAL_KEY_FILE": str(self.principal_key),
        }
        if self.config.otlp_endpoint:
            common["OTLP_ENDPOINT"] = self.config.otlp_endpoint
        if name == "gateway":
            common.update(
                HTTP_HOST="127.0.0.1",
                HTTP_PORT=str(self.gateway_port),
                JWT_PUBLIC_KEY_FILE=str(self.public_key),
                DEV_MODE="true",
                NATS_URL=self.nats_url,  # the replicas share rate limits over it
                **{f"{s.upper()}_ADDR": f"127.0.0.1:{self.grpc_ports[s]}" for s in SERVICES},
            )
        else:
            common.update(
                DATABASE_URL=self.database_url(name),
                NATS_URL=self.nats_url,
                GRPC_HOST="127.0.0.1",
                GRPC_PORT=str(self.grpc_ports[name]),
                METRICS_HOST="127.0.0.1",
                METRICS_PORT=str(self.metrics_ports[name]),
                OUTBOX_POLL_SECONDS="0.5",
            )
        env.update({p + k: v for k, v in common.items()})
        env["TOWNSHIP_CLOCK_FILE"] = str(self.clock_file)
        env.update(self.config.extra_env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("MALLOC_ARENA_MAX", "2")  # as in the chart
        return env

    def run_command(self, name: str, *args: str) -> None:
        """Run ``python -m township_<name> <args>`` to completion (migrate, seed)."""
        log = self.logs / f"{name}-{args[0]}.log"
        proc = start_process(
            [sys.executable, "-m", f"township_{name}", *args],
            env=self.env(name),
            log_path=str(log),
        )
        if proc.wait(180) != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed:\n{log.read_text()[-3000:]}")

    def migrate(self) -> None:
        """Create each service's database if needed and migrate it to head."""
        with ThreadPoolExecutor(len(SERVICES)) as pool:
            list(pool.map(lambda s: self.run_command(s, "migrate", "--create-database"), SERVICES))

    def seed(self) -> None:
        """Load the configured towns into every service (idempotent)."""
        with ThreadPoolExecutor(len(SERVICES)) as pool:
            list(pool.map(lambda s: self.run_command(s, "seed"), SERVICES))

    def start(self, name: str, env: dict[str, str] | None = None) -> None:
        """Start one process (a service or the gateway), with extra environment if given."""
        self._started_with[name] = env
        old = self.procs.pop(name, None)
        if old is not None and old.poll() is None:
            kill_process(old)  # never two of a kind fighting for one port
        self.procs[name] = start_process(
            [sys.executable, "-m", f"township_{name}"],
            env={**self.env(name), **(env or {})},
            log_path=str(self.logs / f"{name}.log"),
            tied_to_parent=self.config.tied_to_parent,
        )

    def stop(self, name: str) -> None:
        """SIGTERM one process and wait."""
        proc = self.procs.pop(name, None)
        if proc is not None:
            stop_process(proc)

    def kill(self, name: str) -> None:
        """SIGKILL one process (a crash)."""
        proc = self.procs.pop(name, None)
        if proc is not None:
            kill_process(proc)

    def restart_nats(self, crash: bool = False) -> None:
        """Stop (or SIGKILL) our nats-server and start it again on the same port and store."""
        assert self.nats is not None, "NATS is external"
        self.nats.kill() if crash else self.nats.stop()
        self.nats.start(tied_to_parent=self.config.tied_to_parent)

    def restart_postgres(self, crash: bool = False) -> None:
        """Stop (or SIGKILL) our PostgreSQL and start it again on the same port and data."""
        assert self.postgres is not None, "PostgreSQL is external"
        self.postgres.kill() if crash else self.postgres.stop()
        self.postgres.start(tied_to_parent=self.config.tied_to_parent)

    def wait_service(self, name: str, timeout: float = 90) -> None:
        """Wait until a service answers SERVING (or the gateway is ready).

        A free port is chosen before the process binds it, and anything on the machine may
        take it meanwhile (an outgoing connection's local port, another stack): a process
        that exits with "Address already in use" is started again on fresh ports (twice at
        most, and only while nothing was started with its ports in mind).
        """
        for attempt in range(3):
            try:
                self._wait_service(name, timeout)
                return
            except ProcessExited as e:
                if attempt == 2 or "Address already in use" not in e.log:
                    raise
                if name != "gateway" and "gateway" in self.procs:
                    raise  # the running gateway calls the service on its old port
                self._fresh_ports(name)
                self.start(name, self._started_with.get(name))

    def _fresh_ports(self, name: str) -> None:
        if name == "gateway":
            self.gateway_port = _port_or_free(0)
        else:
            self.grpc_ports[name] = _port_or_free(0)
            self.metrics_ports[name] = _port_or_free(0)

    def _wait_service(self, name: str, timeout: float) -> None:
        proc = self.procs[name]

        def alive() -> None:
            if proc.poll() is not None:
                log = (self.logs / f"{name}.log").read_text()[-3000:]
                raise ProcessExited(f"{name} exited with {proc.returncode}:\n{log}", log)

        if name == "gateway":

            def ready() -> bool:
                alive()
                r = httpx.get(f"{self.gateway_url}/readyz", timeout=2)
                return r.status_code == 200

            wait_for(ready, timeout, "the gateway to be ready")
            return

        def serving() -> bool:
            alive()
            with grpc.insecure_channel(f"127.0.0.1:{self.grpc_ports[name]}") as ch:
                reply = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1
                )
                return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

        wait_for(serving, timeout, f"{name} to serve")

    def start_all(self) -> None:
        """Start the four services, then the gateway, and wait until ready."""
        for name in SERVICES:
            self.start(name)
        for name in SERVICES:
            self.wait_service(name)
        self.start("gateway")
        self.wait_service("gateway")

    def up(self) -> None:
        """Infrastructure, migrations, seed, processes."""
        started = time.monotonic()
        self.start_infrastructure()
        self.migrate()
        self.seed()
        self.start_all()
        self.startup_seconds = time.monotonic() - started

    def down(self) -> None:
        """Stop everything we started, gateway first, infrastructure last."""
        for name in ("gateway", *SERVICES):
            self.stop(name)
        if self.postgres:
            self.postgres.stop()
        if self.nats:
            self.nats.stop()

    @property
    def gateway_url(self) -> str:
        """Base URL of the gateway."""
        return f"http://127.0.0.1:{self.gateway_port}"
