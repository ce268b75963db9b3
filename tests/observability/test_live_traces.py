"""One trace from the gateway's HTTP request to every consumer of the events it caused.

The test sends its own W3C ``traceparent`` so it knows the trace id, then reads the spans the
processes exported to the in-test OTLP receiver (``otlp_receiver``).
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from township_testing.stack import SERVICES, LocalStack

from .conftest import (
    SEEDED_PEOPLE,
    ExportedSpan,
    OtlpReceiver,
    bearer,
    intake_body,
    live_token,
    new_traceparent,
    wait_until,
)

pytestmark = pytest.mark.e2e


def _points(client: httpx.Client, tok: str, person: str) -> int:
    r = client.get("/api/v1/personnel/points", params={"person": person}, headers=bearer(tok))
    return len(r.json()["entries"]) if r.status_code == 200 else 0


def _one(spans: list[ExportedSpan], what: str) -> ExportedSpan:
    found = [(s.name, s.span_id, s.parent_span_id) for s in spans]
    assert len(spans) == 1, f"expected one {what}, got {found}"
    return spans[0]


def test_one_trace_from_gateway_through_permits_relay_and_personnel_consumer(
    live_stack: LocalStack, live_gateway: httpx.Client, otlp_receiver: OtlpReceiver
) -> None:
    clerk = f"clerk-trace-{uuid.uuid4().hex[:6]}"
    tok = live_token(live_stack, "zhaowan", "clerk", sub=clerk)
    traceparent, trace_id, caller_span = new_traceparent()
    r = live_gateway.post(
        "/api/v1/applications",
        json=intake_body(SEEDED_PEOPLE[0]),
        headers={**bearer(tok), "Idempotency-Key": str(uuid.uuid4()), "traceparent": traceparent},
    )
    assert r.status_code == 201, r.text
    events = len(r.json()["applications"])  # one application.submitted per item of the bundle

    def complete() -> list[ExportedSpan] | None:
        spans = otlp_receiver.spans(trace_id)
        consumed = [
            s for s in spans if s.service == "township-personnel" and s.kind_name == "CONSUMER"
        ]
        consumer_ids = {s.span_id for s in consumed}
        consumer_db = [s for s in spans if s.parent_span_id in consumer_ids]
        return spans if len(consumed) >= events and len(consumer_db) >= events else None

    spans = wait_until(complete, 30, "the personnel consumer's spans of the trace")
    by_id = {s.span_id: s for s in spans}

    # Every process names itself, its version and its environment.
    for s in spans:
        assert s.resource["service.name"] in {f"township-{p}" for p in (*SERVICES, "gateway")}, s
        assert s.resource.get("service.version"), s
        assert s.resource.get("deployment.environment") == "development", s

    # gateway: the SERVER span continues the caller's context.
    gateway = _one(
        [s for s in spans if s.service == "township-gateway" and s.kind_name == "SERVER"],
        "gateway SERVER span",
    )
    assert gateway.parent_span_id == caller_span
    assert gateway.name == "POST /api/v1/applications"
    assert gateway.attributes["http.route"] == "/api/v1/applications"
    assert gateway.attributes["http.response.status_code"] == 201
    assert gateway.attributes["township"] == "zhaowan"

    # permits: the gRPC SERVER span is the gateway span's child.
    permits = [s for s in spans if s.service == "township-permits" and s.kind_name == "SERVER"]
    assert permits, "no permits SERVER span"
    for s in permits:
        assert s.parent_span_id == gateway.span_id, s
        assert s.attributes["rpc.system"] == "grpc"
        assert s.attributes["township"] == "zhaowan"
    permits_ids = {s.span_id for s in permits}

    # permits: its SQL statements are CLIENT spans under the RPC, without bound values.
    db = [s for s in spans if s.service == "township-permits" and "db.system.name" in s.attributes]
    assert db, "no database spans under the permits RPC"
    assert all(s.parent_span_id in permits_ids for s in db)
    assert all(s.kind_name == "CLIENT" for s in db)
    operations = {s.attributes["db.operation.name"] for s in db}
    assert operations <= {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}, operations
    # the writes are traced too: the application rows and the event in the outbox
    texts = [s.attributes["db.query.text"] for s in db]
    assert any("INSERT INTO applications" in t for t in texts), texts
    assert any("INSERT INTO outbox" in t for t in texts), texts
    for s in db:
        text = s.attributes["db.query.text"]
        assert SEEDED_PEOPLE[0].name not in text and SEEDED_PEOPLE[0].phone not in text

    # the relay: one PRODUCER span per event, child of the RPC that emitted it (events a
    # consumer emits in turn are children of its CONSUMER span: the trace goes on).
    producers = [s for s in spans if s.kind_name == "PRODUCER"]
    from_permits = [s for s in producers if s.service == "township-permits"]
    assert len(from_permits) >= events, producers
    assert all(s.parent_span_id in permits_ids for s in from_permits)
    for s in producers:
        parent = by_id[s.parent_span_id]
        assert parent.service == s.service and parent.kind_name in {"SERVER", "CONSUMER"}, s
        assert s.attributes["messaging.system"] == "nats"
        assert s.attributes["township"] == "zhaowan"

    # personnel: each CONSUMER span is the child of the PRODUCER span of its event, and the
    # consumer's SQL is under it.
    consumers = [s for s in spans if s.kind_name == "CONSUMER"]
    personnel = [s for s in consumers if s.service == "township-personnel"]
    assert len(personnel) >= events
    from_permits_events = [s for s in personnel if by_id[s.parent_span_id] in from_permits]
    assert len(from_permits_events) >= events, personnel
    producer_ids = {s.span_id for s in producers}
    for s in consumers:
        assert s.parent_span_id in producer_ids, s
        assert (
            by_id[s.parent_span_id].attributes["messaging.message.id"]
            == (s.attributes["messaging.message.id"])
        )
        assert s.attributes["township"] == "zhaowan"
    personnel_db = [
        s for s in spans if s.service == "township-personnel" and "db.system.name" in s.attributes
    ]
    assert personnel_db and all(
        by_id[s.parent_span_id].kind_name == "CONSUMER" for s in personnel_db
    )

    # Nothing dangles: every parent is in the trace, except the caller's own span.
    for s in spans:
        assert s.parent_span_id == caller_span or s.parent_span_id in by_id, s


def test_an_unsampled_caller_produces_no_span_anywhere(
    live_stack: LocalStack, live_gateway: httpx.Client, otlp_receiver: OtlpReceiver
) -> None:
    """Parent-based sampling: the decision at the start holds across gRPC and NATS."""
    clerk = f"clerk-nosample-{uuid.uuid4().hex[:6]}"
    tok = live_token(live_stack, "zhaowan", "clerk", sub=clerk)
    traceparent, trace_id, _ = new_traceparent()
    r = live_gateway.post(
        "/api/v1/applications",
        json=intake_body(SEEDED_PEOPLE[1]),
        headers={**bearer(tok), "traceparent": traceparent[:-2] + "00"},
    )
    assert r.status_code == 201, r.text
    events = len(r.json()["applications"])
    wait_until(lambda: _points(live_gateway, tok, clerk) >= events, 30, "the points")
    time.sleep(1.0)  # several export intervals
    assert otlp_receiver.spans(trace_id) == []
    # ... while a sampled request right after is exported (the receiver works).
    traceparent, trace_id, _ = new_traceparent()
    live_gateway.get("/healthz", headers={"traceparent": traceparent})
    wait_until(lambda: otlp_receiver.spans(trace_id), 10, "the sampled request's span")
