"""Every PromQL query the dashboards and recording rules run, ready to send to Prometheus.

``all_queries()`` returns ``(source, expr)`` pairs: each target of each panel of the
committed dashboards (deploy/observability/dashboards/*.json) and each recording rule of
deploy/observability/rules/*.yaml. Alerting rules are left out (they return data only while
they fire); ``alert_rules()`` lists them.

Grafana's variables are replaced by ``DEFAULT_VARIABLES`` unless overridden:

=====================  ===========  =====================================================
variable               default      why
=====================  ===========  =====================================================
``$service``           ``permits``  the per-service RED dashboard; pass another domain
                                    service (enforcement, personnel, stationed) to check it
``$township``          ``.+``       what "All" sends (the variable's allValue): every town
``$__rate_interval``   ``5m``       at least 4 scrape intervals at a 15 s–1 m scrape
``$__interval``        ``1m``       one graph step
``$__range``           ``1h``       the dashboard's time range, for "in the selected range"
=====================  ===========  =====================================================

A live test can run, for example,
``for source, expr in all_queries({"township": "zhaowan"}): assert prometheus.query(expr)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
DASHBOARDS_DIR = OBSERVABILITY / "dashboards"
RULES_DIR = OBSERVABILITY / "rules"

DEFAULT_VARIABLES: dict[str, str] = {
    "service": "permits",
    "township": ".+",
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
}

# $name, ${name}, ${name:format} and [[name]] — Grafana's variable syntaxes.
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


def substitute(expr: str, variables: Mapping[str, str] | None = None) -> str:
    """Replace Grafana variables in ``expr``; an unknown variable raises KeyError."""
    values = {**DEFAULT_VARIABLES, **(variables or {})}

    def replace(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g is not None)
        if name not in values:
            raise KeyError(f"no value for Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def load_dashboards() -> dict[str, dict[str, Any]]:
    """File name → dashboard, for every committed dashboard."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS_DIR.glob("*.json"))
    }


def load_rule_files() -> dict[str, dict[str, Any]]:
    """File name → parsed rule file, for every rule file."""
    return {
        path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(RULES_DIR.glob("*.yaml"))
    }


def iter_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_targets() -> list[tuple[str, str]]:
    """(source, raw expr with Grafana variables) for every dashboard target."""
    out = []
    for file_name, dashboard in load_dashboards().items():
        for panel in iter_panels(dashboard):
            for target in panel.get("targets", []):
                source = (
                    f"dashboards/{file_name}#{panel['id']} {panel['title']!r} [{target['refId']}]"
                )
                out.append((source, target["expr"]))
    return out


def recording_rules() -> list[tuple[str, dict[str, Any]]]:
    """(source, rule) for every recording rule, in evaluation order."""
    return [
        (f"rules/{file_name}: {rule['record']}", rule)
        for file_name, doc in load_rule_files().items()
        for group in doc["groups"]
        for rule in group["rules"]
        if "record" in rule
    ]


def alert_rules() -> list[tuple[str, dict[str, Any]]]:
    """(source, rule) for every alerting rule."""
    return [
        (f"rules/{file_name}: {rule['alert']}", rule)
        for file_name, doc in load_rule_files().items()
        for group in doc["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def all_queries(variables: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(source, expr) for every dashboard target and recording rule, variables substituted."""
    queries = [(source, substitute(expr, variables)) for source, expr in dashboard_targets()]
    queries += [(source, rule["expr"].strip()) for source, rule in recording_rules()]
    return queries
