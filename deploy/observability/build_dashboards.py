"""Build the Grafana dashboards in deploy/observability/dashboards/ from plain dicts.

Usage: ``python deploy/observability/build_dashboards.py`` rewrites the JSON files;
``--check`` only compares them and exits 1 when a committed file is stale.

Plain dicts rather than a dashboard SDK: no new dependency, and the output is exactly what
Grafana imports. The output is deterministic (fixed ids, positions and key order), so the
committed JSON can be checked against this script (tests/observability).

Conventions every dashboard follows:
- a ``datasource`` template variable (type "datasource", query "prometheus"); every panel and
  target uses ``${datasource}``, never a data source uid;
- metric names are those of docs/CONTRACTS.md (mirrored in metrics.yaml); the scrape job of a
  process is its service name (``job="township-permits"``), so ``by (job)`` tells services
  apart where one query spans all of them;
- business gauges may be exported by every replica of a service, so they are combined with
  ``max by (township, …)``; counters are summed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "dashboards"

SCHEMA_VERSION = 39
TAGS = ["township"]
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
DOMAIN_SERVICES = ("permits", "enforcement", "personnel", "stationed")
DOMAIN = "township_(" + "|".join(DOMAIN_SERVICES) + ")"
JOBS = "township-(gateway|" + "|".join(DOMAIN_SERVICES) + ")"
GRPC_SERVER_ERRORS = "UNKNOWN|DEADLINE_EXCEEDED|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS"
AVAILABILITY_BUDGET = 0.005  # SLO 99.5 % non-5xx over 30 days (rules/gateway-slo.yaml)
LATENCY_BUDGET = 0.01  # SLO 99 % under 300 ms over 30 days
TOWN = 'township=~"$township"'

Json = dict[str, Any]


# --- building blocks --------------------------------------------------------------------


def target(expr: str, legend: str = "__auto", *, instant: bool = False) -> Json:
    """One Prometheus query of a panel (refId is set by the panel)."""
    return {
        "datasource": DATASOURCE,
        "editorMode": "code",
        "expr": expr,
        "instant": instant,
        "legendFormat": legend,
        "range": not instant,
    }


def thresholds(*steps: tuple[str, float | None]) -> Json:
    """Absolute thresholds: the first step's value is None (the base colour)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


GREEN = thresholds(("green", None))


@dataclass
class Panel:
    """A panel before layout: the grid position and id are given by ``Grid``."""

    type: str
    title: str
    description: str
    targets: list[Json]
    width: int
    height: int
    field_defaults: Json = field(default_factory=dict)
    options: Json = field(default_factory=dict)

    def render(self, panel_id: int, x: int, y: int) -> Json:
        """The panel as Grafana stores it."""
        targets = []
        for i, t in enumerate(self.targets):
            targets.append({"refId": chr(ord("A") + i), **t})
        return {
            "id": panel_id,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "datasource": DATASOURCE,
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "targets": targets,
            "fieldConfig": {"defaults": self.field_defaults, "overrides": []},
            "options": self.options,
        }


