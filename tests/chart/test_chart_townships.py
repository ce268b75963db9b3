"""Townships in values: each town reaches the services; malformed or removed towns are refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_helpers import (
    CHART,
    NAMESPACE,
    RELEASE,
    ROOT,
    VALUES_DIR,
    HelmError,
    Render,
    by_kind,
    named,
    run_helm,
    template_args,
)
from fake_kube import FakeKube, serve

from township_platform.towns import TownshipsConfig

FULL = f"{RELEASE}-township"
CM = f"{FULL}-townships"


def townships_doc(objs: list[dict[str, Any]], name: str = CM) -> dict[str, Any]:
    return json.loads(named(objs, "ConfigMap", name)["data"]["townships.json"])


def values_townships(*files: str) -> list[dict[str, Any]]:
    towns = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))["townships"]
    for f in files:
        towns = yaml.safe_load((VALUES_DIR / f).read_text(encoding="utf-8")).get("townships", towns)
    return towns


def test_default_towns_are_the_demo_document() -> None:
    demo = json.loads((ROOT / "config" / "townships.json").read_text(encoding="utf-8"))
    assert values_townships() == demo["townships"]


@pytest.mark.parametrize("files", [(), ("one-town.yaml",), ("three-towns.yaml",)])
def test_each_town_yields_its_config(render: Render, files: tuple[str, ...]) -> None:
    objs = render(*files)
    doc = townships_doc(objs)
    # The services' own model accepts the document, and it is the values, entry for entry.
    config = TownshipsConfig.model_validate(doc)
    want = values_townships(*files)
    assert config.slugs == [t["slug"] for t in want]
    assert doc["townships"] == want
    # Hooks read the same document (their own copy: they run before the release's objects).
    assert townships_doc(objs, f"{FULL}-hooks-townships") == doc
    cm = named(objs, "ConfigMap", CM)
    assert cm["metadata"]["annotations"]["township.platform/slugs"] == ",".join(config.slugs)
    checksum = hashlib.sha256(cm["data"]["townships.json"].encode()).hexdigest()
    # Every pod mounts it at /etc/township/townships.json and carries its checksum.
    pods = [o["spec"]["template"] for o in by_kind(objs, "Deployment") + by_kind(objs, "Job")]
    assert len(pods) == 5 + 8
    for tpl in pods:
        assert tpl["metadata"]["annotations"]["checksum/townships"] == checksum
        mounts = {m["mountPath"]: m for m in tpl["spec"]["containers"][0]["volumeMounts"]}
        assert mounts["/etc/township"]["name"] == "townships"
        vol = next(v for v in tpl["spec"]["volumes"] if v["name"] == "townships")
        assert vol["configMap"]["name"] in {CM, f"{FULL}-hooks-townships"}
        assert vol["configMap"]["items"] == [{"key": "townships.json", "path": "townships.json"}]


def test_the_new_towns_own_settings_arrive(render: Render) -> None:
    doc = townships_doc(render("three-towns.yaml"))
    qingshan = TownshipsConfig.model_validate(doc).get("qingshan")
    assert qingshan is not None
    assert qingshan.rate_limit.requests_per_second == 10.5
    assert qingshan.catalogue.extra_items == ["outdoor-advertising"]
    assert qingshan.max_bodies == 12
    assert qingshan.villages[0].code == "qs-dongcun"


def test_adding_a_town_rolls_every_pod(render: Render) -> None:
    before, after = render(), render("three-towns.yaml")
    for dep in by_kind(before, "Deployment"):
        name = dep["metadata"]["name"]
        old = dep["spec"]["template"]["metadata"]["annotations"]["checksum/townships"]
        new = named(after, "Deployment", name)["spec"]["template"]["metadata"]["annotations"]
        assert new["checksum/townships"] != old, name


# --- malformed entries: the schema refuses them, readably ------------------------------------


def write_values(tmp_path: Path, towns: list[dict[str, Any]], **extra: Any) -> str:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump({"townships": towns, **extra}, allow_unicode=True))
    return str(path)


GOOD: dict[str, Any] = {"slug": "qingshan", "name": {"zh": "青山镇", "en": "Qingshan Town"}}


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({**GOOD, "slug": "Qing Shan"}, r"/townships/0/slug': 'Qing Shan' does not match pattern"),
        ({"slug": "qingshan"}, r"/townships/0': missing property 'name'"),
        ({**GOOD, "colour": "green"}, r"/townships/0': additional properties 'colour' not allowed"),
        (
            {**GOOD, "rate_limit": {"requests_per_second": 0}},
            r"/townships/0/rate_limit/requests_per_second",
        ),
        (
            {
                **GOOD,
                "posts": [
                    {
                        "code": "clerk",
                        "name": GOOD["name"],
                        "org_unit": "office",
                        "coefficient": 1.1,
                    }
                ],
            },
            r"/townships/0/posts/0/coefficient': got number, want string",
        ),
        (
            {**GOOD, "org_units": [{"code": "x1", "name": GOOD["name"], "kind": "ministry"}]},
            r"/townships/0/org_units/0/kind'",
        ),
        ({**GOOD, "name": {"zh": "青山镇"}}, r"/townships/0/name': missing property 'en'"),
    ],
    ids=[
        "bad-slug",
        "no-name",
        "unknown-key",
        "zero-rate",
        "number-coefficient",
        "bad-kind",
        "no-en",
    ],
)
def test_schema_rejects_a_malformed_town(
    render: Render, tmp_path: Path, broken: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmError, match=message) as err:
        render(write_values(tmp_path, [broken]))
    assert "values don't meet the specifications of the schema" in str(err.value)


def test_schema_rejects_unknown_top_level_keys(render: Render) -> None:
    with pytest.raises(HelmError, match=r"additional properties 'replicaCount' not allowed"):
        render(sets=("replicaCount=3",))
    with pytest.raises(HelmError, match=r"/services': additional properties 'billing' not allowed"):
        render(sets=("services.billing.enabled=true",))


def test_duplicate_slug_is_refused(render: Render, tmp_path: Path) -> None:
    with pytest.raises(HelmError, match=r'slug "qingshan" appears more than once'):
        render(write_values(tmp_path, [GOOD, GOOD]))


# --- removing a town: needs allowTownshipRemoval (lookup of the running release) -------------


def template_against(fake: FakeKube, tmp_path: Path, helm_bin: str, env: dict[str, str],
                     *values: str, sets: tuple[str, ...] = ()) -> str:  # fmt: skip
    with serve(fake, tmp_path) as kubeconfig:
        args = [*template_args(CHART, values, sets), "--dry-run=server"]
        return run_helm(helm_bin, {**env, "KUBECONFIG": str(kubeconfig)}, args)


@pytest.fixture()
def running_three_towns() -> FakeKube:
    """A cluster whose release runs zhaowan, bailiu and qingshan."""
    fake = FakeKube()
    fake.put_configmap(
        NAMESPACE,
        CM,
        {"township.platform/slugs": "zhaowan,bailiu,qingshan"},
        {"townships.json": "{}"},
    )
    return fake


def test_removing_a_town_fails_without_the_flag(
    running_three_towns: FakeKube, tmp_path: Path, helm_bin: str, helm_env: dict[str, str]
) -> None:
    with pytest.raises(HelmError, match=r"would remove qingshan .*allowTownshipRemoval=true"):
        template_against(running_three_towns, tmp_path, helm_bin, helm_env)
    assert f"/api/v1/namespaces/{NAMESPACE}/configmaps/{CM}" in running_three_towns.requests


def test_removing_a_town_with_the_flag(
    running_three_towns: FakeKube, tmp_path: Path, helm_bin: str, helm_env: dict[str, str]
) -> None:
    out = template_against(running_three_towns, tmp_path, helm_bin, helm_env,
                           sets=("allowTownshipRemoval=true",))  # fmt: skip
    assert "kind: Deployment" in out


def test_keeping_or_adding_towns_needs_no_flag(
    running_three_towns: FakeKube, tmp_path: Path, helm_bin: str, helm_env: dict[str, str]
) -> None:
    out = template_against(running_three_towns, tmp_path, helm_bin, helm_env, "three-towns.yaml")
    assert "qingshan" in out
    # First install: no ConfigMap in the cluster, nothing to compare with.
    assert "kind: Deployment" in template_against(FakeKube(), tmp_path, helm_bin, helm_env)


def test_notes(tmp_path: Path, helm_bin: str, helm_env: dict[str, str]) -> None:
    """NOTES.txt, through a client-side dry-run install against the fake API."""
    with serve(FakeKube(), tmp_path) as kubeconfig:
        args = ["install", RELEASE, str(CHART), "-n", NAMESPACE, "--dry-run=client"]
        args += ["--disable-openapi-validation", "-f", str(VALUES_DIR / "three-towns.yaml")]
        out = run_helm(helm_bin, {**helm_env, "KUBECONFIG": str(kubeconfig)}, args)
    notes = out[out.index("NOTES:") :]
    for slug in ["zhaowan", "bailiu", "qingshan"]:
        assert f"- {slug}" in notes
    assert f"port-forward svc/{FULL}-gateway 8080:8080" in notes
    assert f"helm test {RELEASE}" in notes
