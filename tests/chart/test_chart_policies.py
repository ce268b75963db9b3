"""What matters in the rendered chart: restricted pods, exact network paths, a policy scan.

Each checker returns a list of violations; the tests assert it is empty for every value set,
and (to show the checker bites) non-empty for a copy broken on purpose.
"""

from __future__ import annotations

import copy
import json
import subprocess
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from chart_helpers import RELEASE, VALUE_SETS, Render, by_kind, named

FULL = f"{RELEASE}-township"
DOMAINS = ["permits", "enforcement", "personnel", "stationed"]
COMPONENTS = [*DOMAINS, "gateway"]
POD_KINDS = [*COMPONENTS, "migrate", "seed", "test"]


# --- restricted pods -------------------------------------------------------------------------


def pod_specs(objs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for o in objs:
        where = f"{o['kind']}/{o['metadata']['name']}"
        if o["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            out.append((where, o["spec"]["template"]["spec"]))
        elif o["kind"] == "Pod":
            out.append((where, o["spec"]))
    return out


def restricted_violations(objs: list[dict[str, Any]]) -> list[str]:
    """Pod Security Standard "restricted", plus our rules (read-only root, resources, no token)."""
    bad = []
    for where, spec in pod_specs(objs):
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            bad.append(f"{where}: pod runAsNonRoot")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            bad.append(f"{where}: pod seccomp RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            bad.append(f"{where}: service account token mounted")
        for key in ["hostNetwork", "hostPID", "hostIPC"]:
            if spec.get(key):
                bad.append(f"{where}: {key}")
        for v in spec.get("volumes", []):
            if "hostPath" in v:
                bad.append(f"{where}: hostPath volume {v['name']}")
        for c in spec.get("initContainers", []) + spec["containers"]:
            cw = f"{where}/{c['name']}"
            sc = c.get("securityContext", {})
            checks = {
                "allowPrivilegeEscalation false": sc.get("allowPrivilegeEscalation") is False,
                "readOnlyRootFilesystem": sc.get("readOnlyRootFilesystem") is True,
                "capabilities drop ALL, add none": sc.get("capabilities", {}).get("drop") == ["ALL"]
                and not sc.get("capabilities", {}).get("add"),
                "not privileged": not sc.get("privileged", False),
                "non-root user": sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True
                and sc.get("runAsUser", psc.get("runAsUser", 0)) != 0,
                "seccomp": sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
                in {"RuntimeDefault", "Localhost"},
                "resources": all(
                    k in c.get("resources", {}).get(part, {})
                    for part in ["requests", "limits"]
                    for k in ["cpu", "memory"]
                ),
                "no secret value inline": all(
                    "value" not in e or "URL" not in e["name"] or "DATABASE" not in e["name"]
                    for e in c.get("env", [])
                ),
            }
            bad += [f"{cw}: {name}" for name, ok in checks.items() if not ok]
    return bad


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_container_is_restricted(render: Render, value_set: str) -> None:
    objs = render(*VALUE_SETS[value_set])
    assert len(pod_specs(objs)) >= 5 + 8 + 1  # components, hook Jobs, test pod
    assert restricted_violations(objs) == []
    for o in by_kind(objs, "ServiceAccount"):
        assert o["automountServiceAccountToken"] is False, o["metadata"]["name"]


def test_restricted_checker_catches_a_broken_container(render: Render) -> None:
    objs = copy.deepcopy(render())
    dep = named(objs, "Deployment", f"{FULL}-permits")
    sc = dep["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    sc["readOnlyRootFilesystem"] = False
    sc["capabilities"] = {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    job = named(objs, "Job", f"{FULL}-seed-permits")
    job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    bad = restricted_violations(objs)
    assert f"Deployment/{FULL}-permits/permits: readOnlyRootFilesystem" in bad
    assert f"Deployment/{FULL}-permits/permits: capabilities drop ALL, add none" in bad
    assert f"Job/{FULL}-seed-permits: pod runAsNonRoot" in bad


# --- network paths ---------------------------------------------------------------------------

Edge = tuple[str, str, int, str]  # (from, to, port, protocol)


def external_names(values: dict[str, Any]) -> dict[str, str]:
    """Canonical JSON of each configured external peer -> its name."""
    names = {}
    for name, section in values.items():
        for peer in section.get("peers", []):
            names[json.dumps(peer, sort_keys=True)] = name
    return names


NP_DEFAULTS: dict[str, Any] = {
    "dns": {"peers": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]},  # noqa: E501
    "nats": {"peers": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "nats"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}}}]},  # noqa: E501
    "postgres": {"peers": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "township-db"}}}]},
    "otel": {"peers": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "opentelemetry-collector"}}}]},  # noqa: E501
    "prometheus": {"peers": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}]},  # noqa: E501
    "ingress": {"peers": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}}]},  # noqa: E501
    "jwks": {"peers": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]},
}  # fmt: skip


