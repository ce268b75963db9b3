"""Graceful shutdown: readiness goes false first, in-flight work finishes, exit code 0."""

from __future__ import annotations

import signal
import threading
import time
import uuid

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.conftest import TokenFactory, auth, eventually, newborn_body
from township_testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_gateway_drains_before_it_stops(system: LocalStack, token: TokenFactory) -> None:
    system.stop("gateway")
    system.start("gateway", env={"TOWNSHIP_GATEWAY_SHUTDOWN_DRAIN_SECONDS": "2"})
    system.wait_service("gateway")
    proc = system.procs["gateway"]
    tok = token("zhaowan", "clerk")
    try:
        with httpx.Client(base_url=system.gateway_url, timeout=5) as client:
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "draining"
            # still serving real requests while draining
            r = client.post("/api/v1/applications", json=newborn_body(), headers=auth(tok))
            assert r.status_code == 201
            assert client.get("/healthz").status_code == 200
        # uvicorn re-raises the captured SIGTERM once its graceful shutdown is complete
        assert proc.wait(30) in (0, -signal.SIGTERM)
        log = (system.logs / "gateway.log").read_text()
        assert "draining before shutdown" in log
        assert log.rindex("Application shutdown complete") > log.rindex("draining before")
    finally:
        system.start("gateway")
        system.wait_service("gateway")


def test_service_stops_serving_then_finishes_in_flight_work(
    system: LocalStack, token: TokenFactory
) -> None:
    system.stop("permits")
    system.start("permits", env={"TOWNSHIP_PERMITS_SHUTDOWN_DRAIN_SECONDS": "1.5"})
    system.wait_service("permits")
    proc = system.procs["permits"]
    tok = token("zhaowan", "clerk", sub=f"clerk-zw-{uuid.uuid4().hex[:6]}")
    results: list[int] = []
    receipts: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=system.gateway_url, timeout=10) as client:
            while not stop.is_set():
                r = client.post("/api/v1/applications", json=newborn_body(), headers=auth(tok))
                results.append(r.status_code)
                if r.status_code == 201:
                    receipts.append(r.json()["receipt_code"])

    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with grpc.insecure_channel(f"127.0.0.1:{system.grpc_ports['permits']}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=2
            )
            assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert proc.wait(30) == 0
    finally:
        stop.set()
        worker.join(30)
        system.start("permits")  # kills the old process first if it is somehow still alive
        system.wait_service("permits")
    if not (results and set(results) <= {201, 503}):
        noteworthy = [
            f"{name}: {line}"
            for name in ("permits", "gateway")
            for line in (system.logs / f"{name}.log").read_text().splitlines()
            if '"level":"warning"' in line or '"level":"error"' in line or " 50" in line
        ]
        raise AssertionError(f"statuses {sorted(set(results))}; logs:\n" + "\n".join(noteworthy))
    with httpx.Client(base_url=system.gateway_url, timeout=10) as client:
        for receipt in receipts:

            def found(code: str = receipt) -> httpx.Response | None:
                r = client.get(f"/public/v1/applications/{code}")
                return r if r.status_code == 200 else None

            assert len(eventually(found).json()["parts"]) == 2
