"""Process helpers: free ports, children that die with their parent, clean stops by pid."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    """preexec_fn: SIGKILL this child when the process that started it dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


# util-linux's setpriv sets the parent-death signal and execs the program (same pid). It is
# preferred to a preexec_fn: Python code between fork and exec can deadlock a parent that
# runs other threads (it takes the import lock; the benchmark's metrics scraper is such a
# thread, and a restart hung in _fork_exec once), and without a preexec_fn CPython spawns
# with vfork.
_SETPRIV = shutil.which("setpriv")


def start_process(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    log_path: str | None = None,
    user: int | None = None,
    cwd: str | None = None,
    tied_to_parent: bool = True,
) -> subprocess.Popen[bytes]:
    """Start a child; with ``tied_to_parent`` it is killed if we die, even by SIGKILL."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    kwargs: dict[str, object] = {}
    if user is not None and os.geteuid() == 0:
        kwargs.update(user=user, group=user, extra_groups=[])
    preexec: Callable[[], None] | None = None
    if tied_to_parent:
        if _SETPRIV:
            args = [_SETPRIV, "--pdeathsig", "KILL", "--", *args]
        else:
            preexec = die_with_parent
    popen: Any = subprocess.Popen
    proc: subprocess.Popen[bytes] = popen(
        args,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        preexec_fn=preexec,
        start_new_session=not tied_to_parent,
        **kwargs,
    )
    return proc


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int | None:
    """SIGTERM, wait, then SIGKILL: only this pid, which we started."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)
    return proc.returncode


def kill_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL (a crash, for fault tests)."""
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait(5)


class ProcessExited(RuntimeError):
    """A process being waited for has ended: waiting longer cannot help."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``check`` until it is true or raise TimeoutError naming ``what``.

    Errors of ``check`` count as "not yet" (a server still starting refuses connections),
    except :class:`ProcessExited`, which is raised at once.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except ProcessExited:
            raise
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
