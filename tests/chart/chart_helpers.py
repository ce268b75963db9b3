"""Shared helpers of the Helm chart tests (paths, helm invocation, manifest lookups)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "township"
VALUES_DIR = Path(__file__).resolve().parent / "values"
TOOLS_BIN = ROOT / ".tools" / "bin"
NAMESPACE = "township"
RELEASE = "t"
KUBE_VERSION = "1.30.0"
API_VERSIONS = ["monitoring.coreos.com/v1"]

Render = Callable[..., list[dict[str, Any]]]


class HelmError(Exception):
    """helm exited non-zero; the message is its stderr."""


def run_helm(helm_bin: str, env: dict[str, str], args: list[str]) -> str:
    proc = subprocess.run(
        [helm_bin, *args], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    if proc.returncode != 0:
        raise HelmError(proc.stderr.strip())
    return proc.stdout


def template_args(
    chart: Path = CHART,
    values: tuple[str, ...] = (),
    sets: tuple[str, ...] = (),
    kube_version: str = KUBE_VERSION,
) -> list[str]:
    args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE]
    args += ["--kube-version", kube_version]
    for api in API_VERSIONS:
        args += ["--api-versions", api]
    for v in values:
        path = Path(v) if Path(v).is_absolute() else VALUES_DIR / v
        args += ["-f", str(path)]
    for s in sets:
        args += ["--set", s]
    return args


def parse(manifest: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(manifest) if d]


# Value sets rendered by the parametrized tests: name -> values files (tests/chart/values/).
VALUE_SETS: dict[str, tuple[str, ...]] = {
    "default": (),
    "one-town": ("one-town.yaml",),
    "three-towns": ("three-towns.yaml",),
    "everything": ("everything.yaml",),
}


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def named(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for o in objs:
        if o["kind"] == kind and o["metadata"]["name"] == name:
            return o
    raise KeyError(f"{kind}/{name} not rendered")
