"""Every PromQL expression parses and uses only metrics and labels of the contract."""

from __future__ import annotations

import re

import pytest

from .contract import Checker, Contract, load_contract
from .queries import (
    DEFAULT_VARIABLES,
    alert_rules,
    all_queries,
    dashboard_targets,
    load_dashboards,
    recording_rules,
    substitute,
)


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


@pytest.fixture(scope="module")
def checker(contract: Contract) -> Checker:
    """A checker that knows the contract and every recording rule."""
    checker = Checker(contract)
    for source, rule in recording_rules():
        errors = checker.add_recording_rule(rule["record"], rule["expr"], rule.get("labels"))
        assert not errors, f"{source}: {errors}"
    return checker


def custom_variable_values(name: str) -> list[str]:
    """The options of a custom dashboard variable (e.g. every domain service)."""
    values: set[str] = set()
    for dashboard in load_dashboards().values():
        for variable in dashboard["templating"]["list"]:
            if variable["name"] == name and variable["type"] == "custom":
                values.update(option["value"] for option in variable["options"])
    return sorted(values)


# --- the contract file -------------------------------------------------------------------


def test_contract_mirrors_contracts_md(contract: Contract) -> None:
    """Every metric name in docs/CONTRACTS.md's Metrics section is in metrics.yaml."""
    from .queries import ROOT

    text = (ROOT / "docs" / "CONTRACTS.md").read_text(encoding="utf-8")
    section = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    declared = {s.metric for s in contract.series.values()}
    for name in set(re.findall(r"`(township_[a-z0-9_<>]+)", section)):
        for service in contract.domain_services:
            expanded = name.replace("<s>", service)
            assert expanded in declared, f"{expanded} (CONTRACTS.md) missing from metrics.yaml"
    assert contract.jobs == [
        "township-permits",
        "township-enforcement",
        "township-personnel",
        "township-stationed",
        "township-gateway",
    ]


def test_histograms_expose_bucket_sum_count(contract: Contract) -> None:
    bucket = contract.series["township_gateway_http_request_duration_seconds_bucket"]
    assert "le" in bucket.labels and "0.3" in bucket.values["le"]
    assert "township_gateway_http_request_duration_seconds_count" in contract.series
    assert "township_permits_grpc_requests_total" in contract.series
    assert {"job", "instance"} <= contract.series["up"].labels


# --- rules and dashboards ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expr"),
    [(s, r["expr"]) for s, r in recording_rules() + alert_rules()],
)
def test_rule_expression_fits_the_contract(checker: Checker, source: str, expr: str) -> None:
    assert checker.check(expr) == [], source


@pytest.mark.parametrize("service", custom_variable_values("service") or ["permits"])
def test_dashboard_queries_fit_the_contract(checker: Checker, service: str) -> None:
    problems = []
    for source, expr in dashboard_targets():
        errors = checker.check(substitute(expr, {"service": service}))
        problems += [f"{source}: {e}" for e in errors]
    assert problems == []


def test_service_variable_covers_every_domain_service(contract: Contract) -> None:
    assert custom_variable_values("service") == sorted(contract.domain_services)


def test_query_variables_use_contract_metrics_and_labels(contract: Contract) -> None:
    for file_name, dashboard in load_dashboards().items():
        for variable in dashboard["templating"]["list"]:
            if variable["type"] != "query":
                continue
            query = variable["query"]
            match = re.fullmatch(r"label_values\((\w+), *(\w+)\)", query)
            assert match, f"{file_name}: ${variable['name']}: unexpected query {query!r}"
            metric, label = match.groups()
            assert metric in contract.series, f"{file_name}: unknown metric {metric}"
            assert label in contract.series[metric].labels, f"{file_name}: {metric} has no {label}"


def test_all_queries_substitutes_every_variable(checker: Checker) -> None:
    queries = all_queries()
    sources = [source for source, _ in queries]
    assert len(sources) == len(set(sources))
    assert len(queries) == len(dashboard_targets()) + len(recording_rules())
    for source, expr in queries:
        assert "$" not in expr and "[[" not in expr, source
        assert checker.check(expr) == [], source
    assert any("rules/gateway-slo.yaml" in s for s in sources)
    assert any("township-service-quality.json" in s for s in sources)


