"""The report writer on made-up figures (no system needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import report


def _load(rps: float, p99: float) -> dict[str, Any]:
    return {"rps": float(rps), "latency_ms": {"p50": p99 / 2, "p99": p99}, "errors": {"status": 0}}


def fake() -> dict[str, Any]:
    r: dict[str, Any] = {
        "schema": 1,
        "profile": "tiny",
        "started_at": "2026-01-01T00:00:00+00:00",
        "duration_s": 1.0,
        "machine": {**report.machine(), "loadavg": [0.1, 0.1, 0.1]},
        "loadavg_after": [0.2, 0.2, 0.2],
        "config": {
            "trace_sampling_ratio": 0.1,
            "scrape_interval_s": 5.0,
            "connections": 4,
            "seconds": 1,
        },
        "versions": {"wrk": "4.1.0"},
        "baselines": {"b0_http_hello": _load(10_000, 2), "b1_grpc_echo": _load(5_000, 3)},
        "system": {
            "read": {**_load(2_000, 10), "cpu_ms_per_request": {"gateway": 0.5, "permits": 0.4}},
            "submit_max": {
                **_load(500, 40),
                "target_rate": None,
                "cpu_ms_per_request": {"gateway": 1.0, "permits": 3.0, "personnel": 1.0},
            },
            "submit_half": {**_load(250, 30), "target_rate": 250},
            "events_fixed": {
                "events": 100,
                "rate": 100,
                "latency_ms": {"p50": 3, "p90": 8, "p99": 12, "max": 15, "n": 100},
            },
            "outbox_drain_s": 0.4,
            "tracing": {
                "off": _load(2_200, 9),
                "sampling_10": _load(2_000, 10),
                "sampling_100": _load(1_400, 12),
            },
            "list": {
                "small": {"size": 10_000, "mode": "http", **_load(800, 10)},
                "large": {"size": 1_000_000, "mode": "http", **_load(700, 20)},
            },
        },
        "memory": {"peak_rss_mib": {"gateway": 90.0, "permits": 120.0}},
        "errors": {},
    }
    r["ratios"] = report.ratios(r)
    r["targets"] = report.targets(r)
    r["sizing"] = report.sizing(r)
    return r


def test_ratios_and_targets_are_computed_from_the_figures() -> None:
    r = fake()
    assert r["ratios"]["read_over_b0"] == 0.2
    assert r["ratios"]["submit_over_b0"] == 0.05
    assert r["ratios"]["list_p99_large_over_small"] == 2.0
    by_name = {t["target"]: t for t in r["targets"]}
    assert by_name["read throughput / B0"]["met"] is True
    assert by_name["submit throughput / B0"]["met"] is False
    assert by_name["submit throughput / B0"]["gap"] == "44 % short"
    assert by_name["submit p99 at half max rate (ms)"]["met"] is False
    assert by_name["peak RSS permits (MiB)"]["gap"] == "20 % over"
    assert by_name["peak RSS stationed (MiB)"]["met"] is None  # not measured, not "met"


def test_sizing_grows_with_the_county() -> None:
    examples = fake()["sizing"]["examples"]
    cores = [e["cores"] for e in examples]
    assert cores == sorted(cores) and cores[-1] > cores[0]
    assert all(e["replicas"]["gateway"] >= 1 for e in examples)


def test_markdown_and_docs_section(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text(f"# Performance\n\n{report.BEGIN}\nold\n{report.END}\n\nafter\n")
    r = fake()
    report.write(r, tmp_path / "out", docs)
    assert json.loads((tmp_path / "out" / "latest.json").read_text())["ratios"] == r["ratios"]
    md = (tmp_path / "out" / "latest.md").read_text()
    assert "| read: GET /api/v1/applications/{id} | 2,000.0 |" in md
    assert "**no** (44 % short)" in md
    text = docs.read_text()
    assert "old" not in text and md in text and text.endswith("after\n")