def timeseries(
    title: str,
    description: str,
    targets: Iterable[Json],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    stack: bool = False,
    min_value: float | None = 0,
    max_value: float | None = None,
    steps: Json | None = None,
) -> Panel:
    """A time series graph; ``steps`` draws threshold lines (e.g. an alert's limit)."""
    defaults: Json = {
        "unit": unit,
        "color": {"mode": "palette-classic"},
        "custom": {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 20 if stack else 10,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"group": "A", "mode": "normal" if stack else "none"},
            "thresholdsStyle": {"mode": "line" if steps else "off"},
        },
        "thresholds": steps or GREEN,
    }
    if min_value is not None:
        defaults["min"] = min_value
    if max_value is not None:
        defaults["max"] = max_value
    options = {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return Panel("timeseries", title, description, list(targets), width, height, defaults, options)


def stat(
    title: str,
    description: str,
    targets: Iterable[Json],
    *,
    unit: str = "short",
    width: int = 6,
    height: int = 4,
    steps: Json | None = None,
    decimals: int | None = None,
) -> Panel:
    """A single big number (the last value of an instant query)."""
    defaults: Json = {"unit": unit, "color": {"mode": "thresholds"}, "thresholds": steps or GREEN}
    if decimals is not None:
        defaults["decimals"] = decimals
    options = {
        "colorMode": "value",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "textMode": "auto",
    }
    return Panel("stat", title, description, list(targets), width, height, defaults, options)


def bargauge(
    title: str,
    description: str,
    targets: Iterable[Json],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    steps: Json | None = None,
    min_value: float | None = 0,
    max_value: float | None = None,
) -> Panel:
    """Horizontal bars, one per series (e.g. one per township)."""
    defaults: Json = {"unit": unit, "color": {"mode": "thresholds"}, "thresholds": steps or GREEN}
    if min_value is not None:
        defaults["min"] = min_value
    if max_value is not None:
        defaults["max"] = max_value
    options = {
        "displayMode": "gradient",
        "orientation": "horizontal",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showUnfilled": True,
    }
    return Panel("bargauge", title, description, list(targets), width, height, defaults, options)


@dataclass
class Row:
    """A row header across the whole width."""

    title: str


class Grid:
    """Lays panels out left to right on Grafana's 24-column grid, ids in order."""

    def __init__(self) -> None:
        self.panels: list[Json] = []
        self.x = 0
        self.y = 0
        self.line_height = 0

    def _next_id(self) -> int:
        return len(self.panels) + 1

    def _new_line(self) -> None:
        self.y += self.line_height
        self.x = 0
        self.line_height = 0

    def add(self, item: Panel | Row) -> None:
        """Place a row header or a panel."""
        if isinstance(item, Row):
            self._new_line()
            self.panels.append(
                {
                    "id": self._next_id(),
                    "type": "row",
                    "title": item.title,
                    "collapsed": False,
                    "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
                    "panels": [],
                }
            )
            self.y += 1
            return
        if self.x + item.width > 24:
            self._new_line()
        self.panels.append(item.render(self._next_id(), self.x, self.y))
        self.x += item.width
        self.line_height = max(self.line_height, item.height)


def datasource_variable() -> Json:
    """The ``datasource`` variable every panel's queries go to."""
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
    }


def service_variable() -> Json:
    """``service``: one of the domain services (their metric names carry it)."""
    first = DOMAIN_SERVICES[0]
    return {
        "name": "service",
        "label": "Service",
        "type": "custom",
        "query": ",".join(DOMAIN_SERVICES),
        "current": {"selected": True, "text": first, "value": first},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [{"selected": s == first, "text": s, "value": s} for s in DOMAIN_SERVICES],
        "skipUrlSync": False,
    }


def township_variable() -> Json:
    """``township``: towns that report applications; "All" matches every town."""
    query = "label_values(township_permits_applications, township)"
    return {
        "name": "township",
        "label": "Township",
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": query,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
        "includeAll": True,
        "allValue": ".+",
        "multi": True,
        "options": [],
        "refresh": 2,
        "regex": "",
        "skipUrlSync": False,
        "sort": 1,
    }


def dashboard(
    uid: str,
    title: str,
    description: str,
    items: Iterable[Panel | Row],
    *,
    variables: Iterable[Json] = (),
    time_from: str = "now-6h",
) -> Json:
    """A whole dashboard, importable as is (no ``__inputs``: the data source is a variable)."""
    grid = Grid()
    for item in items:
        grid.add(item)
    return {
        "id": None,
        "uid": uid,
        "title": title,
        "description": description,
        "tags": TAGS,
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "links": [
            {
                "title": "Township dashboards",
                "type": "dashboards",
                "tags": TAGS,
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
                "targetBlank": False,
            }
        ],
        "templating": {"list": [datasource_variable(), *variables]},
        "annotations": {"list": []},
        "panels": grid.panels,
    }


# --- PromQL helpers ---------------------------------------------------------------------


