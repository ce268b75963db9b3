"""The measurements of one benchmark run (each bounded in time, all load to 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.loadgen import LoadResult, grpc_echo_load, wrk
from bench.system import REPO, Baseline, Bench
from township.common.v1 import common_pb2
from township.permits.events.v1 import events_pb2 as permits_events
from township_testing.stack import SERVICES

SUBMITTED_TYPE = "permits.application.submitted.v1"


@dataclass(frozen=True)
class Profile:
    """Durations and sizes of a run."""

    name: str
    seconds: float  # each throughput measurement
    connections: int
    read_seed: int  # intakes submitted to have applications to read
    event_seconds: float  # the fixed-rate event phase
    event_rate: float  # events/s in the fixed-rate phase
    list_sizes: tuple[int, int]
    locust_seconds: float
    locust_users: int
    tracing_restarts_services: bool


FULL = Profile("full", 15, 16, 300, 20, 100, (10_000, 1_000_000), 30, 20, True)
TINY = Profile("tiny", 1, 4, 6, 2, 20, (200, 2_000), 3, 2, False)


SINGLE_ITEM = "QT-00101-001"  # 出生登记, delegated to every seeded town


def application_body(name: str = "张玉祥") -> dict[str, Any]:
    """One new application (birth registration), as a window clerk submits it."""
    return {
        "item_code": SINGLE_ITEM,
        "applicant": {"name": name, "id_number": "", "phone": "13912345678"},
        "materials": [
            {"code": "birth-medical-certificate", "name": "出生医学证明"},
            {"code": "household-register", "name": "居民户口簿"},
        ],
        "channel": "window",
    }


def newborn_body(name: str = "张玉祥") -> dict[str, Any]:
    """The newborn one-visit bundle, as a window clerk submits it."""
    return {
        "bundle": "newborn",
        "applicant": {"name": name, "id_number": "", "phone": "13912345678"},
        "materials": [
            {"code": "birth-certificate", "name": "出生医学证明"},
            {"code": "household-register", "name": "父母户口簿"},
        ],
        "channel": "window",
    }


class Run:
    """Holds the system and the files the load generators read."""

    def __init__(self, bench: Bench, profile: Profile) -> None:
        self.bench = bench
        self.p = profile
        self.files = bench.root / "load"
        self.files.mkdir(exist_ok=True)
        self.town = "zhaowan"
        self.clerk = bench.token(self.town, "clerk", sub="clerk-zw-01", name="Bench Clerk")
        self.reader = bench.token(self.town, "approver", sub="approver-zw-bench")
        # the submit figure is one new application (as the issue defines it); the newborn
        # bundle (two applications, a receipt and two events per intake) is measured beside it
        self.body = self.files / "application.json"
        self.body.write_text(json.dumps(application_body()), encoding="utf-8")
        self.bundle_body = self.files / "newborn.json"
        self.bundle_body.write_text(json.dumps(newborn_body()), encoding="utf-8")
        self.read_paths = self.files / "read-paths.txt"
        self.app_ids: list[str] = []
        self.receipts: dict[str, list[str]] = {}
        self.apps_per_intake = 1  # of the submit body: one application, one event

    # seeding ----------------------------------------------------------------------
    def seed_reads(self) -> None:
        """Submit intakes through the API; their applications are what the reads fetch."""
        with httpx.Client(base_url=self.bench.url, timeout=10) as client:
            for town in ("zhaowan", "bailiu"):
                tok = self.bench.token(town, "clerk", sub=f"clerk-{town}-bench")
                for i in range(self.p.read_seed // 2 or 1):
                    r = client.post(
                        "/api/v1/applications",
                        json=newborn_body(f"测试{i}"),
                        headers={
                            "Authorization": f"Bearer {tok}",
                            "Idempotency-Key": f"seed-{town}-{uuid.uuid4()}",
                        },
                    )
                    r.raise_for_status()
                    data = r.json()
                    self.receipts.setdefault(town, []).append(data["receipt_code"])
                    if town == self.town:
                        self.app_ids += [a["id"] for a in data["applications"]]
        self.read_paths.write_text(
            "\n".join(f"/api/v1/applications/{a}" for a in self.app_ids) + "\n"
        )

    # baselines --------------------------------------------------------------------
    def baseline_http(self) -> tuple[LoadResult, float | None]:
        """B0: wrk against a bare FastAPI hello endpoint."""
        with Baseline("hello", self.bench.stack.logs) as b0:
            url = f"http://127.0.0.1:{b0.port}/hello"
            wrk(url, seconds=1, connections=self.p.connections)  # warm-up
            result = wrk(url, seconds=self.p.seconds, connections=self.p.connections)
            return result, b0.peak_rss()

    def baseline_grpc(self) -> tuple[LoadResult, float | None]:
        """B1: a grpc.aio client loop against a bare grpc.aio echo server."""
        with Baseline("echo", self.bench.stack.logs) as b1:
            target = f"127.0.0.1:{b1.port}"
            result = grpc_echo_load(target, seconds=self.p.seconds, concurrency=self.p.connections)
            return result, b1.peak_rss()

    # system -----------------------------------------------------------------------
    def read(self, seconds: float | None = None) -> LoadResult:
        """Authenticated GET of one application (JWT, gRPC hop, indexed query)."""
        url = f"{self.bench.url}/api/v1/applications/{self.app_ids[0]}"
        wrk(
            url, seconds=1, connections=self.p.connections, paths=self.read_paths, token=self.reader
        )
        meter = self.bench.cpu_meter()
        result = wrk(
            url,
            seconds=seconds or self.p.seconds,
            connections=self.p.connections,
            paths=self.read_paths,
            token=self.reader,
        )
        result.cpu_ms_per_request = meter.per_request_ms(result.requests)
        return result

    def submit(
        self, *, rate: float | None = None, seconds: float | None = None, bundle: bool = False
    ) -> LoadResult:
        """Authenticated POST of a new application (or of the newborn bundle) with a unique
        Idempotency-Key."""
        meter = self.bench.cpu_meter()
        result = wrk(
            f"{self.bench.url}/api/v1/applications",
            seconds=seconds or self.p.seconds,
            connections=self.p.connections,
            mode="post",
            body=self.bundle_body if bundle else self.body,
            token=self.clerk,
            idempotency=True,
            rate=rate,
        )
        result.cpu_ms_per_request = meter.per_request_ms(result.requests)
        return result

    def db_now(self) -> datetime:
        """PostgreSQL's clock (event timestamps are PostgreSQL's)."""
        return self.bench.run_sql("permits", "SELECT clock_timestamp() AS t")[0]["t"]  # type: ignore[no-any-return]

    def events_between(self, start: datetime, drain_timeout: float = 30) -> dict[str, Any]:
        """Commit → consumer-commit latency of every submitted event since ``start``.

        Waits until the outbox is empty and every event is in personnel's inbox (bounded).
        """
        deadline = time.monotonic() + drain_timeout
        rows: list[Any] = []
        effects: dict[str, datetime] = {}
        while True:
            rows = self.bench.run_sql(
                "permits",
                "SELECT event_id, envelope, created_at, sent_at FROM outbox "
                "WHERE created_at >= $1 AND type = $2",
                start,
                SUBMITTED_TYPE,
            )
            ids = [r["event_id"] for r in rows]
            # personnel's inbox row is written in the same transaction as its effect
            found = self.bench.run_sql(
                "personnel",
                "SELECT event_id, min(pg_xact_commit_timestamp(xmin)) AS committed, "
                "min(processed_at) AS processed_at FROM inbox "
                "WHERE event_id = ANY($1::text[]) GROUP BY event_id",
                ids,
            )
            effects = {r["event_id"]: r["committed"] or r["processed_at"] for r in found}
            if len(effects) >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        app_of: dict[str, str] = {}
        for r in rows:
            env = common_pb2.EventEnvelope.FromString(r["envelope"])
            payload = permits_events.ApplicationSubmitted()
            env.payload.Unpack(payload)
            app_of[r["event_id"]] = payload.application_id
        commits = {
            r["id"]: r["committed"]
            for r in self.bench.run_sql(
                "permits",
                "SELECT id, pg_xact_commit_timestamp(xmin) AS committed FROM applications "
                "WHERE id = ANY($1::text[])",
                list(app_of.values()),
            )
        }
        exact = all(v is not None for v in commits.values()) and bool(commits)
        latencies: list[float] = []
        for r in rows:
            effect = effects.get(r["event_id"])
            origin = commits.get(app_of[r["event_id"]]) or r["created_at"]
            if effect is not None and origin is not None:
                latencies.append((effect - origin).total_seconds() * 1000)
        latencies.sort()
        sent = [r for r in rows if r["sent_at"] is not None]
        last_commit = (
            max((commits.get(app_of[r["event_id"]]) or r["created_at"]) for r in rows)
            if rows
            else None
        )
        last_sent = max((r["sent_at"] for r in sent), default=None)
        return {
            "events": len(rows),
            "applied": len(effects),
            "method": "pg_xact_commit_timestamp" if exact else "created_at/processed_at",
            "latency_ms": _percentiles(latencies),
            "outbox_last_publish_after_last_commit_s": (
                round((last_sent - last_commit).total_seconds(), 3)
                if last_sent and last_commit
                else None
            ),
        }

    def outbox_backlog(self) -> int:
        """Unpublished outbox events of permits."""
        return int(
            self.bench.run_sql("permits", "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL")[
                0
            ]["n"]
        )

    def wait_outbox_empty(self, timeout: float = 30) -> float | None:
        """Seconds until permits' outbox is empty (polled every 20 ms), None on timeout."""
        started = time.monotonic()

        async def poll() -> float | None:
            conn = await asyncpg.connect(self.bench.db_url("permits"))
            try:
                while time.monotonic() - started < timeout:
                    n = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                    if n == 0:
                        return time.monotonic() - started
                    await asyncio.sleep(0.02)
                return None
            finally:
                await conn.close()

        return asyncio.run(poll())

    # list -------------------------------------------------------------------------
    def queue_endpoint(self) -> tuple[str, str] | None:
        """(path with query, token) of the department queue, if the API has one."""
        spec = httpx.get(f"{self.bench.url}/openapi.json", timeout=10).json()
        op = spec.get("paths", {}).get("/api/v1/applications", {}).get("get")
        if not op:
            return None
        params = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        query = ["page_size=50"] if "page_size" in params else []
        for name in ("states", "state"):
            if name in params:
                query.append(f"{name}=SUBMITTED")
                break
        return "/api/v1/applications?" + "&".join(query), self.reader

    def list_queue(
        self, size: int, seeded: int, before_load: Callable[[], None] | None = None
    ) -> tuple[dict[str, Any], int]:
        """Bulk-seed one town up to ``size`` applications, then time its department queue."""
        seeded = bulk_seed(self.bench, self.town, size, seeded)
        if before_load is not None:
            before_load()
        endpoint = self.queue_endpoint()
        if endpoint is None:
            return {"size": size, "mode": "sql", **sql_queue_timing(self.bench, self.town)}, seeded
        path, tok = endpoint
        result = wrk(
            f"{self.bench.url}{path}",
            seconds=self.p.seconds,
            connections=self.p.connections,
            token=tok,
        )
        return {"size": size, "mode": "http", "path": path, **result.as_dict()}, seeded

    # locust -----------------------------------------------------------------------
    def locust(self, locust_bin: Path | None) -> dict[str, Any]:
        """The mixed, per-town scenario (intake, review, public lookups, complaints)."""
        if locust_bin is None or not locust_bin.exists():
            return {
                "status": "skipped",
                "reason": "locust is not installed (make bench installs it)",
            }
        spec = httpx.get(f"{self.bench.url}/openapi.json", timeout=10).json()
        towns = {}
        for town in ("zhaowan", "bailiu"):
            towns[town] = {
                "clerk": self.bench.token(town, "clerk", sub=f"clerk-{town}-locust"),
                "approver": self.bench.token(town, "approver", sub=f"approver-{town}-locust"),
                "receipts": self.receipts.get(town, [])[:200],
            }
        config = self.files / "locust.json"
        config.write_text(
            json.dumps({"towns": towns, "paths": sorted(spec.get("paths", {}))}), encoding="utf-8"
        )
        prefix = self.files / "locust"
        cmd = [
            str(locust_bin),
            "-f",
            str(REPO / "bench" / "locustfile.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(self.p.locust_users),
            "-r",
            str(max(1, self.p.locust_users // 2)),
            "-t",
            f"{max(1, round(self.p.locust_seconds))}s",
            "--stop-timeout",
            "5",
            "--host",
            self.bench.url,
            "--csv",
            str(prefix),
        ]
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=self.p.locust_seconds + 90,
            env={"BENCH_LOCUST_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        )
        stats = prefix.with_name("locust_stats.csv")
        if not stats.exists():
            return {"status": "failed", "reason": out.stderr[-1500:]}
        return {"status": "ok", "requests": _locust_rows(stats)}

    # tracing ----------------------------------------------------------------------
    def tracing(self) -> dict[str, Any]:
        """Read throughput with tracing off (and Prometheus unscraped), at 10 % and at 100 %.

        Runs last: the processes stay at 100 % sampling afterwards.
        """
        names = ["gateway", *SERVICES] if self.p.tracing_restarts_services else ["gateway"]
        scraper = self.bench.scraper
        result: dict[str, Any] = {"restarted": names}
        # Each setting is measured on freshly restarted processes, so that none of the three
        # carries the heaps and caches that the earlier phases (a million-row queue) left.
        self.bench.restart(names, sampling=0.1, env={})
        result["sampling_10"] = self.read().as_dict()
        if scraper:
            scraper.stop()
        self.bench.restart(names, sampling=0.0, env={"OTEL_SDK_DISABLED": "true"})
        result["off"] = self.read().as_dict()
        if scraper:
            from bench.system import MetricsScraper

            self.bench.scraper = MetricsScraper(self.bench.metrics_urls())
            self.bench.scraper.start()
        self.bench.restart(names, sampling=1.0, env={})
        result["sampling_100"] = self.read().as_dict()
        return result


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None, "n": 0}

    def pct(q: float) -> float:
        return round(values[min(len(values) - 1, int(q / 100 * len(values)))], 3)

    return {
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": round(values[-1], 3),
        "n": len(values),
    }


def _locust_rows(path: Path) -> list[dict[str, Any]]:
    import csv

    rows = []
    with path.open() as f:
        for r in csv.DictReader(f):
            rows.append(
                {
                    "type": r["Type"],
                    "name": r["Name"],
                    "requests": int(r["Request Count"]),
                    "failures": int(r["Failure Count"]),
                    "rps": round(float(r["Requests/s"]), 1),
                    "p50_ms": float(r["50%"] or 0),
                    "p99_ms": float(r["99%"] or 0),
                }
            )
    return rows


# bulk seeding ---------------------------------------------------------------------
_OPEN = {"SUBMITTED", "ACCEPTED", "IN_REVIEW"}
_TEXT_DEFAULTS = {"text": "", "character varying": "", "integer": 0, "bigint": 0, "boolean": False}


def _progress(done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-6)
    sys.stdout.write(
        f"\r  seeding [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)"
    )
    if done >= total:
        sys.stdout.write("\n")
    sys.stdout.flush()


def bulk_seed(bench: Bench, town: str, target: int, already: int) -> int:
    """COPY applications into permits until ``town`` has ``target`` of them (bench rows)."""
    need = target - already
    if need <= 0:
        return already

    async def go() -> None:
        conn = await asyncpg.connect(bench.db_url("permits"))
        try:
            item = await conn.fetchrow(
                "SELECT s.code, s.department FROM service_items s JOIN delegations d "
                "ON d.item_code = s.code WHERE d.township_id = $1 ORDER BY s.code LIMIT 1",
                town,
            )
            items = await conn.fetch(
                "SELECT s.code, s.department FROM service_items s JOIN delegations d "
                "ON d.item_code = s.code WHERE d.township_id = $1 ORDER BY s.code LIMIT 5",
                town,
            )
            receipt = f"BENCH-{town}"
            await conn.execute(
                "INSERT INTO receipts (receipt_code, township_id, bundle, applicant_masked, "
                "submitted_at) VALUES ($1, $2, '', '*', now()) ON CONFLICT DO NOTHING",
                receipt,
                town,
            )
            cols = await conn.fetch(
                "SELECT column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_name = 'applications' "
                "AND table_schema = current_schema()"
            )
            now = datetime.now(UTC)
            known = {
                "id": None,
                "township_id": town,
                "receipt_code": receipt,
                "bundle": "",
                "item_code": None,
                "department": None,
                "state": None,
                "channel": "window",
                "village": "",
                "applicant": json.dumps(
                    {"name": "张*", "id_number": "", "phone": "", "kind": "person"}
                ),
                "materials": "[]",
                "submitted_by": "bench",
                "submitted_at": now,
                "updated_at": now,
            }
            extra = {}
            for c in cols:
                name = c["column_name"]
                if name in known or c["is_nullable"] == "YES" or c["column_default"] is not None:
                    continue
                dtype = c["data_type"]
                if dtype in _TEXT_DEFAULTS:
                    extra[name] = _TEXT_DEFAULTS[dtype]
                elif dtype.startswith("timestamp"):
                    extra[name] = now
                elif dtype in ("json", "jsonb"):
                    extra[name] = "{}"
                elif dtype == "date":
                    extra[name] = now.date()
                elif dtype == "numeric":
                    extra[name] = 0
                else:
                    raise RuntimeError(f"cannot fill applications.{name} ({dtype}) for bulk seed")
            columns = [*known, *extra]
            states = ["SUBMITTED"] + ["ACCEPTED", "IN_REVIEW", "APPROVED", "ISSUED", "CLOSED"] * 2
            rng = random.Random(target)
            started = time.monotonic()
            done = 0
            batch = 50_000
            _progress(0, need, started)
            while done < need:
                n = min(batch, need - done)
                records = []
                for _ in range(n):
                    code, dept = items[rng.randrange(len(items))] if items else item
                    row = dict(known)
                    state = states[rng.randrange(len(states))]
                    # open applications are recent (limits run in working days); finished
                    # ones spread over three years
                    age = 20 * 86400 if state in _OPEN else 3 * 365 * 86400
                    row.update(
                        id=str(uuid.uuid4()),
                        item_code=code,
                        department=dept,
                        state=state,
                        submitted_at=now - timedelta(seconds=rng.randrange(age)),
                    )
                    row.update(extra)
                    records.append(tuple(row[c] for c in columns))
                await conn.copy_records_to_table("applications", records=records, columns=columns)
                done += n
                _progress(done, need, started)
            # What an operator does after a bulk load (PostgreSQL's "Populating a Database"):
            # otherwise autovacuum's pass over the new rows runs during the measurement.
            await conn.execute("VACUUM (ANALYZE) applications")
        finally:
            await conn.close()

    asyncio.run(go())
    return target


def sql_queue_timing(bench: Bench, town: str, n: int = 300) -> dict[str, Any]:
    """Without a queue endpoint yet: time the keyset query the queue runs, in SQL."""

    async def go() -> list[float]:
        conn = await asyncpg.connect(bench.db_url("permits"))
        try:
            dept = await conn.fetchval(
                "SELECT department FROM applications WHERE township_id = $1 LIMIT 1", town
            )
            stmt = await conn.prepare(
                "SELECT id, item_code, state, submitted_at FROM applications "
                "WHERE township_id = $1 AND department = $2 AND state = $3 AND id > $4 "
                "ORDER BY id LIMIT 50"
            )
            times = []
            cursor = ""
            for _ in range(n):
                t0 = time.perf_counter()
                rows = await stmt.fetch(town, dept, "SUBMITTED", cursor)
                times.append((time.perf_counter() - t0) * 1000)
                cursor = rows[-1]["id"] if len(rows) == 50 else ""
            return sorted(times)
        finally:
            await conn.close()

    return {"latency_ms": _percentiles(asyncio.run(go()))}
