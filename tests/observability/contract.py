"""The metrics contract (deploy/observability/metrics.yaml) and a PromQL checker against it.

``Checker.check(expr)`` parses one expression with promql_parser and reports, as readable
strings, every metric that is not in the contract (nor ``up``, nor a recording rule) and
every label used in a selector, ``by``/``without``, ``on``/``ignoring`` or ``group_*`` that
the series at that point do not carry. It infers the labels of each sub-expression the way
Prometheus builds its result, so ``sum by (job) (…) / sum(…)`` (which matches nothing) is
reported too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser as pq
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
METRICS_FILE = OBSERVABILITY / "metrics.yaml"

Labels = frozenset[str]

# Functions whose result keeps no label of their arguments, or has none (scalars).
_SCALAR_FUNCTIONS = {"scalar", "time", "pi"}
_ARITHMETIC = {"+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<="}


@dataclass(frozen=True)
class Series:
    """One exposed series name: its labels (target labels included) and known values."""

    name: str
    metric: str
    type: str
    labels: Labels
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Contract:
    """Every series the services expose, by exposition name."""

    series: dict[str, Series]
    target_labels: Labels
    domain_services: tuple[str, ...]
    job_label: str

    @property
    def jobs(self) -> list[str]:
        """The scrape job of every process (``township-<service>``)."""
        services = [*self.domain_services, "gateway"]
        return [self.job_label.format(service=s) for s in services]


def load_contract(path: Path = METRICS_FILE) -> Contract:
    """Read metrics.yaml and expand it to exposed series (histograms → _bucket/_sum/_count)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    target_labels = frozenset(doc["target_labels"])
    services = tuple(doc["domain_services"])
    entries: list[dict[str, Any]] = []
    for entry in doc["per_domain_service"]:
        for service in services:
            entries.append({**entry, "name": entry["name"].format(service=service)})
    entries += doc["gateway"] + doc["business"]

    series: dict[str, Series] = {}

    def add(s: Series) -> None:
        if s.name in series:
            raise ValueError(f"{path}: {s.name} is declared twice")
        series[s.name] = s

    for entry in entries:
        name, kind = entry["name"], entry["type"]
        labels = frozenset(entry["labels"]) | target_labels
        values = {k: tuple(str(v) for v in vs) for k, vs in entry.get("values", {}).items()}
        unknown = set(values) - labels
        if unknown:
            raise ValueError(f"{path}: {name} lists values of undeclared labels {unknown}")
        if kind == "counter":
            if not name.endswith("_total"):
                raise ValueError(f"{path}: counter {name} must end in _total")
            add(Series(name, name, kind, labels, values))
        elif kind == "gauge":
            add(Series(name, name, kind, labels, values))
        elif kind == "histogram":
            buckets = tuple(float(b) for b in entry.get("buckets", ()))
            le = (*(_format_le(b) for b in buckets), "+Inf")
            add(Series(f"{name}_bucket", name, kind, labels | {"le"}, {**values, "le": le}))
            add(Series(f"{name}_sum", name, kind, labels, values))
            add(Series(f"{name}_count", name, kind, labels, values))
        else:
            raise ValueError(f"{path}: {name} has unknown type {kind!r}")
    add(Series("up", "up", "gauge", target_labels))
    return Contract(series, target_labels, services, doc["job_label"])


def _format_le(bound: float) -> str:
    """``le`` as prometheus_client writes it (0.3 → "0.3", 1 → "1.0")."""
    return repr(float(bound))


