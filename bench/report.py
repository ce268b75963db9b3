"""The benchmark report: targets, ratios, the Markdown table and the sizing guide."""

from __future__ import annotations

import json
import math
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "grpcio",
    "protobuf",
    "sqlalchemy",
    "asyncpg",
    "nats-py",
    "opentelemetry-sdk",
    "prometheus-client",
    "pyjwt",
    "orjson",
)

MIB = 1.0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": list(os.getloadavg()),
    }


def versions(extra: dict[str, str]) -> dict[str, str]:
    """Versions of the packages on the hot path, plus servers and tools."""
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    out.update(extra)
    return out


def tool_version(cmd: list[str]) -> str:
    """First line a tool prints about its version ('' when missing)."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    # No paths of this machine in the report: "locust 2.47.0 from /…/site-packages/locust (…)".
    return re.sub(r"\s+from\s+/\S+", "", text[0]).strip() if text else ""


# targets ---------------------------------------------------------------------------
def _get(data: dict[str, Any], path: str) -> Any:
    cur: Any = data
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _ratio(a: Any, b: Any) -> float | None:
    if a is None or b in (None, 0):
        return None
    return round(float(a) / float(b), 3)


def ratios(r: dict[str, Any]) -> dict[str, float | None]:
    """The ratios the targets are stated in."""
    b0 = _get(r, "baselines.b0_http_hello.rps")
    b1 = _get(r, "baselines.b1_grpc_echo.rps")
    small = _get(r, "system.list.small.latency_ms.p99")
    large = _get(r, "system.list.large.latency_ms.p99")
    return {
        "read_over_b0": _ratio(_get(r, "system.read.rps"), b0),
        "submit_over_b0": _ratio(_get(r, "system.submit_max.rps"), b0),
        "submit_bundle_over_b0": _ratio(_get(r, "system.submit_bundle.rps"), b0),
        "read_over_b1": _ratio(_get(r, "system.read.rps"), b1),
        "b1_over_b0": _ratio(b1, b0),
        "tracing_10_over_off": _ratio(
            _get(r, "system.tracing.sampling_10.rps"), _get(r, "system.tracing.off.rps")
        ),
        "tracing_100_over_off": _ratio(
            _get(r, "system.tracing.sampling_100.rps"), _get(r, "system.tracing.off.rps")
        ),
        "list_p99_large_over_small": _ratio(large, small),
    }


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 9: the measured value, the bound, met or not, and the gap."""
    q = r["ratios"]
    rss = _get(r, "memory.peak_rss_mib") or {}
    rows: list[tuple[str, Any, str, float]] = [
        ("read throughput / B0", q.get("read_over_b0"), ">=", 0.16),
        ("submit throughput / B0", q.get("submit_over_b0"), ">=", 0.09),
        (
            "submit p99 at half max rate (ms)",
            _get(r, "system.submit_half.latency_ms.p99"),
            "<=",
            25,
        ),
        (
            "event commit→effect p50 at fixed rate (ms)",
            _get(r, "system.events_fixed.latency_ms.p50"),
            "<=",
            5,
        ),
        (
            "event commit→effect p99 at fixed rate (ms)",
            _get(r, "system.events_fixed.latency_ms.p99"),
            "<=",
            20,
        ),
        ("outbox empty after max-rate burst (s)", _get(r, "system.outbox_drain_s"), "<=", 1.0),
        ("read: OTel 10 % + Prometheus / both off", q.get("tracing_10_over_off"), ">=", 0.85),
        ("read: OTel 100 % + Prometheus / both off", q.get("tracing_100_over_off"), ">=", 0.70),
        ("list p99 at large / at small", q.get("list_p99_large_over_small"), "<=", 1.5),
    ]
    for name in ("gateway", "permits", "enforcement", "personnel", "stationed"):
        rows.append((f"peak RSS {name} (MiB)", rss.get(name), "<=", 100))
    out = []
    for name, value, op, bound in rows:
        met = None
        gap = None
        if value is not None:
            met = value >= bound if op == ">=" else value <= bound
            if not met:
                gap = f"{abs(value / bound - 1) * 100:.0f} % {'short' if op == '>=' else 'over'}"
        out.append(
            {"target": name, "value": value, "op": op, "bound": bound, "met": met, "gap": gap}
        )
    return out


