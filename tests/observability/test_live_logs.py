"""Logs: one JSON object per line, trace ids inside spans, and never any personal data.

Runs after the other live tests (see ``pytest_collection_modifyitems`` in conftest.py), so
the logs it reads hold the whole run of ``live_stack``: every intake of ``SEEDED_PEOPLE``
(names, resident ID numbers, mobile numbers), reads of their applications, errors, a 503,
a service restart, and the consumers that handled the events.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from township_testing.stack import SERVICES, LocalStack

from .conftest import (
    SEEDED_PEOPLE,
    bearer,
    intake_body,
    live_token,
    log_files,
    new_traceparent,
    wait_until,
)

pytestmark = pytest.mark.e2e

# Log events written inside a request's or an event's span: each must carry its trace.
IN_SPAN_EVENTS = {
    "request failed",
    "unhandled error in rpc",
    "event handler failed",
    "event dead-lettered",
}


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"{path.name}:{number} is not JSON: {line[:300]!r}", pytrace=False)
        assert isinstance(record, dict), f"{path.name}:{number}: {line[:300]!r}"
        lines.append(record)
    return lines


@pytest.fixture(scope="module")
def failed_request(live_stack: LocalStack, live_gateway: httpx.Client) -> str:
    """The trace id of a request that got a 503 (its backend was stopped)."""
    tok = live_token(live_stack, "zhaowan", "clerk")
    traceparent, trace_id, _ = new_traceparent()
    live_stack.stop("stationed")
    try:
        r = live_gateway.get(
            "/api/v1/stationed/units", headers={**bearer(tok), "traceparent": traceparent}
        )
        assert r.status_code == 503, r.text
    finally:
        live_stack.start("stationed")
        live_stack.wait_service("stationed", timeout=120)
    return trace_id


def test_no_personal_data_in_any_log_of_the_run(
    live_stack: LocalStack,
    live_gateway: httpx.Client,
    live_load: Counter[int],
    failed_request: str,
) -> None:
    # One more round with every person, read back in full (the response holds the data).
    clerk = f"clerk-logs-{uuid.uuid4().hex[:6]}"
    tok = live_token(live_stack, "zhaowan", "clerk", sub=clerk)
    for person in SEEDED_PEOPLE:
        r = live_gateway.post("/api/v1/applications", json=intake_body(person), headers=bearer(tok))
        assert r.status_code == 201, r.text
        app_id = r.json()["applications"][0]["id"]
        detail = live_gateway.get(f"/api/v1/applications/{app_id}", headers=bearer(tok))
        assert detail.json()["applicant"]["id_number"] == person.id_number  # it went through
        # The same data in a bad request (422) and in the query string of a 404.
        bad = intake_body(person) | {"channel": "carrier-pigeon"}
        assert (
            live_gateway.post("/api/v1/applications", json=bad, headers=bearer(tok)).status_code
            == 422
        )
        live_gateway.get(
            f"/api/v1/applications/{uuid.uuid4()}",
            params={"name": person.name, "id_number": person.id_number, "phone": person.phone},
            headers=bearer(tok),
        )

    def points() -> bool:
        r = live_gateway.get(
            "/api/v1/personnel/points", params={"person": clerk}, headers=bearer(tok)
        )
        return r.status_code == 200 and len(r.json()["entries"]) >= len(SEEDED_PEOPLE)

    wait_until(points, 30, "the personnel consumer to handle the intakes")

    files = log_files(live_stack)
    names = {f.name for f in files}
    assert {f"{p}.log" for p in (*SERVICES, "gateway")} <= names, names
    assert {"postgres.log", "nats.log"} <= names, names
    leaks = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for person in SEEDED_PEOPLE:
            for value in (person.name, person.id_number, person.phone):
                if value in text:
                    line = next(x for x in text.splitlines() if value in x)
                    leaks.append(f"{path.name}: {value!r} in {line[:300]!r}")
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks)


def test_process_logs_are_json_lines_with_trace_ids_inside_spans(
    live_stack: LocalStack, failed_request: str
) -> None:
    records: dict[str, list[dict[str, Any]]] = {}
    for process in (*SERVICES, "gateway"):
        lines = _json_lines(live_stack.logs / f"{process}.log")
        assert lines, f"{process}.log is empty"
        for record in lines:
            assert record.get("service") == process, record
            assert record.get("event") and record.get("level") and record.get("timestamp"), record
            if record["event"] in IN_SPAN_EVENTS:
                assert len(record.get("trace_id", "")) == 32, record
                assert len(record.get("span_id", "")) == 16, record
        records[process] = lines

    def failure_logged() -> dict[str, Any] | None:
        lines = _json_lines(live_stack.logs / "gateway.log")
        return next((x for x in lines if x.get("trace_id") == failed_request), None)

    line = wait_until(failure_logged, 10, "the gateway's line about the 503")
    assert line["event"] == "request failed"
    assert line["level"] == "error"
    assert line["status"] == 503
    assert line["route"] == "/api/v1/stationed/units"
    assert line["township"] == "zhaowan"