def ratio(numerator: str, denominator: str) -> str:
    """``numerator / denominator`` on two lines (kept readable in Grafana's editor)."""
    return f"{numerator}\n/\n{denominator}"


def agg(op: str, by: str, inner: str) -> str:
    """``op by (by) (inner)``, or ``op(inner)`` when ``by`` is empty."""
    return f"{op} by ({by}) ({inner})" if by else f"{op}({inner})"


def zero_ratio(numerator: str, denominator: str) -> str:
    """A ratio that is 0, not absent, while the numerator has no series (e.g. no errors yet)."""
    return ratio(f"(\n  {numerator}\n  or\n  0 * {denominator}\n)", denominator)


def domain(metric: str, matchers: str = "") -> str:
    """Select ``township_<service>_<metric>`` of every domain service."""
    extra = f", {matchers}" if matchers else ""
    return f'{{__name__=~"{DOMAIN}_{metric}"{extra}}}'


def gateway_quantile(q: float) -> str:
    """Quantile of the gateway's request duration over all routes."""
    return (
        f"histogram_quantile({q}, sum by (le) "
        "(rate(township_gateway_http_request_duration_seconds_bucket[$__rate_interval])))"
    )


def town_gauge(metric: str, by: str = "township") -> str:
    """A business gauge per town (max over the replicas that all export it)."""
    return agg("max", by, f"{metric}{{{TOWN}}}")


def applications_total(by: str, offset: str = "") -> str:
    """Applications in every state (the intake so far), summed ``by`` the given labels."""
    sel = f"township_permits_applications{{{TOWN}}}" + (f" offset {offset}" if offset else "")
    return agg("sum", by, f"max by (township, state) ({sel})")


def new_applications(by: str, window: str, sep: str = "\n-\n") -> str:
    """Applications taken in during ``window``: growth of the all-states total."""
    return f"{applications_total(by)}{sep}{applications_total(by, window)}"


def on_time_rate(by: str) -> str:
    """1 - deadline breaches / new applications over the selected range (clamped to 0..1)."""
    breaches = agg(
        "sum", by, f"increase(township_permits_deadline_breaches_total{{{TOWN}}}[$__range])"
    )
    zero = f"0 * {applications_total(by)}" if by else "vector(0)"
    intake = new_applications(by, "$__range", " - ")
    return (
        f"clamp(\n  1\n  -\n  ({breaches} or {zero})\n  /\n  clamp_min({intake}, 1),\n  0,\n  1\n)"
    )


# --- dashboards -------------------------------------------------------------------------