class Checker:
    """Checks PromQL expressions against a contract plus the recording rules added to it."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.series: dict[str, Series] = dict(contract.series)
        self.errors: list[str] = []

    # -- public --------------------------------------------------------------------------

    def add_recording_rule(
        self, name: str, expr: str, extra_labels: Mapping[str, str] | None = None
    ) -> list[str]:
        """Check a recording rule and make its output series known to later expressions."""
        labels, errors = self._infer(expr)
        if name in self.series:
            errors.append(f"recording rule {name} redefines a known series")
        out = (labels or frozenset()) | frozenset(extra_labels or {})
        self.series[name] = Series(name, name, "recording rule", out)
        return errors

    def check(self, expr: str) -> list[str]:
        """Problems of one expression (empty when it parses and fits the contract)."""
        return self._infer(expr)[1]

    def labels(self, expr: str) -> Labels | None:
        """The labels of the expression's result (None for a scalar)."""
        return self._infer(expr)[0]

    # -- inference -----------------------------------------------------------------------

    def _infer(self, expr: str) -> tuple[Labels | None, list[str]]:
        self.errors = []
        try:
            node = pq.parse(expr)
        except ValueError as exc:
            return None, [f"does not parse: {exc}"]
        labels = self._labels(node)
        return labels, self.errors

    def _error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def _labels(self, node: Any) -> Labels | None:
        if isinstance(node, pq.VectorSelector):
            return self._selector(node)
        if isinstance(node, pq.MatrixSelector):
            return self._selector(node.vector_selector)
        if isinstance(node, pq.ParenExpr | pq.UnaryExpr | pq.SubqueryExpr):
            return self._labels(node.expr)
        if isinstance(node, pq.NumberLiteral | pq.StringLiteral):
            return None
        if isinstance(node, pq.Call):
            return self._call(node)
        if isinstance(node, pq.AggregateExpr):
            return self._aggregate(node)
        if isinstance(node, pq.BinaryExpr):
            return self._binary(node)
        self._error(f"unsupported PromQL node {type(node).__name__}")
        return frozenset()

    def _selector(self, node: pq.VectorSelector) -> Labels:
        matchers = list(node.matchers.matchers)
        names = self._metric_names(node.name, matchers)
        if not names:
            return frozenset()
        found = [self.series[n] for n in names]
        common = frozenset.intersection(*(s.labels for s in found))
        for m in matchers:
            if m.name == "__name__":
                continue
            for s in found:
                if m.name not in s.labels:
                    self._error(f"{s.name} has no label {m.name!r} (selector {node})")
                    continue
                allowed = s.values.get(m.name)
                if allowed and not _matcher_fits(m, allowed):
                    self._error(f"{s.name}{{{m}}}: label {m.name} takes only {', '.join(allowed)}")
        return common

    def _metric_names(self, name: str | None, matchers: Iterable[pq.Matcher]) -> list[str]:
        if name:
            if name not in self.series:
                self._error(f"unknown metric {name}")
                return []
            return [name]
        for m in matchers:
            if m.name != "__name__":
                continue
            if m.op == pq.MatchOp.Equal:
                return self._metric_names(m.value, [])
            if m.op == pq.MatchOp.Re:
                pattern = re.compile(m.value)
                names = sorted(n for n in self.series if pattern.fullmatch(n))
                if not names:
                    self._error(f"no known metric matches __name__=~{m.value!r}")
                return names
        self._error("a selector must name its metric (name or __name__= / =~)")
        return []

    def _call(self, node: pq.Call) -> Labels | None:
        fn = node.func.name
        args = [self._labels(a) for a in node.args]
        if fn in _SCALAR_FUNCTIONS:
            return None
        if fn == "vector":
            return frozenset()
        if fn in {"absent", "absent_over_time"}:
            selector = node.args[0]
            if isinstance(selector, pq.MatrixSelector):
                selector = selector.vector_selector
            if isinstance(selector, pq.VectorSelector):
                return frozenset(
                    m.name
                    for m in selector.matchers.matchers
                    if m.op == pq.MatchOp.Equal and m.name != "__name__"
                )
            return frozenset()
        if fn == "histogram_quantile":
            inner = args[1] or frozenset()
            if "le" not in inner:
                self._error("histogram_quantile needs the `le` label (keep it in `by`)")
            return inner - {"le"}
        if fn in {"label_replace", "label_join"}:
            inner = args[0] or frozenset()
            # label_replace(v, dst, replacement, src, regex); label_join(v, dst, sep, src...)
            dst = node.args[1].val
            sources = (
                [node.args[3].val] if fn == "label_replace" else [a.val for a in node.args[3:]]
            )
            for src in sources:
                if src and src not in inner:
                    self._error(f"{fn}: source label {src!r} is not on its input")
            return inner | {dst}
        vectors = [a for a in args if a is not None]
        return vectors[0] if vectors else None

    def _aggregate(self, node: pq.AggregateExpr) -> Labels:
        inner = self._labels(node.expr) or frozenset()
        if node.param is not None and not isinstance(node.param, pq.StringLiteral):
            self._labels(node.param)
        op = str(node.op)
        modifier = node.modifier
        if modifier is None:
            result: Labels = inner if op in {"topk", "bottomk", "limitk"} else frozenset()
        elif modifier.type == pq.AggModifierType.By:
            for label in modifier.labels:
                if label not in inner:
                    self._error(f"{op} by ({label}): its input has no label {label!r}")
            result = frozenset(modifier.labels)
            if op in {"topk", "bottomk", "limitk"}:
                result = inner
        else:
            for label in modifier.labels:
                if label not in inner:
                    self._error(f"{op} without ({label}): its input has no label {label!r}")
            result = inner - frozenset(modifier.labels)
        if op == "count_values" and isinstance(node.param, pq.StringLiteral):
            result = result | {node.param.val}
        return result

    def _binary(self, node: pq.BinaryExpr) -> Labels | None:
        lhs, rhs = self._labels(node.lhs), self._labels(node.rhs)
        op = str(node.op)
        if lhs is None or rhs is None:
            return lhs if rhs is None else rhs
        modifier = node.modifier
        matching = modifier.matching if modifier else None
        if matching is not None and matching.type == pq.LabelModifierType.Include:
            for label in matching.labels:
                for side, labels in (("left", lhs), ("right", rhs)):
                    if label not in labels:
                        self._error(f"{op} on ({label}): the {side} side has no label {label!r}")
        if op == "or":
            return lhs | rhs
        if op in {"and", "unless"}:
            return lhs
        if op in _ARITHMETIC and not (modifier and modifier.group_labels):
            if matching is None:
                if lhs != rhs:
                    self._error(
                        f"{op}: the sides carry different labels ({sorted(lhs)} vs "
                        f"{sorted(rhs)}), so no series would match; use on()/ignoring()"
                    )
            elif matching.type == pq.LabelModifierType.Exclude:
                ignored = frozenset(matching.labels)
                if lhs - ignored != rhs - ignored:
                    self._error(f"{op} ignoring(...): the sides still carry different labels")
            return lhs
        card = modifier.card if modifier else None
        group = frozenset(modifier.group_labels or []) if modifier else frozenset()
        if card == pq.VectorMatchCardinality.ManyToOne:
            for label in group - rhs:
                self._error(f"group_left({label}): the right side has no label {label!r}")
            return lhs | group
        if card == pq.VectorMatchCardinality.OneToMany:
            for label in group - lhs:
                self._error(f"group_right({label}): the left side has no label {label!r}")
            return rhs | group
        return lhs


def _matcher_fits(matcher: pq.Matcher, allowed: tuple[str, ...]) -> bool:
    """Whether an equality/regex matcher can match one of the label's declared values."""
    if matcher.op in (pq.MatchOp.Equal, pq.MatchOp.NotEqual):
        return matcher.value in allowed
    # Every alternative of a plain `a|b|c` must be a declared value (catches typos); any
    # other regex must match at least one declared value.
    if re.fullmatch(r"[\w+-]+(\|[\w+-]+)*", matcher.value):
        return all(v in allowed for v in matcher.value.split("|"))
    return any(re.fullmatch(matcher.value, v) for v in allowed)
