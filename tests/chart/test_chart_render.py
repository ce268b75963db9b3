"""The township chart renders valid, complete objects for every value set.

helm lint --strict; helm template for the default values and for one town, three towns and
everything enabled; strict OpenAPI validation of every object for Kubernetes 1.30 and the
newest version kubernetes-validate knows; our own checks for the Prometheus Operator kinds.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest
from chart_helpers import (
    CHART,
    NAMESPACE,
    RELEASE,
    ROOT,
    VALUE_SETS,
    VALUES_DIR,
    HelmError,
    Render,
    by_kind,
    named,
    run_helm,
)
from kubernetes_validate import utils as kv_utils

KUBE_VERSIONS = ["1.30.0", kv_utils.latest_version()]
CRD_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
DOMAINS = ["permits", "enforcement", "personnel", "stationed"]
COMPONENTS = [*DOMAINS, "gateway"]
FULL = f"{RELEASE}-township"


def test_lint_strict(helm_bin: str, helm_env: dict[str, str]) -> None:
    for files in VALUE_SETS.values():
        args = ["lint", "--strict", str(CHART)]
        for f in files:
            args += ["-f", str(VALUES_DIR / f)]
        out = run_helm(helm_bin, helm_env, args)
        assert "0 chart(s) failed" in out, out


@pytest.fixture(scope="module")
def cached_schemas() -> Iterator[None]:
    """kubernetes-validate re-reads its JSON schemas for every object: read each file once."""
    original = kv_utils.schema_contents
    kv_utils.schema_contents = functools.lru_cache(maxsize=None)(original)
    yield
    kv_utils.schema_contents = original


@pytest.mark.usefixtures("cached_schemas")
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_object_is_valid_kubernetes(
    render: Render, value_set: str, kube_version: str
) -> None:
    objs = render(*VALUE_SETS[value_set], kube_version=kube_version)
    assert objs, "nothing rendered"
    errors = []
    for obj in objs:
        if obj["kind"] in CRD_KINDS:
            continue  # checked by test_prometheus_operator_objects
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {e.message}")
    assert not errors, "\n".join(errors)


def test_the_validator_catches_an_unknown_field(render: Render) -> None:
    """Proof the strict validation above bites: a misspelt field is an error."""
    dep = json.loads(json.dumps(named(render(), "Deployment", f"{FULL}-permits")))
    dep["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, KUBE_VERSIONS[0], strict=True)


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_objects_per_component(render: Render, value_set: str) -> None:
    objs = render(*VALUE_SETS[value_set])
    everything = value_set == "everything"
    for name in COMPONENTS:
        for kind in ["Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"]:
            named(objs, kind, f"{FULL}-{name}")
        named(objs, "NetworkPolicy", f"{FULL}-{name}")
        hpa = [
            o
            for o in by_kind(objs, "HorizontalPodAutoscaler")
            if o["metadata"]["name"] == f"{FULL}-{name}"
        ]
        dep = named(objs, "Deployment", f"{FULL}-{name}")
        if everything:
            assert len(hpa) == 1
            assert "replicas" not in dep["spec"], "an HPA owns replicas"
        else:
            assert not hpa
            assert dep["spec"]["replicas"] == 2
    # Every object sits in the release namespace; no Secret is ever rendered.
    for o in objs:
        assert o["metadata"].get("namespace") == NAMESPACE, o["metadata"]["name"]
    assert not by_kind(objs, "Secret")


def test_images_follow_the_global_registry_and_tag(render: Render) -> None:
    objs = render(sets=("global.image.registry=registry.example.org/x", "global.image.tag=1.2.3"))
    for name in COMPONENTS:
        c = named(objs, "Deployment", f"{FULL}-{name}")["spec"]["template"]["spec"]["containers"][0]
        assert c["image"] == f"registry.example.org/x/township-{name}:1.2.3"
    digest = "sha256:" + "a" * 64
    objs = render(sets=(f"services.permits.image.digest={digest}",))
    c = named(objs, "Deployment", f"{FULL}-permits")["spec"]["template"]["spec"]["containers"][0]
    assert c["image"].endswith(f"/township-permits@{digest}")


def test_probes(render: Render) -> None:
    objs = render()
    for name in COMPONENTS:
        c = named(objs, "Deployment", f"{FULL}-{name}")["spec"]["template"]["spec"]["containers"][0]
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"]:
            if name == "gateway":
                path = "/readyz" if probe == "readinessProbe" else "/healthz"
                assert c[probe]["httpGet"] == {"path": path, "port": "http"}
            elif probe == "readinessProbe":
                # "": ready only once the service has reached its database
                assert c[probe]["grpc"] == {"port": 50051}, "native gRPC probe"
            else:
                # alive while the process runs: a late database never restarts the pod
                assert c[probe]["grpc"] == {"port": 50051, "service": "liveness"}


def test_topology_spread_and_rollout(render: Render) -> None:
    for name in COMPONENTS:
        spec = named(render(), "Deployment", f"{FULL}-{name}")["spec"]
        keys = {t["topologyKey"] for t in spec["template"]["spec"]["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


# --- environment contract (docs/CONTRACTS.md) ------------------------------------------------

DOMAIN_ENV = {
    "DATABASE_URL", "NATS_URL", "GRPC_PORT", "METRICS_PORT", "OTLP_ENDPOINT",
    "TRACE_SAMPLING_RATIO", "ENVIRONMENT", "LOG_LEVEL", "STREAM_REPLICAS", "TOWNSHIPS_FILE",
    "SHUTDOWN_GRACE_SECONDS", "SHUTDOWN_DRAIN_SECONDS", "DB_POOL_SIZE", "PRINCIPAL_KEY_FILE",
    "STREAM_MAX_AGE_HOURS", "OUTBOX_RETENTION_HOURS", "INBOX_RETENTION_HOURS",
    "IDEMPOTENCY_RETENTION_HOURS",
}  # fmt: skip
PROCESS_ENV = {"MALLOC_ARENA_MAX"}  # not ours: glibc's, set for every process
GATEWAY_ENV = {
    "HTTP_PORT", "PERMITS_ADDR", "ENFORCEMENT_ADDR", "PERSONNEL_ADDR", "STATIONED_ADDR",
    "JWT_ISSUER", "JWT_AUDIENCE", "TOWNSHIPS_FILE", "OTLP_ENDPOINT", "TRACE_SAMPLING_RATIO",
    "ENVIRONMENT", "LOG_LEVEL", "DEV_MODE", "RPC_TIMEOUT_SECONDS",
    "SHUTDOWN_GRACE_SECONDS",  # CommonSettings (township_platform.config), every process
    "SHUTDOWN_DRAIN_SECONDS", "PRINCIPAL_KEY_FILE",
    "NATS_URL",  # rateLimitSharing (on by default): the replicas share their buckets
}  # fmt: skip


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in container.get("env", [])}


def test_env_names_are_the_contracts() -> None:
    contracts = (ROOT / "docs" / "CONTRACTS.md").read_text(encoding="utf-8")
    for name in DOMAIN_ENV | GATEWAY_ENV | {"JWT_JWKS_URL", "JWT_PUBLIC_KEY_FILE"}:
        assert f"`{name}`" in contracts or f"{name}`" in contracts, name


@pytest.mark.parametrize("value_set", ["default", "one-town"])
def test_environment(render: Render, value_set: str) -> None:
    objs = render(*VALUE_SETS[value_set])
    for name in DOMAINS:
        c = named(objs, "Deployment", f"{FULL}-{name}")["spec"]["template"]["spec"]["containers"][0]
        env = env_of(c)
        prefix = f"TOWNSHIP_{name.upper()}_"
        assert {k.removeprefix(prefix) for k in env} - PROCESS_ENV == DOMAIN_ENV
        assert env["MALLOC_ARENA_MAX"]["value"] == "2"
        db = env[prefix + "DATABASE_URL"]
        assert db["valueFrom"]["secretKeyRef"] == {
            "name": "township-database",
            "key": f"{name}-url",
        }
        assert env[prefix + "TOWNSHIPS_FILE"]["value"] == "/etc/township/townships.json"
        assert env[prefix + "GRPC_PORT"]["value"] == "50051"
        assert env[prefix + "METRICS_PORT"]["value"] == "9464"
        assert c["command"] == ["python", "-m", f"township_{name}"] and c["args"] == ["serve"]
        if value_set == "one-town":
            assert env[prefix + "NATS_URL"]["valueFrom"]["secretKeyRef"]["name"] == "township-nats"
    gw = named(objs, "Deployment", f"{FULL}-gateway")["spec"]["template"]["spec"]
    env = env_of(gw["containers"][0])
    names = {k.removeprefix("TOWNSHIP_GATEWAY_") for k in env} - PROCESS_ENV
    for d in DOMAINS:
        assert env[f"TOWNSHIP_GATEWAY_{d.upper()}_ADDR"]["value"] == f"{FULL}-{d}:50051"
    assert env["TOWNSHIP_GATEWAY_DEV_MODE"]["value"] == "false"
    if value_set == "default":  # JWT public key from an existing Secret, mounted as a file
        assert names == GATEWAY_ENV | {"JWT_PUBLIC_KEY_FILE"}
        key_file = env["TOWNSHIP_GATEWAY_JWT_PUBLIC_KEY_FILE"]["value"]
        assert key_file == "/etc/township-jwt/public.pem"
        jwt = next(v for v in gw["volumes"] if v["name"] == "jwt")
        assert jwt["secret"]["secretName"] == "township-gateway-jwt"
    else:  # JWKS URL
        assert names == GATEWAY_ENV | {"JWT_JWKS_URL"}
        assert all(v["name"] != "jwt" for v in gw["volumes"])
        # the same NATS as the services, from the same Secret
        nats = env["TOWNSHIP_GATEWAY_NATS_URL"]["valueFrom"]["secretKeyRef"]
        assert nats["name"] == "township-nats"


def test_retention_reaches_every_service_and_a_short_inbox_is_refused(render: Render) -> None:
    objs = render(sets=("retention.inboxHours=500",))
    for name in DOMAINS:
        c = named(objs, "Deployment", f"{FULL}-{name}")["spec"]["template"]["spec"]["containers"][0]
        env = env_of(c)
        prefix = f"TOWNSHIP_{name.upper()}_"
        assert env[prefix + "INBOX_RETENTION_HOURS"]["value"] == "500"
        assert env[prefix + "STREAM_MAX_AGE_HOURS"]["value"] == "168"
    with pytest.raises(HelmError, match=r"retention\.inboxHours must exceed"):
        render(sets=("retention.inboxHours=100",))


def test_gateway_limits_alone_when_rate_limit_sharing_is_off(render: Render) -> None:
    objs = render(sets=("services.gateway.rateLimitSharing=false",))
    gw = named(objs, "Deployment", f"{FULL}-gateway")["spec"]["template"]["spec"]
    assert "TOWNSHIP_GATEWAY_NATS_URL" not in env_of(gw["containers"][0])


# --- hooks -----------------------------------------------------------------------------------


def test_migrate_and_seed_hooks(render: Render) -> None:
    objs = render()
    for name in DOMAINS:
        for job, events in [
            ("migrate", "pre-install,pre-upgrade"),
            ("seed", "post-install,post-upgrade"),
        ]:
            o = named(objs, "Job", f"{FULL}-{job}-{name}")
            assert o["metadata"]["annotations"]["helm.sh/hook"] == events
            c = o["spec"]["template"]["spec"]["containers"][0]
            assert c["command"] == ["python", "-m", f"township_{name}"]
            assert c["args"] == [job]
            env = env_of(c)
            assert env[f"TOWNSHIP_{name.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            # Hooks run before the release's objects exist: own ConfigMap and ServiceAccount.
            vol = next(
                v for v in o["spec"]["template"]["spec"]["volumes"] if v["name"] == "townships"
            )
            hook_cm = named(objs, "ConfigMap", vol["configMap"]["name"])
            assert "pre-install" in hook_cm["metadata"]["annotations"]["helm.sh/hook"]
            sa = named(objs, "ServiceAccount", o["spec"]["template"]["spec"]["serviceAccountName"])
            assert "pre-install" in sa["metadata"]["annotations"]["helm.sh/hook"]
            hw = int(sa["metadata"]["annotations"]["helm.sh/hook-weight"])
            assert hw < int(o["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert not [o for o in by_kind(objs, "Job") if "gateway" in o["metadata"]["name"]]
    assert not by_kind(
        render(sets=("jobs.migrate.enabled=false", "jobs.seed.enabled=false")), "Job"
    )


def test_helm_test_pod_checks_readyz_and_the_public_catalogue(render: Render) -> None:
    pod = named(render(), "Pod", f"{FULL}-test-gateway")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    assert "/readyz" in script
    assert "/public/v1/townships/zhaowan/catalogue" in script
    assert f"http://{FULL}-gateway:8080" in script
    pod = named(
        render("three-towns.yaml", sets=("tests.township=qingshan",)), "Pod", f"{FULL}-test-gateway"
    )
    assert "/public/v1/townships/qingshan/catalogue" in pod["spec"]["containers"][0]["command"][-1]


# --- Prometheus Operator objects (kubernetes-validate has no schema for CRDs) ----------------

DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",  # noqa: E501
}
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": LABELS,
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "operator"],
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},  # noqa: E501
                   "namespace": {"type": "string"}, "labels": LABELS, "annotations": LABELS},
}  # fmt: skip
ENDPOINT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["port"],
    "properties": {"port": {"type": "string"}, "path": {"type": "string", "pattern": "^/"},
                   "interval": DURATION, "scrapeTimeout": DURATION, "scheme": {"enum": ["http", "https"]}},  # noqa: E501
}  # fmt: skip
NS_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": {"type": "string"}}},  # noqa: E501
}  # fmt: skip


def crd_schema(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "kind": {"const": kind},
            "metadata": METADATA,
            "spec": spec,
        },
    }


RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["expr"],
    "oneOf": [{"required": ["record"]}, {"required": ["alert"]}],
    "properties": {
        "record": {"type": "string", "pattern": r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"},
        "alert": {"type": "string", "minLength": 1},
        "expr": {"type": ["string", "integer"]},
        "for": DURATION,
        "keep_firing_for": DURATION,
        "labels": LABELS,
        "annotations": LABELS,
    },
}
CRD_SCHEMAS = {
    "ServiceMonitor": crd_schema("ServiceMonitor", {
        "type": "object", "additionalProperties": False, "required": ["selector", "endpoints"],
        "properties": {"selector": SELECTOR, "namespaceSelector": NS_SELECTOR,
                       "jobLabel": {"type": "string"},
                       "endpoints": {"type": "array", "minItems": 1, "items": ENDPOINT}},
    }),
    "PodMonitor": crd_schema("PodMonitor", {
        "type": "object", "additionalProperties": False, "required": ["selector", "podMetricsEndpoints"],  # noqa: E501
        "properties": {"selector": SELECTOR, "namespaceSelector": NS_SELECTOR,
                       "jobLabel": {"type": "string"},
                       "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": ENDPOINT}},
    }),
    "PrometheusRule": crd_schema("PrometheusRule", {
        "type": "object", "additionalProperties": False, "required": ["groups"],
        "properties": {"groups": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "rules"],
            "properties": {"name": {"type": "string", "minLength": 1}, "interval": DURATION,
                           "limit": {"type": "integer"},
                           "rules": {"type": "array", "items": RULE}}}}},
    }),
}  # fmt: skip


def check_prometheus_operator_objects(objs: list[dict[str, Any]]) -> list[str]:
    import jsonschema
    import promql_parser

    errors = []
    for o in objs:
        if o["kind"] not in CRD_SCHEMAS:
            continue
        where = f"{o['kind']}/{o['metadata']['name']}"
        v = jsonschema.Draft202012Validator(CRD_SCHEMAS[o["kind"]])
        errors += [
            f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(o)
        ]
        if o["kind"] == "PrometheusRule":
            for g in o["spec"].get("groups", []):
                for r in g.get("rules", []):
                    try:
                        promql_parser.parse(str(r.get("expr", "")))
                    except Exception as e:  # the parser raises ValueError-like errors
                        errors.append(f"{where}: {r.get('record') or r.get('alert')}: {e}")
    return errors


def test_prometheus_operator_objects(render: Render) -> None:
    objs = render("everything.yaml")
    kinds = {o["kind"] for o in objs}
    assert {"ServiceMonitor", "PodMonitor"} <= kinds
    assert check_prometheus_operator_objects(objs) == []
    # The monitors select exactly the release's component pods / Services, and their ports.
    sm = by_kind(objs, "ServiceMonitor")[0]
    assert {e["port"] for e in sm["spec"]["endpoints"]} == {"metrics", "http"}
    svc_ports = {p["name"] for s in by_kind(objs, "Service") for p in s["spec"]["ports"]}
    assert {"metrics", "http"} <= svc_ports
    assert not ({"ServiceMonitor", "PodMonitor", "PrometheusRule"} & {o["kind"] for o in render()})
    # Prometheus job = "township-<service>" whatever the release name (deploy/observability
    # rules and dashboards select on it): the monitors take it from a label we set.
    for mon in by_kind(objs, "ServiceMonitor") + by_kind(objs, "PodMonitor"):
        assert mon["spec"]["jobLabel"] == "township.platform/job"
    for name in COMPONENTS:
        svc = named(objs, "Service", f"{FULL}-{name}")
        pod = named(objs, "Deployment", f"{FULL}-{name}")["spec"]["template"]
        assert svc["metadata"]["labels"]["township.platform/job"] == f"township-{name}"
        assert pod["metadata"]["labels"]["township.platform/job"] == f"township-{name}"


RULE_FIXTURE = """\
groups:
  - name: township-permits
    rules:
      - record: township:permits_grpc_requests:rate5m
        expr: sum by (method) (rate(township_permits_grpc_requests_total[5m]))
      - alert: TownshipPermitsOutboxBacklog
        expr: township_permits_outbox_backlog_events > 1000
        for: 10m
        labels: {severity: warning}
        annotations: {summary: Outbox backlog}