def overview() -> Json:
    """System overview: gateway SLOs, traffic, every service's health, the event backbone."""
    errors = "job:township_gateway_request_errors:ratio_rate"
    slow = "job:township_gateway_request_slow:ratio_rate"
    pct = thresholds(("red", None), ("orange", 0.99), ("green", 0.995))
    pct_latency = thresholds(("red", None), ("orange", 0.98), ("green", 0.99))
    budget = thresholds(("red", None), ("orange", 0.25), ("green", 0.5))
    grpc = domain("grpc_requests_total")
    return dashboard(
        "township-overview",
        "Township / System overview",
        "Gateway SLOs and traffic, health of every service and of the event backbone.",
        [
            Row("Gateway SLOs (30 days)"),
            stat(
                "Availability (30 d)",
                "Share of gateway requests answered without a 5xx over 30 days. SLO: 99.5 %.",
                [target(f"1 - {errors}30d", "availability", instant=True)],
                unit="percentunit",
                steps=pct,
                decimals=3,
            ),
            stat(
                "Availability error budget left",
                "Share of the 30-day error budget (0.5 % of requests) not yet spent.",
                [target(f"1 - {errors}30d / {AVAILABILITY_BUDGET}", "budget", instant=True)],
                unit="percentunit",
                steps=budget,
                decimals=1,
            ),
            stat(
                "Under 300 ms (30 d)",
                "Share of gateway requests answered in under 300 ms over 30 days. SLO: 99 %.",
                [target(f"1 - {slow}30d", "fast", instant=True)],
                unit="percentunit",
                steps=pct_latency,
                decimals=3,
            ),
            stat(
                "Latency error budget left",
                "Share of the 30-day latency budget (1 % of requests) not yet spent.",
                [target(f"1 - {slow}30d / {LATENCY_BUDGET}", "budget", instant=True)],
                unit="percentunit",
                steps=budget,
                decimals=1,
            ),
            timeseries(
                "Availability burn rate",
                "Error ratio divided by the budget (0.5 %). 1 spends the budget in exactly "
                "30 days; the page fires at 14.4 (1 h) or 6 (6 h), the ticket at 3 (1 d) or 1 "
                "(3 d).",
                [
                    target(f"{errors}{w} / {AVAILABILITY_BUDGET}", w)
                    for w in ("5m", "1h", "6h", "1d", "3d")
                ],
                steps=thresholds(("green", None), ("orange", 1), ("red", 14.4)),
            ),
            timeseries(
                "Latency burn rate",
                "Share of requests at 300 ms or more, divided by the budget (1 %). Same "
                "thresholds as availability.",
                [
                    target(f"{slow}{w} / {LATENCY_BUDGET}", w)
                    for w in ("5m", "1h", "6h", "1d", "3d")
                ],
                steps=thresholds(("green", None), ("orange", 1), ("red", 14.4)),
            ),
            Row("Gateway traffic"),
            timeseries(
                "Requests per second by status",
                "Gateway HTTP requests per second, by status code.",
                [
                    target(
                        "sum by (code) "
                        "(rate(township_gateway_http_requests_total[$__rate_interval]))",
                        "{{code}}",
                    )
                ],
                unit="reqps",
                width=8,
                stack=True,
            ),
            timeseries(
                "5xx ratio",
                "Share of gateway requests answered with a 5xx.",
                [
                    target(
                        zero_ratio(
                            "sum(rate(township_gateway_http_requests_total"
                            '{code=~"5.."}[$__rate_interval]))',
                            "sum(rate(township_gateway_http_requests_total[$__rate_interval]))",
                        ),
                        "5xx",
                    )
                ],
                unit="percentunit",
                width=8,
                steps=thresholds(("green", None), ("red", AVAILABILITY_BUDGET)),
            ),
            timeseries(
                "Latency quantiles",
                "Gateway request duration over all routes (from the histogram buckets).",
                [target(gateway_quantile(q), f"p{round(q * 100)}") for q in (0.5, 0.9, 0.99)],
                unit="s",
                width=8,
                steps=thresholds(("green", None), ("red", 0.3)),
            ),
            timeseries(
                "5xx per second by route",
                "Which routes fail (route = path template).",
                [
                    target(
                        "sum by (route, code) (rate(township_gateway_http_requests_total"
                        '{code=~"5.."}[$__rate_interval]))',
                        "{{route}} {{code}}",
                    )
                ],
                unit="reqps",
            ),
            timeseries(
                "p99 latency by route (slowest 10)",
                "Which routes are slow; the latency SLO counts requests at 300 ms or more.",
                [
                    target(
                        "topk(10, histogram_quantile(0.99, sum by (route, le) "
                        "(rate(township_gateway_http_request_duration_seconds_bucket"
                        "[$__rate_interval]))))",
                        "{{route}}",
                    )
                ],
                unit="s",
                steps=thresholds(("green", None), ("red", 0.3)),
            ),
            Row("Services"),
            stat(
                "Instances up",
                "Scrape targets up per service (job). 0 pages (TownshipServiceDown).",
                [target(f'sum by (job) (up{{job=~"{JOBS}"}})', "{{job}}", instant=True)],
                width=24,
                steps=thresholds(("red", None), ("green", 1)),
            ),
            timeseries(
                "gRPC requests per second",
                "Calls handled by each domain service.",
                [target(f"sum by (job) (rate({grpc}[$__rate_interval]))", "{{job}}")],
                unit="reqps",
                width=8,
            ),
            timeseries(
                "gRPC server-error ratio",
                f"Share of calls ending in {GRPC_SERVER_ERRORS.replace('|', ', ')}. "
                "Above 5 % for 10 min opens a ticket.",
                [
                    target(
                        zero_ratio(
                            "sum by (job) (rate("
                            + domain("grpc_requests_total", f'code=~"{GRPC_SERVER_ERRORS}"')
                            + "[$__rate_interval]))",
                            f"sum by (job) (rate({grpc}[$__rate_interval]))",
                        ),
                        "{{job}}",
                    )
                ],
                unit="percentunit",
                width=8,
                steps=thresholds(("green", None), ("red", 0.05)),
            ),
            timeseries(
                "gRPC p99 latency",
                "99th percentile of call handling time per service.",
                [
                    target(
                        "histogram_quantile(0.99, sum by (job, le) (rate("
                        + domain("grpc_request_duration_seconds_bucket")
                        + "[$__rate_interval])))",
                        "{{job}}",
                    )
                ],
                unit="s",
                width=8,
            ),
            Row("Event backbone"),
            timeseries(
                "Oldest unpublished outbox event",
                "Age of the oldest event each service has not yet published. Above 60 s for "
                "5 min pages (TownshipOutboxStuck).",
                [target(f"max by (job) ({domain('outbox_oldest_age_seconds')})", "{{job}}")],
                unit="s",
                width=8,
                steps=thresholds(("green", None), ("red", 60)),
            ),
            timeseries(
                "Pending events (all consumers)",
                "Events waiting in each service's consumers.",
                [target(f"sum by (job) ({domain('consumer_pending_events')})", "{{job}}")],
                width=8,
            ),
            timeseries(
                "Dead-lettered events per hour",
                "Events each service gave up on (any increase opens a ticket).",
                [
                    target(
                        f"sum by (job) (increase({domain('events_dead_lettered_total')}[1h]))",
                        "{{job}}",
                    )
                ],
                width=8,
            ),
        ],
    )


