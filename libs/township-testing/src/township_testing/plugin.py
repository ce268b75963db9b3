"""pytest plugin: real nats-server and PostgreSQL per session, and the whole system for e2e.

Servers bind random 127.0.0.1 ports and die with the test run (even if pytest is killed).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from township_testing.servers import NatsServer, PostgresServer
from township_testing.stack import LocalStack, StackConfig

REPO = Path(__file__).resolve().parents[4]
TOWNSHIPS_FILE = REPO / "config" / "townships.json"


def _workdir(prefix: str) -> Path:
    # Not pytest's tmp_path: its folders are 0700 and PostgreSQL runs as 'nobody' under root.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def township_workdir() -> Iterator[Path]:
    """A world-traversable scratch folder for the session's servers."""
    path = _workdir("township-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def nats_server(township_workdir: Path) -> Iterator[NatsServer]:
    """A real nats-server with JetStream."""
    server = NatsServer(township_workdir / "nats", log_path=township_workdir / "nats.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(township_workdir: Path) -> Iterator[PostgresServer]:
    """A real PostgreSQL (fsync off)."""
    server = PostgresServer(
        township_workdir / "pg", log_path=township_workdir / "postgres.log"
    ).start()
    yield server
    server.stop()


def relaxed_townships(folder: Path) -> Path:
    """The demo towns with rate limits high enough for a whole test session's traffic."""
    doc = json.loads(TOWNSHIPS_FILE.read_text(encoding="utf-8"))
    for town in doc["townships"]:
        town["rate_limit"] = {"requests_per_second": 5000, "burst": 10000}
    path = folder / "townships.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


RELAXED_GATEWAY_LIMITS = {
    "TOWNSHIP_GATEWAY_CLIENT_RATE_PER_SECOND": "5000",
    "TOWNSHIP_GATEWAY_CLIENT_BURST": "10000",
    "TOWNSHIP_GATEWAY_PUBLIC_RATE_PER_SECOND": "5000",
    "TOWNSHIP_GATEWAY_PUBLIC_BURST": "10000",
}


@pytest.fixture(scope="session")
def system(township_workdir: Path) -> Iterator[LocalStack]:
    """The whole system (NATS, PostgreSQL, four services, gateway), seeded with the demo towns.

    Rate limits are raised so that a session's many requests from 127.0.0.1 are never
    throttled; the limits themselves are tested in services/gateway/tests.
    """
    root = township_workdir / "system"
    root.mkdir(parents=True, exist_ok=True)
    stack = LocalStack(
        StackConfig(
            root=root,
            townships_file=relaxed_townships(root),
            # the tests read the business gauges right after the scan that changed them
            extra_env={**RELAXED_GATEWAY_LIMITS, "TOWNSHIP_PERMITS_GAUGES_SECONDS": "0"},
        )
    )
    try:
        stack.up()
    except Exception:
        stack.down()
        raise
    yield stack
    stack.down()