# sizing ------------------------------------------------------------------------------
READS_PER_APPLICATION = 20  # staff views, queue pages, public status lookups over its life
PEAK_FACTOR = 3.0  # the busiest minute of a working day vs the day's average
WORKING_SECONDS = 8 * 3600
HEADROOM = 0.5  # run at half of the measured capacity


def sizing(r: dict[str, Any]) -> dict[str, Any]:
    """Capacity per core of each process, memory per process, and what a county needs.

    Per-core figures come from the CPU time each process spent per request during the read
    and the max-rate submit runs (1000 / CPU ms per request), which holds even when the
    machine is shared; the whole-unit figures are the measured throughputs.
    """
    read = _get(r, "system.read.rps")
    submit = _get(r, "system.submit_max.rps")
    rss = _get(r, "memory.peak_rss_mib") or {}
    if not read or not submit:
        return {"status": "incomplete"}
    procs = ("gateway", "permits", "enforcement", "personnel", "stationed")
    cpu_read = _get(r, "system.read.cpu_ms_per_request") or {}
    cpu_submit = _get(r, "system.submit_max.cpu_ms_per_request") or {}
    per_core = {}
    for p in procs:
        cr, cs = cpu_read.get(p), cpu_submit.get(p)
        per_core[p] = {
            "reads_per_s": round(1000 / cr) if cr else None,
            "submits_per_s": round(1000 / cs) if cs else None,
            "cpu_ms_per_read": cr,
            "cpu_ms_per_submit": cs,
            "peak_rss_mib": rss.get(p),
        }
    examples = []
    for towns, per_day in ((10, 200), (30, 500), (100, 1000), (300, 2000)):
        daily = towns * per_day
        submits = daily / WORKING_SECONDS * PEAK_FACTOR
        reads = submits * READS_PER_APPLICATION
        cores: dict[str, float] = {}
        for p in procs:
            cr = cpu_read.get(p) or 0.0
            cs = cpu_submit.get(p) or 0.0
            cores[p] = (reads * cr + submits * cs) / 1000 / HEADROOM
        # a process is one core at most: replicas = cores rounded up (at least one)
        replicas = {p: max(1, math.ceil(c)) for p, c in cores.items()}
        if not cpu_read and not cpu_submit:  # fall back to whole-unit throughput
            n = max(1, math.ceil((submits / submit + reads / read) / HEADROOM))
            replicas = dict.fromkeys(procs, n)
        memory = sum(replicas[p] * (rss.get(p) or 0) for p in procs)
        examples.append(
            {
                "towns": towns,
                "applications_per_day": per_day,
                "peak_submits_per_s": round(submits, 2),
                "peak_reads_per_s": round(reads, 1),
                "replicas": replicas,
                "cores": round(sum(cores.values()), 2),
                "memory_mib": round(memory),
            }
        )
    return {
        "per_unit": {
            "unit": "1 gateway worker + 1 replica of each service, sharing 2 cores",
            "reads_per_s": round(read),
            "submits_per_s": round(submit),
        },
        "per_core": per_core,
        "assumptions": {
            "reads_per_application": READS_PER_APPLICATION,
            "peak_factor": PEAK_FACTOR,
            "working_hours": WORKING_SECONDS / 3600,
            "headroom": HEADROOM,
        },
        "examples": examples,
    }


