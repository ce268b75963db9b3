"""`make bench` on a tiny, bounded load: the harness runs end to end and the report has its shape.

This checks the harness, not the figures (those come from `make bench` on a quiet machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(280)
def test_tiny_run_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--tiny", "--no-locust", "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=270,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads((out / "latest.json").read_text())
    assert r["errors"] == {}, r["errors"]
    assert r["profile"] == "tiny"
    for name in ("b0_http_hello", "b1_grpc_echo"):
        assert r["baselines"][name]["rps"] > 0
    s = r["system"]
    for key in ("read", "submit_max", "submit_half", "submit_bundle"):
        assert s[key]["requests"] > 0, key
        assert sum(s[key]["errors"].values()) == 0, (key, s[key]["errors"])
    for key in ("off", "sampling_10", "sampling_100"):
        assert s["tracing"][key]["rps"] > 0
        assert sum(s["tracing"][key]["errors"].values()) == 0
    assert s["events_fixed"]["events"] > 0
    assert s["events_fixed"]["applied"] == s["events_fixed"]["events"]
    assert s["events_fixed"]["latency_ms"]["p50"] is not None
    assert s["outbox_drain_s"] is not None
    assert {s["list"]["small"]["size"], s["list"]["large"]["size"]} == {200, 2000}
    rss = r["memory"]["peak_rss_mib"]
    for name in ("gateway", "permits", "enforcement", "personnel", "stationed"):
        assert rss[name] > 10
    assert set(r["ratios"]) >= {"read_over_b0", "submit_over_b0", "tracing_10_over_off"}
    assert all(t["value"] is not None for t in r["targets"]), r["targets"]
    assert r["sizing"]["examples"]
    md = (out / "latest.md").read_text()
    assert "| target | measured | bound | met |" in md
