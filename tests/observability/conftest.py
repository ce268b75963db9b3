"""Fixtures: promtool (installed through `make observability-tools` when missing)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

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