def pod_labels(kind: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "township",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": kind,
    }


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if set(selector) - {"matchLabels"}:
        raise AssertionError(f"unsupported selector {selector}")
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def peer_names(peer: dict[str, Any], externals: dict[str, str]) -> list[str]:
    """Release pod kinds a same-namespace podSelector peer selects, or the external's name."""
    if set(peer) == {"podSelector"}:
        inside = [k for k in POD_KINDS if selects(peer["podSelector"], pod_labels(k))]
        if inside:
            return inside
    key = json.dumps(peer, sort_keys=True)
    if key not in externals:
        return [f"UNKNOWN:{key}"]
    return [externals[key]]


def network_paths(objs: list[dict[str, Any]]) -> tuple[set[Edge], list[str]]:
    """The connections the policies allow, and structural problems.

    A connection between two release pods needs the egress of one and the ingress of the
    other; a connection with an external peer needs the release pod's side only.
    """
    externals = external_names(NP_DEFAULTS)
    problems: list[str] = []
    egress: set[Edge] = set()
    ingress: set[Edge] = set()
    isolated = {k: set() for k in POD_KINDS}  # type: dict[str, set[str]]
    for np in by_kind(objs, "NetworkPolicy"):
        name = np["metadata"]["name"]
        spec = np["spec"]
        targets = [k for k in POD_KINDS if selects(spec["podSelector"], pod_labels(k))]
        for k in targets:
            isolated[k] |= set(spec.get("policyTypes", []))
        for direction, rules, side in [
            ("egress", spec.get("egress", []), "to"),
            ("ingress", spec.get("ingress", []), "from"),
        ]:
            for rule in rules:
                if not rule.get(side):
                    problems.append(f"{name}: {direction} rule without peers allows everyone")
                    continue
                if not rule.get("ports"):
                    problems.append(f"{name}: {direction} rule without ports allows every port")
                    continue
                ports = [(p["port"], p.get("protocol", "TCP")) for p in rule["ports"]]
                for peer, (port, proto) in product(rule[side], ports):
                    for other in peer_names(peer, externals):
                        for t in targets:
                            if direction == "egress":
                                egress.add((t, other, port, proto))
                            else:
                                ingress.add((other, t, port, proto))
    for k, types in isolated.items():
        if types != {"Ingress", "Egress"}:
            problems.append(f"{k} pods are not isolated both ways: {sorted(types)}")
    paths = set()
    for e in egress | ingress:
        src, dst = e[0], e[1]
        internal_src, internal_dst = src in POD_KINDS, dst in POD_KINDS
        if internal_src and internal_dst:
            if e in egress and e in ingress:
                paths.add(e)
        elif (internal_src and e in egress) or (internal_dst and e in ingress):
            paths.add(e)
    return paths, problems


def expected_paths(jwks: bool = False, gateway_nats: bool = True) -> set[Edge]:
    want: set[Edge] = set()
    for k in POD_KINDS:
        want |= {(k, "dns", 53, "UDP"), (k, "dns", 53, "TCP")}
    want |= {("ingress", "gateway", 8080, "TCP"), ("prometheus", "gateway", 8080, "TCP")}
    want |= {("test", "gateway", 8080, "TCP"), ("gateway", "otel", 4317, "TCP")}
    for d in DOMAINS:
        want |= {
            ("gateway", d, 50051, "TCP"),
            ("prometheus", d, 9464, "TCP"),
            (d, "nats", 4222, "TCP"),
            (d, "postgres", 5432, "TCP"),
            (d, "otel", 4317, "TCP"),
        }
    want |= {("migrate", "postgres", 5432, "TCP"), ("seed", "postgres", 5432, "TCP")}
    want |= {("seed", "nats", 4222, "TCP")}
    if jwks:
        want.add(("gateway", "jwks", 443, "TCP"))
    if gateway_nats:  # services.gateway.rateLimitSharing: replicas share their buckets
        want.add(("gateway", "nats", 4222, "TCP"))
    return want


