"""The ``township`` command: run the system locally, mint dev tokens, seed, re-drive and replay
events."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from township_platform.clock import parse_instant
from township_testing.devkeys import ensure_dev_keys, mint_token
from township_testing.servers import NOBODY, _traversable_by
from township_testing.stack import SERVICES, LocalStack, StackConfig

app = typer.Typer(help="Township platform: local operations and development tools.")
console = Console(stderr=True)

ROOT = Path(os.environ.get("TOWNSHIP_HOME", Path.cwd() / ".township"))
STATE = ROOT / "run.json"
PIDFILE = ROOT / "run.pid"
DEFAULT_TOWNS = Path.cwd() / "config" / "townships.json"

DataDir = Annotated[Path, typer.Option(help="Folder holding keys, data and logs")]


def _pg_data(root: Path) -> Path:
    """PostgreSQL's data folder: under ``root`` when the 'nobody' user can reach it."""
    if os.geteuid() != 0 or _traversable_by(root, NOBODY, NOBODY):
        return root / "pg"
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()).parent / "var" / "tmp"
    base = fallback if fallback.is_dir() else Path("/var/tmp")
    folder = base / f"township-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    console.print(
        f"[yellow]{root} is not reachable by PostgreSQL's user; its data lives in {folder}/pg"
    )
    return folder / "pg"