def service_red() -> Json:
    """RED (rate, errors, duration) of one domain service, chosen with ``$service``."""
    requests = "township_${service}_grpc_requests_total"
    bucket = "township_${service}_grpc_request_duration_seconds_bucket"
    server_errors = f'{requests}{{code=~"{GRPC_SERVER_ERRORS}"}}'

    def quantile(q: float, by: str = "") -> str:
        return f"histogram_quantile({q}, sum by (le{by}) (rate({bucket}[$__rate_interval])))"

    return dashboard(
        "township-service-red",
        "Township / Service RED",
        "Rate, errors and duration of the gRPC calls of one domain service.",
        [
            Row("Rate"),
            stat(
                "Requests per second",
                "All gRPC calls handled by the service.",
                [target(f"sum(rate({requests}[$__rate_interval]))", "rps", instant=True)],
                unit="reqps",
                width=6,
            ),
            stat(
                "Server-error ratio",
                f"Share of calls ending in {GRPC_SERVER_ERRORS.replace('|', ', ')}.",
                [
                    target(
                        zero_ratio(
                            f"sum(rate({server_errors}[$__rate_interval]))",
                            f"sum(rate({requests}[$__rate_interval]))",
                        ),
                        "errors",
                        instant=True,
                    )
                ],
                unit="percentunit",
                width=6,
                steps=thresholds(("green", None), ("orange", 0.01), ("red", 0.05)),
            ),
            stat(
                "p99 latency",
                "99th percentile of call handling time, all methods.",
                [target(quantile(0.99), "p99", instant=True)],
                unit="s",
                width=6,
                steps=thresholds(("green", None), ("orange", 0.25), ("red", 1)),
            ),
            stat(
                "Instances up",
                "Scrape targets of the service that are up (job township-<service>).",
                [target('sum(up{job="township-${service}"})', "up", instant=True)],
                width=6,
                steps=thresholds(("red", None), ("green", 1)),
            ),
            timeseries(
                "Requests per second by method",
                "gRPC calls per second, by method.",
                [
                    target(
                        f"sum by (method) (rate({requests}[$__rate_interval]))",
                        "{{method}}",
                    )
                ],
                unit="reqps",
                stack=True,
            ),
            timeseries(
                "Requests per second by status code",
                "gRPC calls per second, by status code (OK, NOT_FOUND, INTERNAL, …).",
                [target(f"sum by (code) (rate({requests}[$__rate_interval]))", "{{code}}")],
                unit="reqps",
                stack=True,
            ),
            Row("Errors"),
            timeseries(
                "Server-error ratio by method",
                "Share of each method's calls that ended in a server error.",
                [
                    target(
                        zero_ratio(
                            f"sum by (method) (rate({server_errors}[$__rate_interval]))",
                            f"sum by (method) (rate({requests}[$__rate_interval]))",
                        ),
                        "{{method}}",
                    )
                ],
                unit="percentunit",
                steps=thresholds(("green", None), ("red", 0.05)),
            ),
            timeseries(
                "Non-OK calls per second",
                "Every call that did not end OK, by method and code (client errors included).",
                [
                    target(
                        f'sum by (method, code) (rate({requests}{{code!="OK"}}[$__rate_interval]))',
                        "{{method}} {{code}}",
                    )
                ],
                unit="reqps",
            ),
            Row("Duration"),
            timeseries(
                "Latency quantiles",
                "Call handling time over all methods.",
                [target(quantile(q), f"p{round(q * 100)}") for q in (0.5, 0.9, 0.99)],
                unit="s",
            ),
            timeseries(
                "p99 latency by method",
                "99th percentile of call handling time per method.",
                [target(quantile(0.99, ", method"), "{{method}}")],
                unit="s",
            ),
            Row("Saturation"),
            timeseries(
                "DB connections in use",
                "Connections checked out of each instance's pool (compare with DB_POOL_SIZE).",
                [
                    target(
                        "sum by (instance) (township_${service}_db_pool_connections_in_use)",
                        "{{instance}}",
                    )
                ],
                width=8,
            ),
            timeseries(
                "Outbox backlog",
                "Events written by the service but not yet published to NATS.",
                [target("max(township_${service}_outbox_backlog_events)", "backlog")],
                width=8,
            ),
            timeseries(
                "Pending events by consumer",
                "Events waiting in each of the service's consumers.",
                [
                    target(
                        "max by (consumer) (township_${service}_consumer_pending_events)",
                        "{{consumer}}",
                    )
                ],
                width=8,
            ),
        ],
        variables=[service_variable()],
    )