def test_network_policies_allow_exactly_the_designed_paths(render: Render) -> None:
    # otelCollector is called "otel" in NP_DEFAULTS; same peers as values.yaml.
    paths, problems = network_paths(render())
    assert problems == []
    assert sorted(paths - expected_paths()) == [], "allowed but not designed"
    assert sorted(expected_paths() - paths) == [], "designed but not allowed"


def test_network_policies_with_jwks_url(render: Render) -> None:
    paths, problems = network_paths(render("one-town.yaml"))
    assert problems == []
    assert paths == expected_paths(jwks=True)


def test_network_policies_without_rate_limit_sharing(render: Render) -> None:
    paths, problems = network_paths(render(sets=("services.gateway.rateLimitSharing=false",)))
    assert problems == []
    assert paths == expected_paths(gateway_nats=False)


def test_network_checker_catches_an_extra_path(render: Render) -> None:
    objs = copy.deepcopy(render())
    np = named(objs, "NetworkPolicy", f"{FULL}-permits")
    np["spec"]["egress"].append(
        {
            "to": [{"podSelector": {"matchLabels": pod_labels("personnel")}}],
            "ports": [{"port": 50051}],
        }
    )
    named(objs, "NetworkPolicy", f"{FULL}-personnel")["spec"]["ingress"].append(
        {
            "from": [{"podSelector": {"matchLabels": pod_labels("permits")}}],
            "ports": [{"port": 50051}],
        }
    )
    np["spec"]["egress"].append({"ports": [{"port": 443}]})  # no peers: anywhere
    paths, problems = network_paths(objs)
    assert ("permits", "personnel", 50051, "TCP") in paths - expected_paths()
    assert any("without peers" in p for p in problems)


def test_network_policies_off(render: Render) -> None:
    assert not by_kind(render(sets=("networkPolicy.enabled=false",)), "NetworkPolicy")


# --- policy scan -----------------------------------------------------------------------------

# Checks we accept, each with its reason. Anything else checkov reports fails the test.
CHECKOV_SKIPS = {
    # "Image Pull Policy should be Always": release tags are immutable and a digest can be
    # pinned per service (services.<name>.image.digest); IfNotPresent avoids a registry round
    # trip on every pod start. Operators wanting Always set global.image.pullPolicy.
    "CKV_K8S_15": "immutable tags / optional digest pinning",
    # "Image should use digest": digests are supported (image.digest) but the release process
    # publishes tags; the default values cannot know a digest in advance.
    "CKV_K8S_43": "digest optional, set per service",
    # "Prefer secrets as files over env": DATABASE_URL / NATS_URL are environment variables
    # by contract (docs/CONTRACTS.md, pydantic-settings). They come from secretKeyRef to an
    # existing Secret, never from values; the JWT key, which can be a file, is one.
    "CKV_K8S_35": "env vars fixed by the services' contract",
}


def test_checkov_finds_nothing_unjustified(
    checkov_bin: str, render_text: Any, tmp_path: Path
) -> None:
    files = []
    for name, values in VALUE_SETS.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(render_text(*values))
        files.append(path)
    cmd = [checkov_bin, "--framework", "kubernetes", "--skip-download", "--compact", "--quiet"]
    cmd += ["--output", "json", "--skip-check", ",".join(CHECKOV_SKIPS)]
    for f in files:
        cmd += ["-f", str(f)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"checkov said: {proc.stdout[-2000:]} {proc.stderr[-2000:]}") from None
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{f['check_id']} {f['check_name']}: {f['resource']} ({Path(f['file_path']).name})"
        for r in reports
        for f in r.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert passed > 500, "checkov checked (almost) nothing"
    assert failed == [], "\n".join(failed)