"""


def test_rules_and_dashboards_from_chart_files(chart_copy: Any, render: Render) -> None:
    """The templates turn files/observability/* into valid objects (fixture files)."""
    files = chart_copy / "files" / "observability"
    (files / "rules" / "permits_slo.yaml").write_text(RULE_FIXTURE)
    (files / "dashboards" / "township-overview.json").write_text(
        json.dumps({"title": "T", "uid": "t", "panels": []})
    )
    objs = render("everything.yaml", chart=chart_copy)
    rule = named(objs, "PrometheusRule", f"{FULL}-permits-slo")
    assert rule["spec"]["groups"][0]["rules"][1]["alert"] == "TownshipPermitsOutboxBacklog"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert check_prometheus_operator_objects(objs) == []
    cm = named(objs, "ConfigMap", f"{FULL}-dashboard-township-overview")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(cm["data"]["township-overview.json"])["uid"] == "t"
    # A broken rule is caught: a bad PromQL expression and an unknown key.
    (files / "rules" / "permits_slo.yaml").write_text(
        RULE_FIXTURE.replace("> 1000", "> > 1000").replace(
            "for: 10m", "for: 10m\n        severity: x"
        )
    )
    errors = check_prometheus_operator_objects(render("everything.yaml", chart=chart_copy))
    assert any("TownshipPermitsOutboxBacklog" in e for e in errors), errors
    assert any("severity" in e for e in errors), errors


def test_real_rules_and_dashboards_render(render: Render) -> None:
    """Whatever deploy/observability holds (copied into the chart) renders valid objects."""
    objs = render("everything.yaml")
    assert check_prometheus_operator_objects(objs) == []
    rules = sorted((CHART / "files" / "observability" / "rules").glob("*.yaml"))
    dashboards = sorted((CHART / "files" / "observability" / "dashboards").glob("*.json"))
    assert len(by_kind(objs, "PrometheusRule")) == len(rules)
    dash_cms = [o for o in by_kind(objs, "ConfigMap") if "-dashboard-" in o["metadata"]["name"]]
    assert len(dash_cms) == len(dashboards)
    for cm in dash_cms:
        for body in cm["data"].values():
            json.loads(body)


def test_observability_files_are_the_deploy_observability_ones() -> None:
    """files/observability/ is a copy of deploy/observability/ (Helm reads nothing outside the
    chart). Out of sync? Run `make chart-sync`."""
    src = ROOT / "deploy" / "observability"
    dst = CHART / "files" / "observability"
    for sub, pattern in [("rules", "*.yaml"), ("dashboards", "*.json")]:
        want = (
            {p.name: p.read_bytes() for p in sorted((src / sub).glob(pattern))}
            if (src / sub).is_dir()
            else {}
        )
        have = {p.name: p.read_bytes() for p in sorted((dst / sub).glob(pattern))}
        assert sorted(have) == sorted(want), (
            f"{sub}: chart has {sorted(have)}, deploy/observability has {sorted(want)}; run `make chart-sync`"  # noqa: E501
        )
        for name in want:
            assert have[name] == want[name], f"{sub}/{name} differs; run `make chart-sync`"


def test_otlp_settings_reach_every_component(render: Render) -> None:
    objs = render(
        sets=(
            "observability.otlp.endpoint=http://otel.example:4317",
            "observability.otlp.samplingRatio=1",
        )
    )
    for name in COMPONENTS:
        env = env_of(
            named(objs, "Deployment", f"{FULL}-{name}")["spec"]["template"]["spec"]["containers"][0]
        )
        p = f"TOWNSHIP_{name.upper()}_"
        assert env[p + "OTLP_ENDPOINT"]["value"] == "http://otel.example:4317"
        assert env[p + "TRACE_SAMPLING_RATIO"]["value"] == "1"


def test_gateway_needs_a_jwt_key_source(render: Render) -> None:
    with pytest.raises(HelmError, match=r"jwt"):
        render(sets=("services.gateway.jwt.existingSecret=", "services.gateway.jwt.jwksUrl="))


def test_no_plain_secret_in_values() -> None:
    """Values name Secrets; they never hold a password or a URL with credentials."""
    text = (CHART / "values.yaml").read_text(encoding="utf-8")
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), "credentials in a URL"
    assert not re.search(r"(?i)^\s*(password|token|secret)\s*:\s*\S", text, re.M)


def test_every_pod_mounts_the_principal_signing_key(render: Render) -> None:
    """Gateway and services share the key that signs principals; none without it."""
    objs = render(*VALUE_SETS["default"])
    for name in (*DOMAINS, "gateway"):
        spec = named(objs, "Deployment", f"{FULL}-{name}")["spec"]["template"]["spec"]
        volume = next(v for v in spec["volumes"] if v["name"] == "principal-key")
        assert volume["secret"]["secretName"] == "township-principal-key"
        container = spec["containers"][0]
        mount = next(m for m in container["volumeMounts"] if m["name"] == "principal-key")
        assert mount["readOnly"] is True
        env = env_of(container)
        key_file = env[f"TOWNSHIP_{name.upper()}_PRINCIPAL_KEY_FILE"]["value"]
        assert key_file == f"{mount['mountPath']}/key"
    unsigned = render(*VALUE_SETS["default"], sets=("principalSigning.existingSecret=",))
    for name in (*DOMAINS, "gateway"):
        spec = named(unsigned, "Deployment", f"{FULL}-{name}")["spec"]["template"]["spec"]
        assert all(v["name"] != "principal-key" for v in spec["volumes"])
        env = env_of(spec["containers"][0])
        assert f"TOWNSHIP_{name.upper()}_PRINCIPAL_KEY_FILE" not in env
