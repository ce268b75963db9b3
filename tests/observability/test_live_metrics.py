"""/metrics of every running process follows Prometheus naming and labelling conventions.

Names are ``township_<service>_…`` (or the client library's ``process_``/``python_``
collectors), counters end in ``_total``, histograms and time or size values carry a base
unit (``_seconds``, ``_bytes``), and no label takes unbounded values (ids, raw paths,
personal data): the gateway's ``route`` is a path template.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from township_testing.stack import LocalStack

from .conftest import SEEDED_PEOPLE, metrics_urls

pytestmark = pytest.mark.e2e

STANDARD_PREFIXES = ("process_", "python_")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Non-base units: Prometheus wants seconds and bytes.
NON_BASE_UNITS = {
    "ms", "millis", "milliseconds", "us", "microseconds", "ns", "nanoseconds", "minutes",
    "hours", "kb", "kib", "mb", "mib", "gb", "gib", "kilobytes", "megabytes", "percent", "pct",
}  # fmt: skip
# What a gauge or histogram counts or measures; every township_ gauge/histogram names one.
UNITS = {
    "seconds", "bytes", "events", "requests", "connections", "ratio", "info", "replicas",
    "applications", "cases", "transfers", "breaches", "ratings",
}  # fmt: skip
TIME_WORDS = {"age", "duration", "latency", "time", "delay", "lag", "uptime"}
# Labels whose values grow without bound (one series per object or caller).
UNBOUNDED_LABELS = re.compile(
    r"^(id|.*_id|ids|uuid|path|url|uri|query|user|sub|subject|person|name|phone|"
    r"id_number|receipt.*|email|ip|client|token|key|idempotency_key)$"
)
ID_LIKE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{6,}|[0-9a-f]{16,}", re.I
)
ROUTE = re.compile(r"^(unmatched|(/([A-Za-z0-9._-]+|\{[a-z_]+(:path)?\}))+)$")
MAX_VALUES_PER_LABEL = 60


def _families(url: str) -> tuple[str, list[Metric]]:
    text = httpx.get(url, timeout=10).text
    return text, list(text_string_to_metric_families(text))


@pytest.fixture(scope="module")
def expositions(
    live_stack: LocalStack, live_load: Counter[int]
) -> dict[str, tuple[str, list[Metric]]]:
    """Process → (raw text, parsed families) after the session's load."""
    return {name: _families(url) for name, url in metrics_urls(live_stack).items()}


def _problems(process: str, families: list[Metric]) -> Iterator[str]:
    prefix = f"township_{process}_"
    for f in families:
        name = f.name
        if name.startswith(STANDARD_PREFIXES):
            continue
        if not name.startswith(prefix):
            yield f"{name}: not prefixed {prefix}"
        if not NAME.match(name):
            yield f"{name}: not snake_case"
        if not f.documentation.strip():
            yield f"{name}: no HELP text"
        words = set(name.split("_"))
        if words & NON_BASE_UNITS:
            yield f"{name}: non-base unit {sorted(words & NON_BASE_UNITS)} (use seconds/bytes)"
        if f.type == "counter":
            for s in f.samples:
                if not s.name.endswith("_total"):
                    yield f"{name}: counter sample {s.name} does not end in _total"
        elif f.type in {"gauge", "histogram", "summary"}:
            if name.endswith(("_total", "_count", "_sum", "_bucket", "_created")):
                yield f"{name}: a {f.type} must not end like a counter or histogram part"
            if not words & UNITS:
                yield f"{name}: a {f.type} names no unit from {sorted(UNITS)}"
            if words & TIME_WORDS and not name.endswith("_seconds"):
                yield f"{name}: a time value must end in _seconds"
            if f.type in {"histogram", "summary"} and not name.endswith(("_seconds", "_bytes")):
                yield f"{name}: a {f.type} must end in a base unit (_seconds, _bytes)"
        else:
            yield f"{name}: unexpected type {f.type}"
        values: dict[str, set[str]] = {}
        for s in f.samples:
            for label, value in s.labels.items():
                values.setdefault(label, set()).add(value)
        for label, seen in values.items():
            if label == "le" and f.type == "histogram":
                continue
            if not NAME.match(label) or label.startswith("__"):
                yield f"{name}: bad label name {label!r}"
            if UNBOUNDED_LABELS.match(label):
                yield f"{name}: label {label!r} takes unbounded values"
            if len(seen) > MAX_VALUES_PER_LABEL:
                yield f"{name}: label {label!r} has {len(seen)} values"
            for value in seen:
                if ID_LIKE.search(value):
                    yield f"{name}: label {label}={value!r} looks like an id"
                if label == "route" and not ROUTE.match(value):
                    yield f"{name}: route {value!r} is not a path template"


def test_every_process_exposes_conventional_metrics(
    expositions: dict[str, tuple[str, list[Metric]]],
) -> None:
    assert set(expositions) == {"permits", "enforcement", "personnel", "stationed", "gateway"}
    problems = [
        f"{process}: {p}"
        for process, (_, families) in expositions.items()
        for p in _problems(process, families)
    ]
    assert not problems, "\n".join(problems)


def test_the_load_shows_up_labelled_by_template_and_without_personal_data(
    expositions: dict[str, tuple[str, list[Metric]]], live_load: Counter[int]
) -> None:
    _, families = expositions["gateway"]
    requests = next(f for f in families if f.name == "township_gateway_http_requests")
    routes = {s.labels["route"] for s in requests.samples}
    # Concrete paths the load requested, as templates.
    assert "/api/v1/applications/{application_id}" in routes, routes
    assert "/public/v1/applications/{receipt_code}" in routes, routes
    codes = {s.labels["code"] for s in requests.samples if s.value > 0}
    assert {"201", "200", "404", "422", "401", "503"} <= codes, codes
    assert set(live_load) <= {int(c) for c in codes}
    permits = next(
        f for f in expositions["permits"][1] if f.name == "township_permits_grpc_requests"
    )
    assert {"OK", "NOT_FOUND"} <= {s.labels["code"] for s in permits.samples}
    for process, (raw, _) in expositions.items():
        for person in SEEDED_PEOPLE:
            for value in (person.name, person.id_number, person.phone):
                assert value not in raw, f"{process} exposes {value!r}"
