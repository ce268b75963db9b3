"""Alerting and SLO rules: promtool check/test, conventions, runbook links."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .queries import OBSERVABILITY, ROOT, RULES_DIR, alert_rules, load_rule_files, recording_rules

TESTS_DIR = OBSERVABILITY / "tests"
RULE_FILES = sorted(RULES_DIR.glob("*.yaml"))
TEST_FILES = sorted(TESTS_DIR.glob("*.yaml"))
OPERATE_DOC = ROOT / "README.md"
RUNBOOK_BASE = "https://github.com/example/township/blob/main/README.md"
SEVERITIES = {"page", "ticket"}


def run(*args: str | Path, cwd: Path = OBSERVABILITY) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output."""
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="session")
def unit_test_results(promtool: str) -> dict[str, subprocess.CompletedProcess[str]]:
    """`promtool test rules` of every test file, run in parallel (the slowest sets the pace)."""
    procs = {
        path.name: subprocess.Popen(
            [promtool, "test", "rules", path.name],
            cwd=TESTS_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for path in TEST_FILES
    }
    results = {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
    return results


# --- promtool -----------------------------------------------------------------------------


def test_rule_files_pass_promtool_check(promtool: str) -> None:
    assert RULE_FILES, "no rule files"
    result = run(promtool, "check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", [p.name for p in TEST_FILES])
def test_promtool_unit_tests_pass(
    test_file: str, unit_test_results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = unit_test_results[test_file]
    assert result.returncode == 0, result.stdout


def test_promtool_rejects_a_broken_expression(promtool: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "broken",
                        "rules": [
                            {
                                "alert": "TownshipBroken",
                                "expr": "sum(rate(township_permits_grpc_requests_total[5m]) > 1",
                                "labels": {"severity": "page"},
                            }
                        ],
                    }
                ]
            }
        )
    )
    result = run(promtool, "check", "rules", bad)
    assert result.returncode != 0
    assert "parse error" in (result.stdout + result.stderr)


def test_promtool_unit_tests_catch_a_weakened_alert(promtool: str, tmp_path: Path) -> None:
    """The committed tests fail against a rule whose threshold was changed: they bite."""
    rules = tmp_path / "rules"
    tests = tmp_path / "tests"
    shutil.copytree(RULES_DIR, rules)
    shutil.copytree(TESTS_DIR, tests)
    alerts = rules / "township-alerts.yaml"
    text = alerts.read_text()
    assert '_outbox_oldest_age_seconds"}) > 60' in text
    alerts.write_text(
        text.replace('_outbox_oldest_age_seconds"}) > 60', '_outbox_oldest_age_seconds"}) > 600')
    )
    result = run(promtool, "test", "rules", "township-alerts.yaml", cwd=tests)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "TownshipOutboxStuck" in output


# --- conventions --------------------------------------------------------------------------


def test_rule_files_have_groups_with_unique_names() -> None:
    names = []
    for file_name, doc in load_rule_files().items():
        assert set(doc) == {"groups"}, f"{file_name}: top level must be `groups:` only"
        names += [group["name"] for group in doc["groups"]]
    assert len(names) == len(set(names)), names


def test_recording_rule_names_follow_level_metric_operation() -> None:
    for source, rule in recording_rules():
        assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule["record"]), source


@pytest.mark.parametrize(
    ("source", "rule"), alert_rules(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_alert_has_severity_and_annotations(source: str, rule: dict[str, object]) -> None:
    name = rule["alert"]
    assert isinstance(name, str) and re.fullmatch(r"Township[A-Z][A-Za-z0-9]+", name), source
    labels = rule.get("labels") or {}
    assert isinstance(labels, dict)
    assert labels.get("severity") in SEVERITIES, f"{source}: severity must be page or ticket"
    annotations = rule.get("annotations") or {}
    assert isinstance(annotations, dict)
    for key in ("summary", "description", "runbook_url"):
        assert str(annotations.get(key, "")).strip(), f"{source}: annotation {key} missing"
    assert annotations["runbook_url"] == f"{RUNBOOK_BASE}#alert-{name.lower()}", source


def test_alert_names_are_unique() -> None:
    names = [rule["alert"] for _, rule in alert_rules()]
    assert len(names) == len(set(names)), names


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for test in doc["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {rule["alert"] for _, rule in alert_rules()}
    assert names - firing == set(), "alerts without a firing case"
    assert names - quiet == set(), "alerts without a not-firing case"
    assert (firing | quiet) - names == set(), "tests of alerts that do not exist"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def test_runbook_links_point_at_headings_of_the_operate_doc() -> None:
    headings = re.findall(
        r"^#{1,6} (.+)$", OPERATE_DOC.read_text(encoding="utf-8"), flags=re.MULTILINE
    )
    anchors = {github_anchor(h) for h in headings}
    assert "operate" in anchors, "README.md needs an `Operate` heading (#operate)"
    for source, rule in alert_rules():
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in anchors, f"{source}: no heading for #{anchor} in README.md"
