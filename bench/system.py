"""The system under test: LocalStack plus what the benchmark needs around it.

Commit timestamps (``track_commit_timestamp``) are switched on so event latency is measured
from the data: the commit of the permits transaction that wrote the event, to the commit of
the personnel transaction that recorded its effect (the inbox row is written in the same
transaction as the points entry).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from township_testing.devkeys import mint_token
from township_testing.procs import free_port, start_process, stop_process, wait_for
from township_testing.stack import SERVICES, LocalStack, StackConfig

REPO = Path(__file__).resolve().parents[1]
TOWNSHIPS_FILE = REPO / "config" / "townships.json"

# Rate limits are a feature under test elsewhere; here they would only measure 429s.
NO_RATE_LIMITS = {
    "TOWNSHIP_GATEWAY_CLIENT_RATE_PER_SECOND": "1000000",
    "TOWNSHIP_GATEWAY_CLIENT_BURST": "1000000",
    "TOWNSHIP_GATEWAY_PUBLIC_RATE_PER_SECOND": "1000000",
    "TOWNSHIP_GATEWAY_PUBLIC_BURST": "1000000",
    "TOWNSHIP_GATEWAY_TOWNSHIP_RATE_PER_SECOND": "1000000",
    "TOWNSHIP_GATEWAY_TOWNSHIP_BURST": "1000000",
}


def unlimited_townships(folder: Path) -> Path:
    """config/townships.json with the per-town rate limits lifted (written under ``folder``).

    The limiter still runs on every request (its cost is measured); it just never refuses.
    """
    data = json.loads(TOWNSHIPS_FILE.read_text(encoding="utf-8"))
    for town in data.get("townships", []):
        town["rate_limit"] = {"requests_per_second": 1_000_000, "burst": 1_000_000}
    path = folder / "townships.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def pg_dsn(url: str) -> str:
    """asyncpg DSN from the stack's SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM (peak resident set) of a process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


class CpuMeter:
    """CPU time each process of the system spends during a phase (robust to a busy machine)."""

    def __init__(self, procs: dict[str, int]) -> None:
        self.procs = procs
        self.before = {n: cpu_seconds(p) for n, p in procs.items()}

    def per_request_ms(self, requests: int) -> dict[str, float]:
        """CPU milliseconds per request, per process."""
        out: dict[str, float] = {}
        for name, pid in self.procs.items():
            after, before = cpu_seconds(pid), self.before.get(name)
            if after is not None and before is not None and requests:
                out[name] = round((after - before) * 1000 / requests, 3)
        return out


