"""A real Prometheus scrapes the running system under load; every dashboard query has data.

Prometheus (Debian package ``prometheus``, installed by ``make observability-tools`` with
promtool) runs on a free 127.0.0.1 port with a 1 s scrape and rule-evaluation interval, the
jobs the dashboards and rules expect (``township-<service>``) and the recording rules of
deploy/observability/rules. After a bounded mixed load, every query of
``queries.all_queries()`` (each dashboard target, for every ``$service``, and each recording
rule) must return at least one series — a query naming a metric that no process exports
returns nothing and fails. ``NO_DATA_EXPECTED`` lists, with the reason, the queries that
legitimately return nothing after this load.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from township_testing.procs import free_port, start_process, stop_process
from township_testing.stack import SERVICES, LocalStack

from .conftest import INSTALL_HINT, drive_load, metrics_urls, wait_until
from .queries import RULES_DIR, all_queries

pytestmark = pytest.mark.e2e

_HISTORY = "compares with `offset 1h`/`offset 1d`: needs that much history"

# source (as all_queries() names it) → why it returns no data after this test's load.
NO_DATA_EXPECTED: dict[str, str] = {
    # Events that a healthy system under this load does not produce.
    "dashboards/township-events.json#9 'Redeliveries per second' [A]": (
        "no event is delivered twice without a failing handler or a crash"
    ),
    "dashboards/township-events.json#10 'Dead-lettered in the selected range' [A]": (
        "no event is dead-lettered without a handler that keeps failing"
    ),
    "dashboards/township-overview.json#22 'Dead-lettered events per hour' [A]": (
        "no event is dead-lettered without a handler that keeps failing"
    ),
    # Business dashboard (township-service-quality).
    "dashboards/township-service-quality.json#2 'New applications' [A]": _HISTORY,
    "dashboards/township-service-quality.json#3 'On-time rate' [A]": _HISTORY,
    "dashboards/township-service-quality.json#9 'New applications (trailing 24 h)' [A]": (_HISTORY),
    "dashboards/township-service-quality.json#11 'On-time rate by township' [A]": _HISTORY,
}

# (source, $service) → why the per-service dashboard has no data for that service.
NO_DATA_FOR_SERVICE: dict[tuple[str, str], str] = {
    ("dashboards/township-service-red.json#17 'Pending events by consumer' [A]", s): (
        f"{s} runs no event consumer yet"
    )
    for s in ("permits", "enforcement")
}


class Prometheus:
    """A Prometheus server of our own (started and stopped by pid)."""

    def __init__(self, binary: str, folder: Path, targets: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config: dict[str, Any] = {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "evaluation_interval": "1s",
            },
            "rule_files": [str(p) for p in sorted(RULES_DIR.glob("*.yaml"))],
            "scrape_configs": [
                {
                    "job_name": f"township-{name}",
                    "metrics_path": "/metrics",
                    "static_configs": [{"targets": [target]}],
                }
                for name, target in targets.items()
            ],
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.args = [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        self.log = folder / "prometheus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Prometheus:
        self.proc = start_process(self.args, log_path=str(self.log))

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"prometheus exited:\n{self.log.read_text()[-3000:]}", pytrace=False)
            try:
                return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 60, "prometheus to be ready")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = r.json()
        assert body.get("status") == "success", f"{expr}: {body}"
        data = body["data"]
        if data["resultType"] in {"scalar", "string"}:
            return [{"value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result


@pytest.fixture(scope="module")
def prometheus(live_stack: LocalStack, promtool: str) -> Iterator[Prometheus]:
    """Prometheus scraping every process of ``live_stack`` (same package as ``promtool``)."""
    beside_promtool = str(Path(promtool).parent)
    binary = shutil.which("prometheus") or shutil.which("prometheus", path=beside_promtool)
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    targets = {
        name: url.split("//", 1)[1].split("/", 1)[0]
        for name, url in metrics_urls(live_stack).items()
    }
    server = Prometheus(binary, live_stack.root / "prometheus", targets).start()
    yield server
    server.stop()


def test_every_dashboard_query_returns_data_under_load(
    live_stack: LocalStack, live_gateway: httpx.Client, prometheus: Prometheus
) -> None:
    jobs = {f"township-{s}" for s in (*SERVICES, "gateway")}
    wait_until(
        lambda: {r["metric"]["job"] for r in prometheus.query("up == 1")} >= jobs,
        60,
        "every process to be scraped",
    )
    seen: Counter[int] = drive_load(live_stack, live_gateway, rounds=2)
    assert {201, 200, 404, 422, 401, 503} <= set(seen), seen
    # Consumers report their pending count every 5 s; then a few scrapes and rule runs.
    time.sleep(6)
    wait_until(
        lambda: {r["metric"]["job"] for r in prometheus.query("up == 1")} >= jobs,
        60,
        "every process (stationed restarted) to be scraped again",
    )
    time.sleep(3)

    queries: dict[tuple[str, str], str] = {}
    for service in SERVICES:
        for source, expr in all_queries({"service": service}):
            if "township-service-red.json" in source:
                queries[(source, service)] = expr
            else:
                queries.setdefault((source, ""), expr)
    sources = {source for source, _ in queries}
    stale = [s for s in NO_DATA_EXPECTED if s not in sources]
    stale += [s for s, _ in NO_DATA_FOR_SERVICE if s not in sources]
    assert not stale, f"allow-listed queries that no dashboard or rule has any more: {stale}"

    empty, unexpected_data = [], []
    for (source, service), expr in queries.items():
        has_data = bool(prometheus.query(expr))
        allowed = source in NO_DATA_EXPECTED or (source, service) in NO_DATA_FOR_SERVICE
        label = f"{source}" + (f" [$service={service}]" if service else "")
        if not has_data and not allowed:
            empty.append(f"{label}: {expr}")
        if has_data and allowed:
            unexpected_data.append(label)
    assert not empty, "queries without data:\n" + "\n".join(empty)
    if unexpected_data:
        # Not a failure (other engineers' work can make them appear), but the list should shrink.
        warnings.warn(
            "allow-listed queries now return data; remove them from NO_DATA_EXPECTED: "
            + ", ".join(unexpected_data),
            stacklevel=1,
        )
