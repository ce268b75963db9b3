"""What a server process does before its first import: keep unused modules out of memory.

structlog imports ``rich`` (and, through it, ``pygments``) when they are installed, for its
development console renderer; the servers log JSON lines only. Both are installed for the
``township`` command line, so every service would carry ~5 MiB of modules it never uses
(the benchmark's memory target is 100 MiB per process). Marking ``rich`` absent before
structlog is imported keeps them out; structlog falls back to its plain renderers. Likewise
``watchfiles`` (uvicorn's auto-reload, for development; uvicorn falls back to polling when it
is absent, and servers never reload) and ``psutil`` (an optional process detector of the
OpenTelemetry SDK's resources; the service resource is set explicitly).
"""

from __future__ import annotations

import sys

_UNUSED_BY_SERVERS = ("rich", "watchfiles", "psutil")


def server_process() -> None:
    """Call first thing in a server's ``__main__`` (not in libraries or the CLI)."""
    for name in _UNUSED_BY_SERVERS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
