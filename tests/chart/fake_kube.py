"""A tiny read-only fake of the Kubernetes API, on 127.0.0.1, for Helm's `lookup`.

No API server can be had here, yet the township-removal guard reads the running release's
townships ConfigMap with `lookup`, which `helm template` answers with nothing. With this fake
(discovery + GET of the ConfigMaps we put in it), `helm template --dry-run=server` and
`helm install --dry-run=client` run the chart exactly as against a cluster.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# group/version -> [(plural, kind, namespaced)]
RESOURCES: dict[str, list[tuple[str, str, bool]]] = {
    "v1": [
        ("configmaps", "ConfigMap", True),
        ("secrets", "Secret", True),
        ("services", "Service", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("pods", "Pod", True),
        ("namespaces", "Namespace", False),
    ],
    "apps/v1": [("deployments", "Deployment", True)],
    "batch/v1": [("jobs", "Job", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
    "monitoring.coreos.com/v1": [
        ("servicemonitors", "ServiceMonitor", True),
        ("podmonitors", "PodMonitor", True),
        ("prometheusrules", "PrometheusRule", True),
    ],
}


class FakeKube:
    """Objects by (namespace, plural, name); requests are recorded for assertions."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[str] = []

    def put_configmap(
        self, namespace: str, name: str, annotations: dict[str, str], data: dict[str, str]
    ) -> None:
        self.objects[(namespace, "configmaps", name)] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
            "data": data,
        }

    def answer(self, path: str) -> tuple[int, Any]:
        self.requests.append(path)
        p = path.split("?", 1)[0].rstrip("/")
        if p == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0"}
        if p == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"]}
        if p == "/apis":
            groups = []
            for gv in RESOURCES:
                if "/" not in gv:
                    continue
                g, v = gv.split("/")
                ver = {"groupVersion": gv, "version": v}
                groups.append({"name": g, "versions": [ver], "preferredVersion": ver})
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        gv = p.removeprefix("/api/") if p.startswith("/api/") else p.removeprefix("/apis/")
        if gv in RESOURCES:
            return 200, {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": gv,
                "resources": [
                    {
                        "name": plural,
                        "singularName": kind.lower(),
                        "namespaced": ns,
                        "kind": kind,
                        "verbs": ["get", "list"],
                    }
                    for plural, kind, ns in RESOURCES[gv]
                ],
            }
        parts = p.split("/")
        # /api/v1/namespaces/{ns}/{plural}/{name}
        if len(parts) == 7 and parts[3] == "namespaces":
            obj = self.objects.get((parts[4], parts[5], parts[6]))
            if obj is not None:
                return 200, obj
        # /api/v1/namespaces/{ns}/{plural}  (Helm's release storage lists Secrets)
        if len(parts) == 6 and parts[3] == "namespaces":
            items = [o for (ns, pl, _), o in self.objects.items() if (ns, pl) == tuple(parts[4:6])]
            return 200, {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items}
        return 404, {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "NotFound",
            "code": 404,
        }


@contextmanager
def serve(fake: FakeKube, workdir: Path) -> Iterator[Path]:
    """Serve ``fake`` on 127.0.0.1 (free port); yield a kubeconfig file pointing at it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code, body = fake.answer(self.path)
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        kubeconfig = workdir / "kubeconfig"
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "fake",
                            "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                        }
                    ],
                    "users": [{"name": "fake", "user": {"token": "fake"}}],
                    "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
                    "current-context": "fake",
                }
            )
        )
        kubeconfig.chmod(0o600)
        yield kubeconfig
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
