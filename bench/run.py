"""``make bench``: start the system, measure it against its baselines, write the report.

    python -m bench.run            # full run (about 10 minutes on 2 cores)
    python -m bench.run --tiny     # seconds-long load, for the test of the harness
    python -m bench.run --pyspy    # also record py-spy profiles of the hot phases

Writes bench/results/latest.json and latest.md (or --out DIR) and, on a full run, the figures
section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import report
from bench.loadgen import ensure_wrk, wrk_version
from bench.phases import FULL, TINY, Profile, Run
from bench.system import REPO, Bench

TOOLS = REPO / ".tools" / "bench"
LOCUST = TOOLS / "bin" / "locust"
PYSPY = TOOLS / "bin" / "py-spy"
SAMPLING = 0.1  # the targets are stated at 10 % sampling with Prometheus on


class Recorder:
    """Runs phases, keeping going when one fails (its error goes into the report)."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        print(f"bench: {name} …", flush=True)
        started = time.monotonic()
        try:
            value = fn()
        except Exception as e:
            traceback.print_exc()
            self.errors[name] = f"{type(e).__name__}: {str(e)[:300]}"
            return None
        print(f"bench: {name} done in {time.monotonic() - started:.1f} s", flush=True)
        return value


def pyspy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Start py-spy on ``pid`` for ``seconds`` (folded stacks: speedscope opens them)."""
    if not PYSPY.exists():
        return None
    return subprocess.Popen(
        [
            str(PYSPY),
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(profile: Profile, *, locust: bool, profile_dir: Path | None) -> dict[str, Any]:
    """One run: the system and the baselines, measured in the same process tree."""
    ensure_wrk()
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    loadavg = os.getloadavg()
    bench = Bench(SAMPLING)
    rec = Recorder()
    system: dict[str, Any] = {}
    baselines: dict[str, Any] = {}
    memory: dict[str, Any] = {}
    try:
        print(f"bench: starting the system under {bench.root}", flush=True)
        bench.up()
        run = Run(bench, profile)
        rec("seed applications", run.seed_reads)

        b0 = rec("B0 hello", run.baseline_http)
        if b0:
            baselines["b0_http_hello"] = b0[0].as_dict()
            memory["b0_hello"] = b0[1]
        b1 = rec("B1 grpc echo", run.baseline_grpc)
        if b1:
            baselines["b1_grpc_echo"] = b1[0].as_dict()
            memory["b1_echo"] = b1[1]

        spies = []
        if profile_dir is not None:
            for name in ("gateway", "permits"):
                spies.append(
                    pyspy(
                        bench.stack.procs[name].pid,
                        profile.seconds + 1,
                        profile_dir / f"{name}-read.folded",
                    )
                )
        read = rec("read", run.read)
        for spy in spies:
            if spy:
                spy.wait(60)
        if read:
            system["read"] = read.as_dict()

        def burst() -> dict[str, Any]:
            start = run.db_now()
            spies = []
            if profile_dir is not None:
                for name in ("gateway", "permits"):
                    spies.append(
                        pyspy(
                            bench.stack.procs[name].pid,
                            profile.seconds + 1,
                            profile_dir / f"{name}-submit.folded",
                        )
                    )
            result = run.submit()
            drained = run.wait_outbox_empty()
            for s in spies:
                if s:
                    s.wait(60)
            events = run.events_between(start)
            events["rate"] = round(events["events"] / max(result.duration_s, 1e-9), 1)
            return {
                "submit_max": result.as_dict(),
                "outbox_drain_s": (round(drained, 3) if drained is not None else None),
                "events_max": events,
            }

        b = rec("submit at max rate", burst)
        if b:
            system.update(b)
            half_rate = max(1.0, b["submit_max"]["rps"] / 2)
            half = rec("submit at half max", lambda: run.submit(rate=half_rate))
            if half:
                system["submit_half"] = half.as_dict()
        bundle = rec("submit the newborn bundle at max rate", lambda: run.submit(bundle=True))
        if bundle:
            system["submit_bundle"] = bundle.as_dict()

        def fixed() -> dict[str, Any]:
            # A steady state, not the tail of the previous phases: permits' outbox empty and
            # personnel caught up with every event of the last minutes (bounded wait).
            run.wait_outbox_empty()
            run.events_between(run.db_now() - timedelta(minutes=3), drain_timeout=60)
            per_intake = events_per_intake(run)
            start = run.db_now()
            result = run.submit(rate=profile.event_rate / per_intake, seconds=profile.event_seconds)
            events = run.events_between(start)
            events["rate"] = round(events["events"] / max(result.duration_s, 1e-9), 1)
            events["target_rate"] = profile.event_rate
            events["submit"] = result.as_dict()
            return events

        ev = rec("events at a fixed rate", fixed)
        if ev:
            system["events_fixed"] = ev

        if locust:
            loc = rec("locust mixed scenario", lambda: run.locust(LOCUST))
            if loc:
                system["locust"] = loc

        lists: dict[str, Any] = {}
        seeded = [len(run.app_ids) + 0]
        for key, size in zip(("small", "large"), profile.list_sizes, strict=True):

            def one(size: int = size, key: str = key) -> dict[str, Any]:
                spies: list[subprocess.Popen[bytes] | None] = []

                def profile_permits() -> None:
                    if profile_dir is not None and key == "large":
                        spies.append(
                            pyspy(
                                bench.stack.procs["permits"].pid,
                                profile.seconds + 1,
                                profile_dir / "permits-list.folded",
                            )
                        )

                result, seeded[0] = run.list_queue(size, seeded[0], before_load=profile_permits)
                for spy in spies:
                    if spy:
                        spy.wait(60)
                return result

            value = rec(f"list at {size:,}", one)
            if value:
                lists[key] = value
        system["list"] = lists

        # last: it restarts processes (with tracing off, then at 100 % sampling)
        tracing = rec("tracing cost", run.tracing)
        if tracing:
            system["tracing"] = tracing
        bench.record_rss()
    finally:
        bench.down()
    memory_all = {k: round(v, 1) for k, v in bench.peak_rss.items()}
    memory_all.update({k: round(v, 1) for k, v in memory.items() if v})
    result: dict[str, Any] = {
        "schema": 1,
        "profile": profile.name,
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t0, 1),
        "machine": {**report.machine(), "loadavg": list(loadavg)},
        "loadavg_after": list(os.getloadavg()),
        "config": {
            "gateway_workers": 1,
            "trace_sampling_ratio": SAMPLING,
            "prometheus": "on",
            "scrape_interval_s": 5.0,
            "connections": profile.connections,
            "seconds": profile.seconds,
            "startup_s": round(bench.startup_seconds, 1),
            "scrapes": bench.scraper.scrapes if bench.scraper else 0,
            "py_spy_attached": profile_dir is not None,
        },
        "versions": report.versions(
            {
                "wrk": wrk_version(),
                "locust": report.tool_version([str(LOCUST), "--version"])
                if LOCUST.exists()
                else "",
                "nats-server": nats_version(),
                "postgresql": postgres_version(),
            }
        ),
        "baselines": baselines,
        "system": system,
        "memory": {"peak_rss_mib": memory_all},
        "errors": rec.errors,
    }
    result["ratios"] = report.ratios(result)
    result["targets"] = report.targets(result)
    result["sizing"] = report.sizing(result)
    return result


def events_per_intake(run: Run) -> int:
    """How many submitted events one benchmark intake produces (one per application)."""
    return max(1, run.apps_per_intake)


def nats_version() -> str:
    """nats-server's version."""
    try:
        from township_testing.servers import nats_server_binary

        return report.tool_version([nats_server_binary(), "--version"])
    except Exception:
        return ""


def postgres_version() -> str:
    """PostgreSQL's version."""
    try:
        from township_testing.servers import postgres_bin_dir

        return report.tool_version([str(postgres_bin_dir() / "postgres"), "--version"])
    except Exception:
        return ""


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="seconds-long load (harness test)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--no-locust", action="store_true")
    parser.add_argument("--pyspy", action="store_true", help="record py-spy profiles")
    parser.add_argument(
        "--docs",
        type=Path,
        default=None,
        help="update the figures section of this file (full runs: README.md)",
    )
    args = parser.parse_args(argv)
    profile = TINY if args.tiny else FULL
    profile_dir = None
    if args.pyspy:
        profile_dir = args.out / "profiles"
        profile_dir.mkdir(parents=True, exist_ok=True)
    docs = args.docs
    if docs is None and not args.tiny:
        docs = REPO / "README.md"
    result = measure(profile, locust=not args.no_locust, profile_dir=profile_dir)
    report.write(result, args.out, docs)
    print(report.markdown(result))
    print(f"bench: wrote {args.out / 'latest.json'} and {args.out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
