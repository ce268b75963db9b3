"""Load generators: wrk (compiled, Lua-scripted) for throughput, a gRPC loop for B1.

wrk comes from Debian's packages (``apt-get install wrk``); :func:`ensure_wrk` installs it
when missing. Every run is bounded in time and targets 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).parent / "lua" / "township.lua"


def ensure_wrk() -> str:
    """Path of wrk, installed from Debian's packages when missing (needs root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise RuntimeError("wrk is missing and apt-get is not available: install wrk")
    print("bench: installing wrk from Debian's packages", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        cmd = ["sudo", "-n", *cmd]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run([*cmd[:-4], "apt-get", "update", "-q"], env=env, capture_output=True)
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
    return found


def wrk_version() -> str:
    """wrk's version line."""
    out = subprocess.run([ensure_wrk(), "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0].strip()


@dataclass
class LoadResult:
    """One load run: throughput, latency percentiles (ms) and errors."""

    requests: int
    duration_s: float
    rps: float
    latency_ms: dict[str, float]
    errors: dict[str, int]
    connections: int
    target_rate: float | None = None
    cpu_ms_per_request: dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "rps": round(self.rps, 1),
            "latency_ms": {k: round(v, 3) for k, v in self.latency_ms.items()},
            "errors": self.errors,
            "connections": self.connections,
            "target_rate": self.target_rate,
            "cpu_ms_per_request": self.cpu_ms_per_request,
        }


def _parse(stdout: str, connections: int, rate: float | None) -> LoadResult:
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            duration = float(data["duration_s"]) or 1e-9
            return LoadResult(
                requests=int(data["requests"]),
                duration_s=duration,
                rps=int(data["requests"]) / duration,
                latency_ms={k: float(v) for k, v in data["latency_ms"].items()},
                errors={k: int(v) for k, v in data.get("errors", {}).items()},
                connections=connections,
                target_rate=rate,
            )
    raise RuntimeError(f"load generator printed no result:\n{stdout[-2000:]}")


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    mode: str = "get",
    paths: Path | None = None,
    token: str | None = None,
    body: Path | None = None,
    idempotency: bool = False,
    rate: float | None = None,
) -> LoadResult:
    """Run wrk against ``url`` (127.0.0.1 only) for ``seconds``; ``rate`` paces it."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("load goes to 127.0.0.1 only")
    env = {
        **os.environ,
        "BENCH_MODE": mode,
        "BENCH_PATHS": str(paths or ""),
        "BENCH_TOKEN": token or "",
        "BENCH_BODY": str(body or ""),
        "BENCH_IDEM": "1" if idempotency else "0",
        "BENCH_RATE": str(rate or 0),
        "BENCH_THREADS": str(threads),
    }
    cmd = [
        ensure_wrk(),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr[-2000:]}")
    return _parse(out.stdout, connections, rate)


def grpc_echo_load(target: str, *, seconds: float, concurrency: int) -> LoadResult:
    """Drive the B1 echo server with a grpc.aio client loop in its own process."""
    cmd = [
        sys.executable,
        "-m",
        "bench.baselines",
        "grpc-load",
        target,
        str(concurrency),
        str(seconds),
    ]
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        cwd=Path(__file__).resolve().parents[1],
    )
    if out.returncode != 0:
        raise RuntimeError(f"grpc load failed: {out.stderr[-2000:]}")
    return _parse(out.stdout, concurrency, None)