@app.command()
def token(
    township: Annotated[str | None, typer.Option(help="Township slug, e.g. zhaowan")] = None,
    role: Annotated[list[str], typer.Option(help="Role (repeatable)")] = ["clerk"],  # noqa: B006
    sub: Annotated[str, typer.Option(help="Subject (user id)")] = "clerk-zw-01",
    name: Annotated[str, typer.Option(help="Display name")] = "",
    department: Annotated[str | None, typer.Option(help="County department")] = None,
    village: Annotated[str | None, typer.Option(help="Village code")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 8 * 3600,
    data: DataDir = ROOT,
) -> None:
    """Print a dev token signed with the local dev key (accepted only in dev mode)."""
    private, _ = ensure_dev_keys(data / "keys")
    typer.echo(
        mint_token(
            private,
            sub=sub,
            roles=role,
            township=township,
            department=department,
            name=name,
            village=village,
            ttl_seconds=ttl,
        )
    )


def _stack(data: Path, towns: Path) -> LocalStack:
    stack = LocalStack(
        StackConfig(
            root=data,
            townships_file=towns.resolve(),
            gateway_port=int(os.environ.get("TOWNSHIP_GATEWAY_PORT", "8080")),
            service_ports={s: 50051 + i for i, s in enumerate(SERVICES)},
            metrics_ports={s: 9461 + i for i, s in enumerate(SERVICES)},
            nats_url=os.environ.get("NATS_URL") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
            pg_data=_pg_data(data),
            fast_postgres=False,
            trace_sampling_ratio=float(os.environ.get("TRACE_SAMPLING_RATIO", "0.1")),
            otlp_endpoint=os.environ.get("OTLP_ENDPOINT") or None,
        )
    )
    stack.config.extra_env.update(passed_settings(os.environ))
    return stack


def passed_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's ``TOWNSHIP_<COMPONENT>_<SETTING>`` variables a local run passes on.

    Settings such as ``TOWNSHIP_GATEWAY_LOG_LEVEL=debug`` or a town's rate limits reach
    their process; what the local stack wires itself (ports, addresses, database and NATS
    URLs, keys) stays as wired, or the processes would not find each other.
    """
    passed: dict[str, str] = {}
    for component in [*SERVICES, "gateway"]:
        prefix = f"TOWNSHIP_{component.upper()}_"
        for key, value in environ.items():
            setting = key.removeprefix(prefix)
            if setting != key and setting not in _WIRED and not setting.endswith("_ADDR"):
                passed[key] = value
    return passed


# settings the local stack decides (where the processes, keys and files are; dev mode)
_WIRED = frozenset(
    {
        "DATABASE_URL",
        "NATS_URL",
        "GRPC_HOST",
        "GRPC_PORT",
        "METRICS_HOST",
        "METRICS_PORT",
        "HTTP_HOST",
        "HTTP_PORT",
        "PRINCIPAL_KEY_FILE",
        "JWT_PUBLIC_KEY_FILE",
        "TOWNSHIPS_FILE",
        "DEV_MODE",
        "ENVIRONMENT",
    }
)


@app.command()
def run(
    data: DataDir = ROOT,
    townships: Annotated[Path, typer.Option(help="townships.json")] = DEFAULT_TOWNS,
) -> None:
    """Start NATS, PostgreSQL, the four services and the gateway; Ctrl-C stops them."""
    data.mkdir(parents=True, exist_ok=True)
    pidfile = data / "run.pid"
    if pidfile.exists() and _alive(int(pidfile.read_text() or 0)):
        console.print(f"already running (pid {pidfile.read_text()}); `make stop` first")
        raise typer.Exit(1)
    stack = _stack(data, townships)
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    (data / "run.pid").write_text(str(os.getpid()))
    try:
        with console.status("starting NATS, PostgreSQL, migrating, seeding, starting services…"):
            stack.up()
        state = {
            "gateway_url": stack.gateway_url,
            "nats_url": stack.nats_url,
            "database_urls": {s: stack.database_url(s) for s in SERVICES},
            "grpc_ports": stack.grpc_ports,
            "metrics_ports": stack.metrics_ports,
            "townships_file": str(townships.resolve()),
        }
        (data / "run.json").write_text(json.dumps(state, indent=2))
        private = stack.private_key
        clerk = mint_token(
            private, sub="clerk-zw-01", roles=["clerk"], township="zhaowan", name="杨宏云"
        )
        console.print(
            f"\n[bold green]Township platform is ready[/] in {stack.startup_seconds:.1f}s"
        )
        typer.echo(
            f"""
Gateway:      {stack.gateway_url}   (OpenAPI: {stack.gateway_url}/docs)
Logs:         {stack.logs}
Data:         {data}

A Zhaowan clerk's token (8 h):
export TOKEN={clerk}

Submit the newborn bundle (one visit: household registration + medical insurance):
curl -s -X POST {stack.gateway_url}/api/v1/applications \\
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  -H "Idempotency-Key: demo-$(date +%s)" \\
  -d '{{"bundle":"newborn","applicant":{{"name":"张玉祥","id_number":"","phone":"13800000000"}},"materials":[{{"code":"birth-medical-certificate","name":"出生医学证明"}}]}}'

Then:  curl -s {stack.gateway_url}/public/v1/applications/<receipt_code>
       curl -s -H "Authorization: Bearer $TOKEN" "{stack.gateway_url}/api/v1/personnel/points?person=clerk-zw-01"
More tokens: make token TOWNSHIP=bailiu ROLE=clerk SUB=clerk-bl-01
Press Ctrl-C (or run `make stop`) to stop.
""".rstrip()
        )
        _wait_forever(stack)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping…")
        stack.down()
        (data / "run.pid").unlink(missing_ok=True)
        console.print("stopped; data kept in " + str(data))


def _wait_forever(stack: LocalStack) -> None:
    """Sleep until interrupted, restarting nothing; report a process that dies."""
    while True:
        time.sleep(1)
        for name, proc in list(stack.procs.items()):
            if proc.poll() is not None:
                console.print(
                    f"[red]{name} exited with {proc.returncode}; see {stack.logs}/{name}.log"
                )
                stack.procs.pop(name)


@app.command()
def stop(data: DataDir = ROOT) -> None:
    """Stop a `township run` started in another terminal."""
    pidfile = data / "run.pid"
    if not pidfile.exists():
        console.print("nothing is running")
        raise typer.Exit(0)
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        console.print("nothing is running (stale pid file removed)")
        return
    console.print(f"stopping township run (pid {pid})…")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    console.print("stopped" if not _alive(pid) else f"pid {pid} is still stopping")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _state(data: Path) -> dict[str, object]:
    path = data / "run.json"
    if not path.exists():
        console.print("no running system found: start it with `make run`")
        raise typer.Exit(1)
    state: dict[str, object] = json.loads(path.read_text())
    return state


@app.command()
def seed(data: DataDir = ROOT) -> None:
    """Load the demo towns into the running system's databases (idempotent)."""
    state = _state(data)
    urls = state["database_urls"]
    assert isinstance(urls, dict)
    for service in SERVICES:
        env = dict(os.environ)
        env[f"TOWNSHIP_{service.upper()}_DATABASE_URL"] = str(urls[service])
        env[f"TOWNSHIP_{service.upper()}_TOWNSHIPS_FILE"] = str(state["townships_file"])
        code = os.spawnve(
            os.P_WAIT, sys.executable, [sys.executable, "-m", f"township_{service}", "seed"], env
        )
        if code != 0:
            raise typer.Exit(code)
    console.print("seeded")


@app.command()
def redrive(
    service: Annotated[str, typer.Option(help="Consuming service, e.g. personnel")],
    consumer: Annotated[str, typer.Option(help="Durable consumer, e.g. personnel-from-permits")],
    nats_url: Annotated[
        str | None, typer.Option(help="NATS URL (default: the running system)")
    ] = None,
    data: DataDir = ROOT,
) -> None:
    """Re-publish a consumer's dead-lettered events after the cause is fixed."""
    from township_platform.bus import redrive as do_redrive
    from township_platform.messaging import connect_nats

    url = nats_url or str(_state(data)["nats_url"])

    async def _go() -> int:
        nc = await connect_nats(url, "township-cli")
        try:
            return await do_redrive(nc.jetstream(), service, consumer)
        finally:
            await nc.drain()

    console.print(f"re-drove {asyncio.run(_go())} events")


def _instant(text: str, option: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        console.print(f"{option}: not an ISO 8601 date or time: {text!r}")
        raise typer.Exit(2) from None


@app.command()
def replay(
    service: Annotated[str, typer.Option(help="Producing service, e.g. permits")],
    since: Annotated[str, typer.Option(help="From (ISO 8601; China time without an offset)")],
    until: Annotated[str | None, typer.Option(help="Until, excluded (default: now)")] = None,
    township: Annotated[str, typer.Option(help="Only this town's events")] = "",
    event_type: Annotated[
        str, typer.Option("--type", help="Only this event type, e.g. permits.application.closed")
    ] = "",
    database_url: Annotated[
        str | None, typer.Option(help="The producer's database (default: the running system)")
    ] = None,
    nats_url: Annotated[
        str | None, typer.Option(help="NATS URL (default: the running system)")
    ] = None,
    data: DataDir = ROOT,
) -> None:
    """Re-publish a producer's events of a time range from its outbox (reconciliation).

    The outbox keeps sent events for OUTBOX_RETENTION_HOURS (24 by default). Consumers apply
    each event once, so replaying more than needed is safe. In a cluster, the same runs in
    the producer's pod: ``python -m township_permits replay --since …``.
    """
    from township_platform.bus import replay_range

    if service not in SERVICES:
        console.print(f"--service is one of {', '.join(SERVICES)}")
        raise typer.Exit(2)
    start = _instant(since, "--since")
    end = _instant(until, "--until") if until else datetime.now(UTC)
    if end <= start:
        console.print("--until must be after --since")
        raise typer.Exit(2)
    if database_url is None or nats_url is None:
        state = _state(data)
        urls = state["database_urls"]
        assert isinstance(urls, dict)
        database_url = database_url or str(urls[service])
        nats_url = nats_url or str(state["nats_url"])
    count = asyncio.run(
        replay_range(database_url, nats_url, start, end, township=township, event_type=event_type)
    )
    console.print(
        f"replayed {count} {service} events from {start.isoformat()} to {end.isoformat()}"
    )


if __name__ == "__main__":
    app()