class Bench:
    """Starts and drives the system for one benchmark run."""

    def __init__(self, sampling: float) -> None:
        root = Path(tempfile.mkdtemp(prefix="township-bench-"))
        root.chmod(0o755)  # PostgreSQL runs as 'nobody' under root
        self.root = root
        self.stack = LocalStack(
            StackConfig(
                root=root / "system",
                townships_file=unlimited_townships(root),
                trace_sampling_ratio=sampling,
                extra_env=dict(NO_RATE_LIMITS),
            )
        )
        self.peak_rss: dict[str, float] = {}
        self.scraper: MetricsScraper | None = None
        self.startup_seconds = 0.0

    # lifecycle --------------------------------------------------------------------
    def up(self) -> None:
        """Infrastructure (with commit timestamps), migrations, seed, processes."""
        started = time.monotonic()
        s = self.stack
        s.start_infrastructure()
        self._enable_commit_timestamps()
        s.migrate()
        s.seed()
        s.start_all()
        self.startup_seconds = time.monotonic() - started
        self.scraper = MetricsScraper(self.metrics_urls())
        self.scraper.start()

    def _enable_commit_timestamps(self) -> None:
        pg = self.stack.postgres
        if pg is None:
            return

        async def alter() -> None:
            conn = await asyncpg.connect(pg_dsn(pg.url("postgres")))
            try:
                await conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
            finally:
                await conn.close()

        asyncio.run(alter())
        pg.stop()
        pg.start(tied_to_parent=self.stack.config.tied_to_parent)

    def record_rss(self) -> None:
        """Fold the current peak RSS of every process into :attr:`peak_rss`."""
        for name, proc in self.stack.procs.items():
            value = peak_rss_mib(proc.pid)
            if value is not None:
                self.peak_rss[name] = max(self.peak_rss.get(name, 0.0), value)
        if self.stack.nats is not None and getattr(self.stack.nats, "proc", None) is not None:
            value = peak_rss_mib(self.stack.nats.proc.pid)  # type: ignore[union-attr]
            if value is not None:
                self.peak_rss["nats-server"] = max(self.peak_rss.get("nats-server", 0.0), value)

    def restart(self, names: Iterable[str], *, sampling: float, env: dict[str, str]) -> None:
        """Restart processes with another sampling ratio / environment."""
        names = list(names)
        self.record_rss()
        self.stack.config.trace_sampling_ratio = sampling
        self.stack.config.extra_env = {**NO_RATE_LIMITS, **env}
        for name in names:
            self.stack.stop(name)
        for name in names:
            if name != "gateway":
                self.stack.start(name)
        for name in names:
            if name != "gateway":
                self.stack.wait_service(name)
        if "gateway" in names:
            self.stack.start("gateway")
            self.stack.wait_service("gateway")

    def down(self) -> None:
        """Stop everything (peak RSS is recorded first)."""
        if self.scraper:
            self.scraper.stop()
        self.record_rss()
        self.stack.down()
        shutil.rmtree(self.root, ignore_errors=True)

    # helpers ----------------------------------------------------------------------
    def cpu_meter(self) -> CpuMeter:
        """Start counting CPU time of every process of the system."""
        return CpuMeter({n: p.pid for n, p in self.stack.procs.items()})

    @property
    def url(self) -> str:
        """Gateway base URL."""
        return self.stack.gateway_url

    def metrics_urls(self) -> list[str]:
        """Every Prometheus endpoint of the system."""
        urls = [f"{self.url}/metrics"]
        urls += [f"http://127.0.0.1:{self.stack.metrics_ports[s]}/metrics" for s in SERVICES]
        return urls

    def token(self, township: str | None, *roles: str, **claims: Any) -> str:
        """A dev token."""
        sub = claims.pop("sub", f"bench-{roles[0]}-{township or 'county'}")
        return mint_token(
            self.stack.private_key, sub=sub, roles=list(roles), township=township, **claims
        )

    def db_url(self, service: str) -> str:
        """asyncpg DSN of one service's database, as the server's superuser when we run it.

        The services connect as an ordinary role under row-level security; the benchmark's
        own reads of timestamps and its bulk seeding (COPY) need to see and write every town.
        """
        if self.stack.postgres is not None:
            return pg_dsn(self.stack.postgres.url(service))
        return pg_dsn(self.stack.database_url(service))

    def run_sql(self, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
        """Run one query on a service's database (blocking)."""

        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.db_url(service))
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return asyncio.run(go())


class MetricsScraper:
    """Prometheus ON: scrape every /metrics endpoint every few seconds, like a server."""

    def __init__(self, urls: list[str], interval: float = 5.0) -> None:
        self.urls = urls
        self.interval = interval
        self.scrapes = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="scraper")

    def start(self) -> None:
        """Start scraping in a thread."""
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.wait(self.interval):
                for url in self.urls:
                    try:
                        client.get(url).raise_for_status()
                        self.scrapes += 1
                    except httpx.HTTPError:
                        self.failures += 1

    def stop(self) -> None:
        """Stop scraping."""
        self._stop.set()
        self._thread.join(10)


class Baseline:
    """One baseline server process (B0 hello or B1 echo)."""

    def __init__(self, kind: str, log_dir: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.log = log_dir / f"baseline-{kind}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Baseline:
        self.proc = start_process(
            [sys.executable, "-m", "bench.baselines", self.kind, str(self.port)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            log_path=str(self.log),
            cwd=str(REPO),
        )
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"baseline {self.kind} exited:\n{self.log.read_text()}")
            import socket

            with socket.socket() as s:
                s.settimeout(0.2)
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(ready, 30, f"baseline {self.kind}")
        return self

    def peak_rss(self) -> float | None:
        """Peak RSS in MiB."""
        return peak_rss_mib(self.proc.pid) if self.proc else None

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop_process(self.proc)
