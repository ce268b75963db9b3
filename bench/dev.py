"""A developer's loop for performance work: one system kept up, phases run on demand.

    python -m bench.dev SPOOL_DIR            # starts the system, then waits for commands

Write one command per file into ``SPOOL_DIR/cmd`` (the loop picks it up, runs it, appends
the answer to ``SPOOL_DIR/out``)::

    read 8              # authenticated GET for 8 s (+ CPU ms per request, per process)
    submit 8 [RATE]     # POST intakes for 8 s (at RATE/s when given)
    events 100 5        # submits at 100 events/s for 5 s, then commit→effect latency
    hello 8             # B0 for comparison
    conns 32            # load generator connections from now on (16 by default)
    restart NAME...     # restart processes after a code change
    stop

Figures from here are for finding hot spots; the report comes from ``make bench``.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

from bench.phases import FULL, Profile, Run
from bench.system import Bench

DEV = Profile("dev", 8, 16, 60, 5, 100, (1_000, 10_000), 10, 4, False)


def main(argv: list[str]) -> int:
    """Entry point."""
    spool = Path(argv[0])
    spool.mkdir(parents=True, exist_ok=True)
    cmd_file, out_file = spool / "cmd", spool / "out"
    bench = Bench(0.1)
    try:
        bench.up()
        run = Run(bench, DEV)
        run.seed_reads()
        out_file.write_text(f"ready {bench.url} pids={_pids(bench)}\n")
        while True:
            if not cmd_file.exists():
                time.sleep(0.2)
                continue
            line = cmd_file.read_text().strip()
            cmd_file.unlink()
            if not line:
                continue
            words = line.split()
            try:
                answer = _do(bench, run, words)
            except Exception:
                answer = traceback.format_exc()
            with out_file.open("a") as f:
                f.write(f"> {line}\n{answer}\n")
            if words[0] == "stop":
                break
    finally:
        bench.down()
    return 0


def _pids(bench: Bench) -> dict[str, int]:
    return {n: p.pid for n, p in bench.stack.procs.items()}


def _do(bench: Bench, run: Run, words: list[str]) -> str:
    op, args = words[0], words[1:]
    if op == "read":
        return json.dumps(run.read(float(args[0]) if args else None).as_dict())
    if op == "submit":
        rate = float(args[1]) if len(args) > 1 else None
        return json.dumps(run.submit(rate=rate, seconds=float(args[0])).as_dict())
    if op == "events":
        rate, seconds = float(args[0]), float(args[1])
        run.wait_outbox_empty()
        start = run.db_now()
        result = run.submit(rate=rate / max(1, run.apps_per_intake), seconds=seconds)
        events = run.events_between(start)
        events["submit"] = result.as_dict()
        return json.dumps(events)
    if op == "hello":
        p = run.p
        run.p = Profile(**{**p.__dict__, "seconds": float(args[0]) if args else p.seconds})
        try:
            return json.dumps(run.baseline_http()[0].as_dict())
        finally:
            run.p = p
    if op == "conns":
        run.p = Profile(**{**run.p.__dict__, "connections": int(args[0])})
        return f"connections {run.p.connections}"
    if op == "restart":
        bench.restart(args, sampling=0.1, env={})
        return f"restarted {args} pids={_pids(bench)}"
    if op == "stop":
        return "stopping"
    return f"unknown command {op!r}; profiles: {FULL.name}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
