"""Dashboards: committed JSON equals the generator's output, and Grafana can import it."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .queries import DASHBOARDS_DIR, OBSERVABILITY, iter_panels, load_dashboards

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    """deploy/observability/build_dashboards.py, imported from its path."""
    path = OBSERVABILITY / "build_dashboards.py"
    spec = importlib.util.spec_from_file_location("township_build_dashboards", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


DASHBOARDS = load_dashboards()


def test_committed_dashboards_equal_the_generated_ones(builder: ModuleType) -> None:
    generated: dict[str, str] = builder.build_all()
    committed = {p.name: p.read_text(encoding="utf-8") for p in DASHBOARDS_DIR.glob("*.json")}
    assert sorted(committed) == sorted(generated), "run deploy/observability/build_dashboards.py"
    for name, text in generated.items():
        assert committed[name] == text, f"{name} is stale: run build_dashboards.py"


def test_generator_is_deterministic(builder: ModuleType) -> None:
    assert builder.build_all() == builder.build_all()


def test_generator_check_mode(builder: ModuleType, tmp_path: Path) -> None:
    assert builder.main(["--check"]) == 0
    assert builder.main(["--check", "--out", str(tmp_path)]) == 1
    assert builder.main(["--out", str(tmp_path)]) == 0
    assert builder.main(["--check", "--out", str(tmp_path)]) == 0


def test_the_four_dashboards_exist() -> None:
    uids = {d["uid"] for d in DASHBOARDS.values()}
    assert uids == {
        "township-overview",
        "township-service-red",
        "township-events",
        "township-service-quality",
    }


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_is_importable(name: str) -> None:
    board = DASHBOARDS[name]
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"])
    assert board["title"].strip()
    assert board["id"] is None
    variables = {v["name"]: v for v in board["templating"]["list"]}
    ds = variables["datasource"]
    assert (ds["type"], ds["query"]) == ("datasource", "prometheus")
    assert board["panels"], "no panels"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_are_well_formed(name: str) -> None:
    board = DASHBOARDS[name]
    panels = list(iter_panels(board))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {name}"
    for panel in panels:
        where = f"{name}#{panel['id']} {panel.get('title')!r}"
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("h", "w", "x", "y")), where
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, where
        assert panel.get("title", "").strip(), where
        if panel["type"] == "row":  # a row header holds no query
            continue
        assert panel["datasource"] == DATASOURCE, where
        assert panel["targets"], f"{where}: no targets"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), where
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, where
            assert target["expr"].strip(), where


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_do_not_overlap(name: str) -> None:
    cells: dict[tuple[int, int], int] = {}
    for panel in DASHBOARDS[name]["panels"]:
        g = panel["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{name}: panels {cells[(x, y)]} and {panel['id']}"
                cells[(x, y)] = panel["id"]


def _uids(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        found = [(f"{path}.uid", node["uid"])] if "uid" in node else []
        for key, value in node.items():
            found += _uids(value, f"{path}.{key}")
        return found
    if isinstance(node, list):
        return [u for i, item in enumerate(node) for u in _uids(item, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_no_hard_coded_datasource_uid(name: str) -> None:
    board = DASHBOARDS[name]
    for path, uid in _uids(board):
        if path == ".uid":
            continue  # the dashboard's own uid
        assert uid == "${datasource}", f"{name}: {path} = {uid!r}"
    assert "__inputs" not in board


def test_service_red_has_a_service_variable() -> None:
    variables = {
        v["name"]: v for v in DASHBOARDS["township-service-red.json"]["templating"]["list"]
    }
    assert variables["service"]["type"] == "custom"
    exprs = json.dumps(DASHBOARDS["township-service-red.json"]["panels"])
    assert "township_${service}_grpc_requests_total" in exprs


def test_service_quality_covers_the_issue() -> None:
    board = DASHBOARDS["township-service-quality.json"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    township = variables["township"]
    assert township["multi"] and township["includeAll"] and township["allValue"] == ".+"
    titles = " | ".join(p["title"] for p in iter_panels(board)).lower()
    for topic in (
        "new applications",
        "on-time rate",
        "ratings",
        "overdue applications",
        "open cases",
        "cases past 90 days",
    ):
        assert topic in titles, topic
    for panel in iter_panels(board):
        for target in panel.get("targets", []):
            if "township_" in target["expr"] and "township=" not in target["expr"]:
                pytest.fail(f"{panel['title']}: query ignores $township: {target['expr']}")
