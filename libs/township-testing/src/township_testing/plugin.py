"""pytest plugin: real nats-server and PostgreSQL per session, and the whole system for e2e.

Servers bind random 127.0.0.1 ports and die with the test run (even if pytest is killed).
"""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def system(township_workdir: Path) -> Iterator[LocalStack]:
    """The whole system (NATS, PostgreSQL, four services, gateway), seeded with the demo towns."""
    stack = LocalStack(StackConfig(root=township_workdir / "system", townships_file=TOWNSHIPS_FILE))
    try:
        stack.up()
    except Exception:
        stack.down()
        raise
    yield stack
    stack.down()