def test_all_queries_takes_overrides() -> None:
    queries = dict(all_queries({"township": "zhaowan", "service": "stationed"}))
    joined = "\n".join(queries.values())
    assert 'township=~"zhaowan"' in joined
    assert "township_stationed_grpc_requests_total" in joined
    assert "township_permits_grpc_requests_total{" not in joined.replace("|permits|", "")


def test_substitute_knows_grafana_syntaxes() -> None:
    expr = 'rate(x_${service}_total{t=~"$township", u="[[township]]"}[$__rate_interval])'
    assert substitute(expr) == (
        f'rate(x_{DEFAULT_VARIABLES["service"]}_total{{t=~".+", u=".+"}}[5m])'
    )
    with pytest.raises(KeyError):
        substitute("rate(x[$unknown_variable])")


# --- the checker catches mistakes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("sum(rate(township_permits_grpc_requests_total[5m])", "does not parse"),
        ("township_permits_grpc_requests", "unknown metric township_permits_grpc_requests"),
        ("rate(township_permits_applications_total[5m])", "unknown metric"),
        ('township_permits_grpc_requests_total{route="x"}', "has no label 'route'"),
        ("sum by (township) (township_permits_outbox_backlog_events)", "no label 'township'"),
        ('township_permits_grpc_requests_total{code="Internal"}', "takes only"),
        ('township_permits_events_consumed_total{result=~"applied|dropped"}', "takes only"),
        (
            'township_gateway_http_request_duration_seconds_bucket{le="0.2"}',
            "label le takes only",
        ),
        ("histogram_quantile(0.9, sum by (job) (rate(x_bucket[5m])))", "unknown metric"),
        (
            "histogram_quantile(0.9, sum by (job) "
            "(rate(township_permits_grpc_request_duration_seconds_bucket[5m])))",
            "needs the `le` label",
        ),
        (
            "sum by (job) (rate(township_permits_grpc_requests_total[5m]))"
            " / sum(rate(township_permits_grpc_requests_total[5m]))",
            "different labels",
        ),
        (
            "township_permits_outbox_backlog_events / on (consumer) "
            "township_permits_consumer_pending_events",
            "has no label 'consumer'",
        ),
        ('{__name__=~"township_(permits|police)_nothing"}', "no known metric matches"),
        ('{job="township-permits"}', "must name its metric"),
        ("job:township_gateway_request_errors:ratio_rate7m", "unknown metric"),
    ],
)
def test_checker_reports(checker: Checker, expr: str, expected: str) -> None:
    errors = checker.check(expr)
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(
    "expr",
    [
        "up == 0",
        'sum by (job) (up{job=~"township-.+"})',
        "job:township_gateway_request_errors:ratio_rate5m > (14.4 * 0.005)",
        'absent(up{job="township-permits"})',
        "sum by (job, instance) (rate(township_permits_grpc_requests_total[5m])) "
        "/ on (job) group_left sum by (job) (up)",
        'label_replace(up, "service", "$1", "job", "township-(.*)")',
        'township_permits_grpc_requests_total{code!="OK"} unless ignoring (code) '
        "township_permits_grpc_requests_total",
    ],
)
def test_checker_accepts(checker: Checker, expr: str) -> None:
    assert checker.check(expr) == []


# --- the code exports what the contract says ----------------------------------------------


def _contract_buckets(contract: Contract, bucket_series: str) -> list[float]:
    return [float(v) for v in contract.series[bucket_series].values["le"] if v != "+Inf"]


def test_domain_service_histograms_use_the_contract_buckets(contract: Contract) -> None:
    from township_platform.metrics import LATENCY_BUCKETS

    for series in (
        "township_permits_grpc_request_duration_seconds_bucket",
        "township_permits_event_handle_duration_seconds_bucket",
    ):
        assert _contract_buckets(contract, series) == list(LATENCY_BUCKETS), series


def test_gateway_histogram_has_the_slo_bucket(contract: Contract) -> None:
    from township_gateway.middleware import HTTP_DURATION

    bounds = [b for b in HTTP_DURATION._upper_bounds if b != float("inf")]
    series = "township_gateway_http_request_duration_seconds_bucket"
    assert bounds == _contract_buckets(contract, series)
