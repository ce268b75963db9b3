"""Fixtures: promtool (installed through `make observability-tools` when missing), and for
the live tests a stack of our own that exports traces to an in-test OTLP receiver."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from township_platform.pii import make_resident_id
from township_testing.devkeys import mint_token
from township_testing.plugin import RELAXED_GATEWAY_LIMITS, relaxed_townships
from township_testing.procs import start_process, stop_process
from township_testing.stack import SERVICES, LocalStack, StackConfig

from .queries import ROOT

INSTALL_HINT = (
    "promtool is needed by tests/observability. `make observability-tools` installs it from "
    "Debian's `prometheus` package (apt-get install -y --no-install-recommends prometheus)."
)


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool; runs `make observability-tools` once if it is not on PATH."""
    path = shutil.which("promtool")
    if path is None:
        make = shutil.which("make")
        if make is None:
            pytest.fail(f"{INSTALL_HINT} (make is missing too)", pytrace=False)
        result = subprocess.run(
            [make, "--no-print-directory", "observability-tools"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        path = shutil.which("promtool")
        if path is None:
            pytest.fail(
                f"{INSTALL_HINT}\n`make observability-tools` exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
                pytrace=False,
            )
    return path


# -- live tests (test_live_*.py): one stack of our own, exporting traces to a test receiver --


@dataclass(frozen=True)
class ExportedSpan:
    """One span as a process exported it over OTLP (ids in lowercase hex)."""

    service: str
    resource: dict[str, Any]
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind_name: str  # SERVER, CLIENT, PRODUCER, CONSUMER or INTERNAL
    attributes: dict[str, Any]


class OtlpReceiver:
    """The OTLP/gRPC trace receiver of otlp_receiver.py, run as a child process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.out = folder / "spans.jsonl"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> OtlpReceiver:
        """Start the receiver and wait for its port."""
        self.folder.mkdir(parents=True, exist_ok=True)
        port_file = self.folder / "port"
        self._proc = start_process(
            [
                sys.executable,
                "-m",
                "tests.observability.otlp_receiver",
                str(port_file),
                str(self.out),
            ],
            log_path=str(self.folder / "receiver.log"),
            cwd=str(ROOT),
        )
        wait_until(port_file.exists, 60, "the OTLP receiver to listen")
        self.port = int(port_file.read_text())
        return self

    def stop(self) -> None:
        """Stop the receiver (by its pid)."""
        if self._proc is not None:
            stop_process(self._proc)

    @property
    def endpoint(self) -> str:
        """What the processes get as ``OTLP_ENDPOINT``."""
        return f"http://127.0.0.1:{self.port}"

    def spans(self, trace_id: str | None = None) -> list[ExportedSpan]:
        """Every span received so far (of one trace, when given)."""
        if not self.out.exists():
            return []
        spans: dict[str, ExportedSpan] = {}
        for line in self.out.read_text(encoding="utf-8").splitlines():
            if not line.endswith("}"):
                continue  # a line being written
            raw = json.loads(line)
            if trace_id is None or raw["trace_id"] == trace_id:
                # OTLP is at least once: an exporter retries a batch whose answer was late.
                spans[raw["span_id"]] = ExportedSpan(kind_name=raw.pop("kind"), **raw)
        return list(spans.values())


@pytest.fixture(scope="session")
def otlp_receiver(township_workdir: Path) -> Iterator[OtlpReceiver]:
    """The OTLP receiver every process of ``live_stack`` exports to."""
    receiver = OtlpReceiver(township_workdir / "otlp").start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def live_stack(township_workdir: Path, otlp_receiver: OtlpReceiver) -> Iterator[LocalStack]:
    """The whole system, tracing every request (ratio 1.0) to ``otlp_receiver``.

    Separate from the e2e ``system`` fixture, which exports no traces; rate limits are
    relaxed the same way. Spans are flushed every 200 ms (``OTEL_BSP_SCHEDULE_DELAY``) so
    the tests need not wait 5 s.
    """
    root = township_workdir / "observability"
    root.mkdir(parents=True, exist_ok=True)
    stack = LocalStack(
        StackConfig(
            root=root,
            townships_file=relaxed_townships(root),
            otlp_endpoint=otlp_receiver.endpoint,
            trace_sampling_ratio=1.0,
            extra_env={**RELAXED_GATEWAY_LIMITS, "OTEL_BSP_SCHEDULE_DELAY": "200"},
        )
    )
    try:
        # stack.up() with longer waits: this stack may start next to the e2e one on a busy host.
        stack.start_infrastructure()
        stack.migrate()
        stack.seed()
        for name in SERVICES:
            stack.start(name)
        for name in SERVICES:
            stack.wait_service(name, timeout=120)
        stack.start("gateway")
        stack.wait_service("gateway", timeout=120)
    except Exception as e:
        tails = "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-1500:]}"
            for path in log_files(stack)
            if not path.name.endswith(("-migrate.log", "-seed.log"))
        )
        stack.down()
        raise RuntimeError(f"live_stack did not start: {e}\n{tails}") from e
    yield stack
    stack.down()


@pytest.fixture(scope="session")
def live_gateway(live_stack: LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client pointed at ``live_stack``'s gateway."""
    with httpx.Client(base_url=live_stack.gateway_url, timeout=10) as client:
        yield client


def live_token(stack: LocalStack, township: str | None, *roles: str, sub: str | None = None) -> str:
    """A dev token for ``stack``."""
    return mint_token(
        stack.private_key,
        sub=sub or f"user-{uuid.uuid4().hex[:8]}",
        roles=list(roles),
        township=township,
    )


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def new_traceparent() -> tuple[str, str, str]:
    """(traceparent header of a sampled trace, its trace id, the caller's span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


@dataclass(frozen=True)
class Person:
    """Personal data a test sends through the system and then looks for in the logs."""

    name: str
    id_number: str
    phone: str


# Names, valid resident ID numbers and mobile numbers that appear nowhere else in the repo.
SEEDED_PEOPLE = (
    Person("欧阳慧琳", make_resident_id("610928", dt.date(1987, 4, 23), 371), "13798765431"),
    Person("褚建国", make_resident_id("610928", dt.date(1962, 11, 5), 153), "15867452309"),
    Person("司马晓雯", make_resident_id("610902", dt.date(1995, 8, 30), 286), "18623917745"),
)


def intake_body(person: Person) -> dict[str, Any]:
    """A newborn bundle intake for ``person``."""
    return {
        "bundle": "newborn",
        "applicant": {"name": person.name, "id_number": person.id_number, "phone": person.phone},
        "materials": [
            {"code": "birth-certificate", "name": "出生医学证明"},
            {"code": "household-register", "name": "父母户口簿"},
        ],
        "channel": "window",
    }


def drive_load(stack: LocalStack, client: httpx.Client, rounds: int = 3) -> Counter[int]:
    """A bounded mix of requests: intakes with personal data, reads, 4xx, one 503.

    Returns the status codes seen. The 503 comes from stopping ``stationed`` for one call
    (it is started again at once).
    """
    seen: Counter[int] = Counter()
    clerk = f"clerk-load-{uuid.uuid4().hex[:6]}"
    tok = bearer(live_token(stack, "zhaowan", "clerk", sub=clerk))
    other_town = bearer(live_token(stack, "bailiu", "clerk"))

    def hit(method: str, url: str, **kwargs: Any) -> httpx.Response:
        r = client.request(method, url, **kwargs)
        seen[r.status_code] += 1
        return r

    # First, so that the restarted process serves the rest of the load (and the series of
    # its metrics exist again for a few scrapes).
    stack.stop("stationed")
    try:
        hit("GET", "/api/v1/stationed/units", headers=tok)  # 503
    finally:
        stack.start("stationed")
        stack.wait_service("stationed", timeout=120)
    for i in range(rounds):
        for person in SEEDED_PEOPLE:
            r = hit(
                "POST",
                "/api/v1/applications",
                json=intake_body(person),
                headers={**tok, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 201, r.text
            body = r.json()
            app_id = body["applications"][0]["id"]
            hit("GET", f"/api/v1/applications/{app_id}", headers=tok)
            hit("GET", f"/api/v1/applications/{app_id}", headers=other_town)  # 404
            hit("GET", f"/public/v1/applications/{body['receipt_code']}")
        hit("GET", f"/api/v1/applications/{uuid.uuid4()}", headers=tok)  # 404
        hit("POST", "/api/v1/applications", json={"bundle": "newborn"}, headers=tok)  # 422
        hit("GET", "/api/v1/personnel/points", params={"person": clerk})  # 401
        hit("GET", "/api/v1/personnel/points", params={"person": clerk}, headers=tok)
        hit("GET", "/api/v1/personnel/org-units", headers=tok)
        hit("GET", "/api/v1/stationed/units", headers=tok)
        hit("GET", "/public/v1/townships/zhaowan/catalogue")
        hit("GET", "/public/v1/townships/zhaowan/entrustments")
        hit("GET", f"/public/v1/applications/NOPE{i}")  # 404 or 422
        # A failing call in every domain service (the RED dashboards' non-OK panels).
        hit("GET", f"/api/v1/enforcement/cases/{uuid.uuid4()}", headers=tok)  # 404
        hit("GET", f"/api/v1/stationed/budget-lines/{uuid.uuid4()}", headers=tok)  # 404
        hit("GET", f"/api/v1/personnel/entries/{uuid.uuid4()}", headers=tok)  # 404
    return seen


@pytest.fixture(scope="session")
def live_load(live_stack: LocalStack, live_gateway: httpx.Client) -> Counter[int]:
    """``drive_load`` once per session; the status codes it saw."""
    return drive_load(live_stack, live_gateway)


def metrics_urls(stack: LocalStack) -> dict[str, str]:
    """Process name → its Prometheus /metrics URL."""
    urls = {s: f"http://127.0.0.1:{port}/metrics" for s, port in stack.metrics_ports.items()}
    urls["gateway"] = f"{stack.gateway_url}/metrics"
    return urls


def log_files(stack: LocalStack) -> list[Path]:
    """Every log file the stack wrote (processes, migrations, seeds, NATS, PostgreSQL)."""
    return sorted(stack.logs.glob("*.log"))


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}", pytrace=False)
        time.sleep(0.2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run test_live_logs.py last, so it reads the logs of every other live test."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/observability/test_live_logs.py"))