# markdown ------------------------------------------------------------------------------
def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def markdown(r: dict[str, Any]) -> str:
    """The report as Markdown (also what goes into README's Performance section)."""
    m = r["machine"]
    s = r.get("system", {})
    b = r.get("baselines", {})
    lines = [
        f"Run `{r['profile']}` at {r['started_at']} ({r['duration_s']:.0f} s); "
        f"{m['cpu'] or 'unknown CPU'}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Linux {m['kernel']}, Python {m['python']}; load average before/after "
        f"{m['loadavg'][0]:.2f} / {r.get('loadavg_after', [0])[0]:.2f}. "
        f"One gateway worker, one process per service, OTel sampling "
        f"{r['config']['trace_sampling_ratio']:.0%} and Prometheus scraped every "
        f"{r['config']['scrape_interval_s']:.0f} s unless noted. Load: wrk "
        f"({r['config']['connections']} connections, {r['config']['seconds']:.0f} s per figure).",
    ]
    busy = m["loadavg"][0]  # before the system started: anything there is someone else's
    if m.get("cores") and busy > m["cores"]:
        lines.append(
            f"\n**The machine was busy before the run (load average {busy:.1f} on "
            f"{m['cores']} cores): other "
            "work shared the cores, so these figures are not valid against the targets.** "
            "The CPU milliseconds per request (sizing table) are less affected."
        )
    if r["config"].get("py_spy_attached"):
        lines.append(
            "\npy-spy was attached (200 Hz, non-blocking) during the read, submit and "
            "large-list phases."
        )
    lines += [
        "",
        "| measurement | req/s | p50 ms | p99 ms | errors | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    q = r["ratios"]

    def row(name: str, d: dict[str, Any] | None, ratio: str = "") -> None:
        if not d:
            lines.append(f"| {name} | — | — | — | — | {ratio} |")
            return
        lat = d.get("latency_ms", {})
        errs = sum((d.get("errors") or {}).values())
        lines.append(
            f"| {name} | {_fmt(d.get('rps'))} | {_fmt(lat.get('p50'), 2)} | "
            f"{_fmt(lat.get('p99'), 2)} | {errs} | {ratio} |"
        )

    row("B0 FastAPI hello (uvicorn, 1 worker)", b.get("b0_http_hello"), "1.00")
    row(
        "B1 grpc.aio echo (grpc.aio client loop)",
        b.get("b1_grpc_echo"),
        f"{_fmt(q.get('b1_over_b0'), 2)} × B0",
    )
    row(
        "read: GET /api/v1/applications/{id}",
        s.get("read"),
        f"{_fmt(q.get('read_over_b0'), 3)} × B0",
    )
    row(
        "submit: POST /api/v1/applications, one application (max)",
        s.get("submit_max"),
        f"{_fmt(q.get('submit_over_b0'), 3)} × B0",
    )
    half = s.get("submit_half")
    row(
        f"submit at half max ({_fmt((half or {}).get('target_rate'))}/s)",
        half,
    )
    if s.get("submit_bundle"):
        row(
            "submit: newborn bundle, two applications per intake (max)",
            s.get("submit_bundle"),
            f"{_fmt(q.get('submit_bundle_over_b0'), 3)} × B0",
        )
    t = s.get("tracing", {})
    row("read, tracing off, Prometheus unscraped", t.get("off"), "1.00")
    row(
        "read, OTel 10 % + Prometheus",
        t.get("sampling_10"),
        f"{_fmt(q.get('tracing_10_over_off'), 2)} × off",
    )
    row(
        "read, OTel 100 % + Prometheus",
        t.get("sampling_100"),
        f"{_fmt(q.get('tracing_100_over_off'), 2)} × off",
    )
    lst = s.get("list", {})
    for key in ("small", "large"):
        d = lst.get(key)
        if d:
            label = f"list: department queue, {d['size']:,} applications in one town ({d['mode']})"
            row(label, d)
    lines += [
        "",
        "| events: permits commit → personnel commit | events "
        "| p50 ms | p90 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in (
        ("events_fixed", "at a fixed rate"),
        ("events_max", "during the max-rate submit burst"),
    ):
        e = s.get(key)
        if e:
            lat = e["latency_ms"]
            rate = f" ({_fmt(e.get('rate'), 0)} events/s)" if e.get("rate") else ""
            lines.append(
                f"| {label}{rate} | {e['events']} | {_fmt(lat['p50'], 2)} | "
                f"{_fmt(lat['p90'], 2)} | "
                f"{_fmt(lat['p99'], 2)} | {_fmt(lat['max'], 2)} |"
            )
    lines.append("")
    lines.append(
        f"Outbox empty {_fmt(s.get('outbox_drain_s'), 3)} s after the end of the max-rate burst."
    )
    loc = s.get("locust")
    if loc and loc.get("status") == "ok":
        lines += [
            "",
            "Locust mixed scenario (per-town users: intake, review, public lookups, complaints):",
            "",
            "| request | count | failures | req/s | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for x in loc["requests"]:
            lines.append(
                f"| {x['name']} | {x['requests']} | {x['failures']} | {x['rps']} | "
                f"{x['p50_ms']} | {x['p99_ms']} |"
            )
    elif loc:
        lines += ["", f"Locust mixed scenario: {loc.get('status')} ({loc.get('reason', '')[:200]})"]
    lines += ["", "| process | peak RSS MiB |", "| --- | ---: |"]
    for name, v in sorted((r.get("memory", {}).get("peak_rss_mib") or {}).items()):
        lines.append(f"| {name} | {_fmt(v)} |")
    lines += ["", "| target | measured | bound | met |", "| --- | ---: | ---: | --- |"]
    for t_ in r["targets"]:
        met = {True: "yes", False: f"**no** ({t_['gap']})", None: "not measured"}[t_["met"]]
        lines.append(
            f"| {t_['target']} | {_fmt(t_['value'], 3)} | {t_['op']} {t_['bound']} | {met} |"
        )
    sz = r.get("sizing", {})
    if sz.get("examples"):
        pu = sz["per_unit"]
        a = sz["assumptions"]
        lines += [
            "",
            f"Sizing, derived from these figures. One unit ({pu['unit']}) does "
            f"{pu['reads_per_s']} reads/s or {pu['submits_per_s']} submits/s. "
            "Per core of each process (1000 / CPU ms per request):",
            "",
            "| process | reads/s per core | submits/s per core | CPU ms/read | CPU ms/submit "
            "| peak RSS MiB |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, c in sz["per_core"].items():
            lines.append(
                f"| {name} | {_fmt(c['reads_per_s'])} | {_fmt(c['submits_per_s'])} | "
                f"{_fmt(c['cpu_ms_per_read'], 3)} | {_fmt(c['cpu_ms_per_submit'], 3)} | "
                f"{_fmt(c['peak_rss_mib'])} |"
            )
        lines += [
            "",
            f"A county of N towns at M applications per town per day, assuming "
            f"{a['reads_per_application']} reads per application, a peak of "
            f"{a['peak_factor']:g}× the average of an {a['working_hours']:.0f}-hour day, and "
            f"{a['headroom']:.0%} headroom:",
            "",
            "| towns | applications/day/town | peak submits/s | peak reads/s | cores "
            "| replicas (gateway/permits/personnel) | memory MiB |",
            "| ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for x in sz["examples"]:
            rep = x["replicas"]
            lines.append(
                f"| {x['towns']} | {x['applications_per_day']} | {x['peak_submits_per_s']} | "
                f"{x['peak_reads_per_s']} | {x['cores']} | "
                f"{rep['gateway']}/{rep['permits']}/{rep['personnel']} | {x['memory_mib']} |"
            )
    if r.get("errors"):
        lines += [
            "",
            "Phases that failed: " + "; ".join(f"{k}: {v}" for k, v in r["errors"].items()),
        ]
    lines.append("")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items() if v))
    return "\n".join(lines) + "\n"


BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def write(report: dict[str, Any], out: Path, docs: Path | None) -> None:
    """latest.json, latest.md, and the figures section of README.md ("Performance")."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    md = markdown(report)
    (out / "latest.md").write_text(md)
    if docs is not None and docs.exists():
        text = docs.read_text()
        if BEGIN in text and END in text:
            text = re.sub(
                re.escape(BEGIN) + ".*?" + re.escape(END),
                lambda _: f"{BEGIN}\n{md}{END}",
                text,
                flags=re.S,
            )
            docs.write_text(text)
