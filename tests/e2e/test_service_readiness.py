"""Readiness means the database is reachable: a service started before its database is alive
(the probes' ``liveness``) but not ready (``""``), and turns ready by itself once it comes."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.conftest import TokenFactory, auth, eventually, newborn_intake, points_of
from township_testing.procs import free_port
from township_testing.stack import LocalStack

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _health(port: int, service: str) -> int:
    """The health status of ``service``; -1 while the process does not answer yet."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2
            )
        except grpc.RpcError:
            return -1
        return int(reply.status)


@contextmanager
def _forwarder(listen_port: int, target: tuple[str, int]) -> Iterator[None]:
    """A plain TCP forwarder on 127.0.0.1:listen_port (the database, arriving late)."""
    server = socket.create_server(("127.0.0.1", listen_port))
    server.settimeout(0.2)
    stop = threading.Event()
    socks: list[socket.socket] = [server]

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(target, timeout=5)
            upstream.settimeout(None)
            client.settimeout(None)
            socks.extend([client, upstream])
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield
    finally:
        stop.set()
        acceptor.join(5)
        for s in socks:
            s.close()


def test_a_service_is_ready_only_once_its_database_answers(
    system: LocalStack, token: TokenFactory
) -> None:
    real = urlsplit(system.database_url("stationed"))
    assert real.hostname and real.port
    late_port = free_port()  # nothing listens here yet: the database has not come
    late = real._replace(netloc=real.netloc.replace(f":{real.port}", f":{late_port}"))
    grpc_port = system.grpc_ports["stationed"]
    system.stop("stationed")
    try:
        system.start("stationed", env={"TOWNSHIP_STATIONED_DATABASE_URL": urlunsplit(late)})
        eventually(lambda: _health(grpc_port, "liveness") == SERVING, timeout=30)
        # alive, and it keeps saying so, but not ready while the database cannot be reached
        time.sleep(1.5)
        assert system.procs["stationed"].poll() is None
        assert _health(grpc_port, "") == NOT_SERVING
        assert _health(grpc_port, "township.stationed.v1.StationedService") == NOT_SERVING
        log = (system.logs / "stationed.log").read_text()
        assert "database not reachable yet" in log
        # the gateway's readiness follows its backing services
        assert httpx.get(f"{system.gateway_url}/readyz", timeout=5).status_code == 503

        with _forwarder(late_port, (real.hostname, real.port)):
            # the database comes: ready without a restart (retries back off to 5 s at most)
            eventually(lambda: _health(grpc_port, "") == SERVING, timeout=20)
            assert _health(grpc_port, "liveness") == SERVING
            eventually(
                lambda: httpx.get(f"{system.gateway_url}/readyz", timeout=5).status_code == 200,
                timeout=10,
            )
            tok = token("zhaowan", "township_admin", sub=f"admin-{uuid.uuid4().hex[:6]}")
            r = httpx.get(
                f"{system.gateway_url}/api/v1/stationed/units", headers=auth(tok), timeout=10
            )
            assert r.status_code == 200, r.text
            assert r.json(), "the town's stationed units are served"
            system.stop("stationed")  # before its database goes away again
    finally:
        system.start("stationed")
        system.wait_service("stationed")
    # and the system as a whole works on: a newborn intake still goes through
    newborn_intake(system.gateway_url, token("zhaowan", "clerk"))


def test_a_service_serves_without_nats_and_its_events_flow_once_nats_comes(
    system: LocalStack, token: TokenFactory
) -> None:
    real = urlsplit(system.nats_url)
    assert real.hostname and real.port
    late_port = free_port()  # NATS is not reachable here yet
    grpc_port = system.grpc_ports["permits"]
    clerk = f"clerk-zw-{uuid.uuid4().hex[:6]}"
    tok = token("zhaowan", "clerk", sub=clerk)
    system.stop("permits")
    try:
        system.start("permits", env={"TOWNSHIP_PERMITS_NATS_URL": f"nats://127.0.0.1:{late_port}"})
        # ready: the database answers, and writes wait in the outbox for NATS
        eventually(lambda: _health(grpc_port, "") == SERVING, timeout=30)
        receipt = newborn_intake(system.gateway_url, tok)["receipt_code"]
        public = httpx.get(f"{system.gateway_url}/public/v1/applications/{receipt}", timeout=10)
        assert public.status_code == 200, public.text
        time.sleep(1.0)
        assert points_of(system.gateway_url, tok, clerk) == [], "no event left without NATS"
        with _forwarder(late_port, (real.hostname, real.port)):
            # NATS comes: the relay publishes what waited, personnel records the points
            entries = eventually(
                lambda: (e := points_of(system.gateway_url, tok, clerk)) and len(e) >= 2 and e, 30
            )
            assert len(entries) == 2
            log = (system.logs / "permits.log").read_text()
            assert "events flowing" in log
            # tried twice a second while NATS was away, logged once per 30 s
            assert 1 <= log.count('"nats error"') <= 3, log[-2000:]
            system.stop("permits")  # before its NATS goes away again
    finally:
        system.start("permits")
        system.wait_service("permits")