def events() -> Json:
    """The event backbone: outboxes, publishing, consumers, redelivery and dead letters."""
    consumed = domain("events_consumed_total")
    return dashboard(
        "township-events",
        "Township / Events and outbox",
        "Transactional outboxes, published events and every consumer of every service.",
        [
            Row("Outbox"),
            timeseries(
                "Outbox backlog",
                "Events written in a service's transaction but not yet published to NATS.",
                [target(f"max by (job) ({domain('outbox_backlog_events')})", "{{job}}")],
                width=8,
            ),
            timeseries(
                "Oldest unpublished event",
                "Age of each service's oldest unpublished event. Above 60 s for 5 min pages "
                "(TownshipOutboxStuck).",
                [target(f"max by (job) ({domain('outbox_oldest_age_seconds')})", "{{job}}")],
                unit="s",
                width=8,
                steps=thresholds(("green", None), ("red", 60)),
            ),
            timeseries(
                "Events published per second",
                "Events published to JetStream, by service and event type.",
                [
                    target(
                        "sum by (job, type) "
                        f"(rate({domain('events_published_total')}[$__rate_interval]))",
                        "{{job}} {{type}}",
                    )
                ],
                unit="ops",
                width=8,
            ),
            Row("Consumers"),
            timeseries(
                "Events handled per second by result",
                "applied, duplicate (already seen: idempotency at work), ignored, retry, "
                "dead_lettered.",
                [
                    target(
                        f"sum by (job, consumer, result) (rate({consumed}[$__rate_interval]))",
                        "{{consumer}} {{result}}",
                    )
                ],
                unit="ops",
                stack=True,
            ),
            timeseries(
                "Pending events per consumer",
                "Events waiting for each consumer. Above 1000 for 10 min opens a ticket "
                "(TownshipConsumerLagHigh).",
                [
                    target(
                        f"max by (job, consumer) ({domain('consumer_pending_events')})",
                        "{{consumer}}",
                    )
                ],
                steps=thresholds(("green", None), ("red", 1000)),
            ),
            timeseries(
                "Handling p99 per consumer",
                "99th percentile of the time one event takes to handle.",
                [
                    target(
                        "histogram_quantile(0.99, sum by (job, consumer, le) (rate("
                        + domain("event_handle_duration_seconds_bucket")
                        + "[$__rate_interval])))",
                        "{{consumer}}",
                    )
                ],
                unit="s",
                width=8,
            ),
            timeseries(
                "Redeliveries per second",
                "Events received more than once (a handler failed or was too slow to ack).",
                [
                    target(
                        "sum by (job, consumer) "
                        f"(rate({domain('events_redelivered_total')}[$__rate_interval]))",
                        "{{consumer}}",
                    )
                ],
                unit="ops",
                width=8,
            ),
            bargauge(
                "Dead-lettered in the selected range",
                "Events each consumer gave up on and moved to the dead-letter subject; any "
                "increase opens a ticket (TownshipEventsDeadLettered).",
                [
                    target(
                        "sum by (job, consumer) "
                        f"(increase({domain('events_dead_lettered_total')}[$__range]))",
                        "{{job}} {{consumer}}",
                        instant=True,
                    )
                ],
                width=8,
                steps=thresholds(("green", None), ("red", 1)),
            ),
        ],
    )


def service_quality() -> Json:
    """Per-town service quality: intake, on-time rate, ratings, overdue work, open cases."""
    on_time_steps = thresholds(("red", None), ("orange", 0.9), ("green", 0.97))
    return dashboard(
        "township-service-quality",
        "Township / Service quality by township",
        "Intake, on-time rate, ratings and overdue applications (permits); open and old "
        "cases (enforcement). Choose towns with the township variable.",
        [
            Row("Selected towns, selected range"),
            stat(
                "New applications",
                "Applications taken in during the selected range (growth of the all-states "
                "total of township_permits_applications).",
                [target(new_applications("", "$__range"), "new", instant=True)],
                width=4,
            ),
            stat(
                "On-time rate",
                "1 − deadline breaches ÷ new applications in the selected range (an "
                "approximation: a breach may concern an application taken in earlier).",
                [target(on_time_rate(""), "on time", instant=True)],
                unit="percentunit",
                width=4,
                steps=on_time_steps,
                decimals=1,
            ),
            stat(
                "Ratings received",
                "Ratings (好差评) submitted in the selected range, all levels.",
                [
                    target(
                        f"sum(increase(township_permits_ratings_total{{{TOWN}}}[$__range]))",
                        "ratings",
                        instant=True,
                    )
                ],
                width=4,
                decimals=0,
            ),
            stat(
                "Overdue applications",
                "Open applications past their time limit, now.",
                [
                    target(
                        f"sum({town_gauge('township_permits_applications_overdue')})",
                        "overdue",
                        instant=True,
                    )
                ],
                width=4,
                steps=thresholds(("green", None), ("red", 1)),
            ),
            stat(
                "Open cases",
                "Enforcement cases not closed, now.",
                [
                    target(
                        f"sum({town_gauge('township_enforcement_cases_open')})",
                        "open",
                        instant=True,
                    )
                ],
                width=4,
            ),
            stat(
                "Cases past 90 days",
                "Filed cases still without a decision 90 days after filing (the legal limit).",
                [
                    target(
                        f"sum({town_gauge('township_enforcement_cases_past_90_days')})",
                        "past 90 days",
                        instant=True,
                    )
                ],
                width=4,
                steps=thresholds(("green", None), ("red", 1)),
            ),
            Row("Permits (政务服务)"),
            timeseries(
                "New applications (trailing 24 h)",
                "Applications taken in during the 24 hours before each point, per town.",
                [target(new_applications("township", "1d"), "{{township}}")],
            ),
            timeseries(
                "Applications by state",
                "Applications of the selected towns in each state, now.",
                [
                    target(
                        agg(
                            "sum",
                            "state",
                            town_gauge("township_permits_applications", "township, state"),
                        ),
                        "{{state}}",
                    )
                ],
                stack=True,
            ),
            bargauge(
                "On-time rate by township",
                "1 − deadline breaches ÷ new applications in the selected range, per town.",
                [target(on_time_rate("township"), "{{township}}", instant=True)],
                unit="percentunit",
                steps=on_time_steps,
                max_value=1,
            ),
            timeseries(
                "Deadline breaches per day",
                "Time limits breached in the 24 hours before each point, per town (any "
                "increase opens a ticket: TownshipDeadlineBreachesRising).",
                [
                    target(
                        "sum by (township) "
                        f"(increase(township_permits_deadline_breaches_total{{{TOWN}}}[1d]))",
                        "{{township}}",
                    )
                ],
            ),
            bargauge(
                "Ratings by level",
                "Ratings submitted in the selected range, by level (5 levels).",
                [
                    target(
                        "sum by (level) "
                        f"(increase(township_permits_ratings_total{{{TOWN}}}[$__range]))",
                        "{{level}}",
                        instant=True,
                    )
                ],
            ),
            timeseries(
                "Ratings per day",
                "Ratings submitted in the 24 hours before each point, per town.",
                [
                    target(
                        "sum by (township) "
                        f"(increase(township_permits_ratings_total{{{TOWN}}}[1d]))",
                        "{{township}}",
                    )
                ],
            ),
            timeseries(
                "Overdue applications",
                "Open applications past their time limit, per town.",
                [target(town_gauge("township_permits_applications_overdue"), "{{township}}")],
                width=24,
            ),
            Row("Enforcement (综合行政执法)"),
            timeseries(
                "Open cases",
                "Enforcement cases not closed, per town.",
                [target(town_gauge("township_enforcement_cases_open"), "{{township}}")],
                width=8,
            ),
            timeseries(
                "Cases past 90 days",
                "Filed cases without a decision 90 days after filing, per town.",
                [target(town_gauge("township_enforcement_cases_past_90_days"), "{{township}}")],
                width=8,
                steps=thresholds(("green", None), ("red", 1)),
            ),
            timeseries(
                "Transfers to criminal justice pending",
                "Transfers (行刑衔接) waiting for their next step, per town.",
                [target(town_gauge("township_enforcement_transfers_pending"), "{{township}}")],
                width=8,
            ),
            Row("Gateway"),
            timeseries(
                "Rate-limited requests per second",
                "Requests the gateway refused under each town's rate limit.",
                [
                    target(
                        "sum by (township) "
                        f"(rate(township_gateway_rate_limited_total{{{TOWN}}}[$__rate_interval]))",
                        "{{township}}",
                    )
                ],
                unit="reqps",
                width=24,
            ),
        ],
        variables=[township_variable()],
        time_from="now-7d",
    )


DASHBOARDS: dict[str, Callable[[], Json]] = {
    "township-overview.json": overview,
    "township-service-red.json": service_red,
    "township-events.json": events,
    "township-service-quality.json": service_quality,
}


def render(board: Json) -> str:
    """Serialise one dashboard exactly as committed."""
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def build_all() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {name: render(build()) for name, build in DASHBOARDS.items()}


def main(argv: list[str] | None = None) -> int:
    """Write the dashboards (or, with --check, report stale ones)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = parser.parse_args(argv)
    stale = []
    for name, text in build_all().items():
        path = args.out / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("stale dashboards (run build_dashboards.py):", ", ".join(stale), file=sys.stderr)
        return 1
    for name in stale:
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
